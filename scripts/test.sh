#!/usr/bin/env bash
# Set up (with the test tools and Chromium), then run the test suite; pytest's arguments pass
# through (e.g. `bash scripts/test.sh -m "not browser" -x`). Exits with pytest's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest -q "$@"
