#!/usr/bin/env bash
# Put Dragoman in the desktop's application menu (current user): a launcher that runs the
# virtual environment's `dragoman` (and opens audio files given to it), plus the icons.
# Run after installers/setup.sh. The Debian package (build-deb.sh) installs the same files itself.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
apps="$data/applications"
icons="$data/icons/hicolor"
id="org.dragoman.dragoman"
mkdir -p "$apps" "$icons/scalable/apps"
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$icons/${size}x${size}/apps"
  cp "$repo/resources/icons/dragoman-$size.png" "$icons/${size}x${size}/apps/$id.png"
done
cp "$repo/resources/icons/dragoman.svg" "$icons/scalable/apps/$id.svg"
sed -e "s|^Exec=dragoman|Exec=$repo/.venv/bin/dragoman|" \
  -e "s|^TryExec=.*|TryExec=$repo/.venv/bin/dragoman|" \
  "$repo/installers/linux/$id.desktop" > "$apps/$id.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "Dragoman added to the application menu ($apps/$id.desktop)"
