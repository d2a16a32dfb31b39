#!/usr/bin/env bash
# Install the Debian package built by build-deb.sh and check the installed app, outside any
# virtual environment or checkout: a clean environment (env -i), a fresh HOME, only /usr/bin and
# /bin on PATH, working directory outside the repository.
#   1. `dragoman run` captions the demo clip (the packaged offline models, no network);
#   2. the desktop app starts offscreen with the demo clip as its file argument (what the
#      desktop entry's "Open with" passes), captions it, and saves the session on SIGTERM.
#
#   sudo bash installers/linux/check-deb.sh [dist/dragoman_*.deb]
set -euo pipefail
cd "$(dirname "$0")/../.."
deb="${1:-$(ls -t dist/dragoman_*.deb | head -1)}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "./$deb"

demo=/usr/lib/dragoman/app/resources/demo/demo-en.wav
check="$(mktemp -d)"
trap 'rm -rf "$check"' EXIT
clean=(env -i "HOME=$check/home" PATH=/usr/bin:/bin LANG=C.UTF-8)
cd "$check"

echo "== dragoman run (installed, headless)"
"${clean[@]}" /usr/bin/dragoman run "$demo" --output-dir "$check" --output-format srt
grep -qi "listens to a meeting" "$check/demo-en.srt"

echo "== desktop app, offscreen, opening the demo clip"
"${clean[@]}" QT_QPA_PLATFORM=offscreen /usr/bin/dragoman "$demo" > "$check/gui.log" 2>&1 &
gui=$!
sessions="$check/home/.local/share/dragoman/sessions"
for _ in $(seq 120); do  # until the clip's second sentence is in the autosaved session
  if grep -qs "listens to a meeting" "$sessions"/*.json; then break; fi
  sleep 1
done
kill -TERM "$gui"
wait "$gui" || { echo "the app exited with status $?"; cat "$check/gui.log"; exit 1; }
grep -qi "listens to a meeting" "$sessions"/*.json
echo "ok: the installed app captions the demo clip (headless and in the desktop app)"
