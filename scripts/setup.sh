#!/usr/bin/env bash
# Set up a machine to build (and with --test, to test) briefgen.
#
#   bash scripts/setup.sh          Debian packages WeasyPrint needs, .venv with `pip install -e .`
#   bash scripts/setup.sh --test   also Chromium, the [test] extra (pytest, pypdf, playwright) and
#                                  the npm packages of package-lock.json (axe-core)
#
# Idempotent and quick when everything is in place: Debian packages are checked with dpkg first
# (apt-get runs only when one is missing), pip runs only when pyproject.toml changed since the
# last install (its sha256 is kept in .venv/.briefgen-installed) and `npm ci` only when
# package-lock.json did (node_modules/.briefgen-installed). Runs unattended (CI=true, no input);
# as root it installs what is missing, otherwise it says what to install.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (use --test)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages ---------------------------------------------------------------------------
# WeasyPrint's libraries (libharfbuzz-subset0: fast font subsetting instead of fontTools'), the
# fonts the brief is set in (fonts-noto-core: Noto Serif/Sans with Latin, Greek and Cyrillic, Noto
# Naskh/Sans Arabic; fonts-noto-cjk: Noto Serif/Sans CJK for Chinese, Japanese, Korean; DejaVu as
# the last resort), poppler-utils (pdftoppm/pdftotext, to look at a PDF); Chromium for the
# browser tests (Debian's build, /usr/bin/chromium: no browser is ever downloaded), and Node.js
# with npm, unless they are already there, to install axe-core for the accessibility tests.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-noto-cjk
          fonts-dejavu-core poppler-utils)
if [[ $want_test == 1 ]]; then
  packages+=(chromium)
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi
python=${PYTHON:-python3}
need_venv=0
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
  need_venv=1
  # Debian's own python3 makes virtual environments only with python3-venv (ensurepip).
  if ! command -v "$python" >/dev/null 2>&1; then
    packages+=(python3 python3-venv)
  elif ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv)
  fi
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
else
  say "not a Debian system: make sure these (or their equivalents) are installed: ${packages[*]}"
fi

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing packages ${missing[*]}, and there is no apt-get here: install them by hand"
    exit 1
  fi
  if [[ $(id -u) == 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    say "missing Debian packages: ${missing[*]}"
    say "install them as root, then run this again:"
    say "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm packages (tests only) -----------------------------------------------------------------
# axe-core, at the version and checksum package-lock.json pins. `npm ci` starts node_modules/
# afresh, so it runs only when the lock changed since the last install or axe-core is gone.
if [[ $want_test == 1 ]]; then
  npm_stamp=node_modules/.briefgen-installed
  npm_digest=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f node_modules/axe-core/axe.min.js ]] || [[ ! -f $npm_stamp ]] \
     || [[ $(<"$npm_stamp") != "$npm_digest" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
      say "npm is missing: install Node.js and npm, then run this again"
      exit 1
    fi
    say "npm ci"
    log=$(mktemp "${TMPDIR:-/tmp}/briefgen-npm.XXXXXXXX")
    if ! npm ci --no-audit --no-fund --prefer-offline --loglevel=error >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      say "npm ci failed"
      exit 1
    fi
    rm -f "$log"
    printf '%s\n' "$npm_digest" >"$npm_stamp"
  fi
fi

# --- Python virtual environment ----------------------------------------------------------------
if [[ $need_venv == 1 ]]; then
  say "creating .venv with $("$python" --version 2>&1)"
  rm -rf .venv
  "$python" -m venv .venv
fi

extra=""
[[ $want_test == 1 ]] && extra="[test]"
stamp=.venv/.briefgen-installed
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
# The stamp holds "<sha256 of pyproject.toml> <base|test>"; a test install also serves a plain one.
if [[ -f $stamp ]] && read -r have_digest have_kind <"$stamp" && [[ $have_digest == "$digest" ]] \
   && { [[ $have_kind == test ]] || [[ $want_test == 0 ]]; } && [[ -x .venv/bin/briefgen ]]; then
  exit 0
fi

say "pip install -e .$extra"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# pip's and the build backend's chatter goes to a log, shown only if the install fails.
log=.venv/.briefgen-pip.log
if ! .venv/bin/python -m pip install -q -e ".$extra" >"$log" 2>&1; then
  cat "$log" >&2
  say "pip install failed (log: $log)"
  exit 1
fi
kind=base
[[ $want_test == 1 ]] && kind=test
printf '%s %s\n' "$digest" "$kind" >"$stamp"
say "done"
