#!/usr/bin/env bash
# Rewrite the reference page images of tests/test_visual.py (tests/visual/example-page-NN.png)
# from a fresh build of the example in content/. Run it when a change to the PDF's look is
# intended, look at the new images (git diff shows which pages changed), and commit them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r content "$work/content"
.venv/bin/briefgen build "$work" >/dev/null
.venv/bin/python tests/test_visual.py --refresh "$work/output/brief.pdf"
