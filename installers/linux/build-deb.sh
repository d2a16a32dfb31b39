#!/usr/bin/env bash
# Build Dragoman's Debian package with Briefcase's `linux system` format: natively on this
# Debian/Ubuntu machine (no Docker), against the system's python3. The package carries the offline
# default models (Whisper base, the English Piper voice) and declares its run-time libraries.
#
#   bash installers/linux/build-deb.sh                      -> dist/dragoman_VERSION-1~DISTRO_ARCH.deb
#   DRAGOMAN_BRIEFCASE_TEMPLATE=/path/to/briefcase-linux-system-template.git bash installers/linux/build-deb.sh
#
# DRAGOMAN_BRIEFCASE_TEMPLATE: a local git copy of BeeWare's briefcase-linux-system-template, for a
# machine that cannot reach the code host Briefcase clones it from (it needs the branch
# v$BRIEFCASE_VERSION). The override stays here; pyproject.toml never names a template.
# DPKG_DEB_COMPRESSOR_TYPE: zstd unless set. dpkg-deb's default (xz) needs 10+ CPU minutes for
# the ~0.9 GB tree on 2 cores; zstd takes seconds and is read by dpkg >= 1.21.18 (Debian 12,
# Ubuntu 21.10 and later), which the package needs anyway for its Python 3.11.
# Build time: a few minutes on 2 cores, most of it pip downloading the requirements.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

BRIEFCASE_VERSION="0.4.1"  # keep equal to the test extra's pin in pyproject.toml
SYSTEM_PYTHON="${SYSTEM_PYTHON:-/usr/bin/python3}"
venv="build/briefcase-venv"

start=$(date +%s)
if [ ! -x "$venv/bin/briefcase" ]; then
  "$SYSTEM_PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q "briefcase==$BRIEFCASE_VERSION"
fi

overrides=()
if [ -n "${DRAGOMAN_BRIEFCASE_TEMPLATE:-}" ]; then
  # Briefcase clones the template with git: give it a writable copy (a read-only bare copy
  # without refs/ is not a repository to git) by file:// URL.
  template_dir="$(mktemp -d)"
  trap 'rm -rf "$template_dir"' EXIT  # Briefcase keeps its own clone in its cache
  template="$template_dir/briefcase-linux-system-template.git"
  cp -r "$DRAGOMAN_BRIEFCASE_TEMPLATE" "$template"
  chmod -R u+w "$template"
  mkdir -p "$template/refs/heads" "$template/refs/tags"
  overrides+=(-C "template='file://$template'" -C "template_branch='v$BRIEFCASE_VERSION'")
fi

bc() { "$venv/bin/briefcase" "$@" --no-input; }
export DPKG_DEB_COMPRESSOR_TYPE="${DPKG_DEB_COMPRESSOR_TYPE:-zstd}"

rm -rf build/dragoman  # a fresh bundle: nothing left from an older build (keeps the venv)
bc create linux system "${overrides[@]}"

# Desktop integration the template does not provide: our desktop entry (it opens an audio file)
# and the AppStream metainfo, under the bundle identifier.
for bundle in build/dragoman/*/*/dragoman-*/; do
  install -D -m 644 installers/linux/org.dragoman.dragoman.desktop \
    "$bundle/usr/share/applications/org.dragoman.dragoman.desktop"
  install -D -m 644 installers/linux/org.dragoman.dragoman.metainfo.xml \
    "$bundle/usr/share/metainfo/org.dragoman.dragoman.metainfo.xml"
  install -D -m 644 resources/icons/dragoman.svg \
    "$bundle/usr/share/icons/hicolor/scalable/apps/org.dragoman.dragoman.svg"
  sed -i "s|^Exec=dragoman|Exec=/usr/bin/dragoman|; s|^TryExec=dragoman|TryExec=/usr/bin/dragoman|" \
    "$bundle/usr/share/applications/org.dragoman.dragoman.desktop"
done

bc build linux system
bc package linux system

deb="$(ls -t dist/dragoman_*.deb | head -1)"
end=$(date +%s)
echo "built $root/$deb: $(du -h "$deb" | cut -f1), $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s"
