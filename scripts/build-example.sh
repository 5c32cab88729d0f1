#!/usr/bin/env bash
# Build the example brief shipped in content/ to output/brief.html and output/brief.pdf.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/briefgen build "$@"
