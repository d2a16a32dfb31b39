#!/usr/bin/env bash
# Put Dragoman in the desktop's application menu (current user): a launcher that runs the
# virtual environment's `dragoman`, plus the icon. Run after installers/setup.sh.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"
mkdir -p "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
cp "$repo/resources/icons/dragoman-256.png" "$icons/256x256/apps/dragoman.png"
cp "$repo/resources/icons/dragoman.svg" "$icons/scalable/apps/dragoman.svg"
sed -e "s|^Exec=.*|Exec=$repo/.venv/bin/dragoman|" -e "s|^TryExec=.*|TryExec=$repo/.venv/bin/dragoman|" \
  "$repo/installers/linux/dragoman.desktop" > "$apps/dragoman.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "Dragoman added to the application menu ($apps/dragoman.desktop)"
