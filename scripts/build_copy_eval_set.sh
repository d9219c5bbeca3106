#!/usr/bin/env bash
# Builds the copy-detection evaluation set (issue 5, item 6) from Debian's
# wallpaper packages, into $1 (default /var/tmp/provenance-copyeval):
#
#   debs/ and extracted/   the packages and their files (licences in
#                          extracted/usr/share/doc/*/copyright)
#   sources.txt            one distinct picture per line (largest size of
#                          each wallpaper, dark/light twins and re-sized
#                          duplicates dropped)
#   index/, queries/, manifest.tsv   written by `copy_eval build`
#
# Nothing here is committed; the set is rebuilt the same way every time
# (the split and the transformations are seeded). Needs apt (Debian),
# run `apt-get update` once first. Then evaluate with
#   cargo run --example copy_eval --config 'profile.dev.package.provenance.opt-level=3' -- eval DIR
set -euo pipefail

out="${1:-/var/tmp/provenance-copyeval}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
packages=(plasma-workspace-wallpapers gnome-backgrounds mate-backgrounds
  ukui-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04)

mkdir -p "$out/debs" "$out/extracted"
(cd "$out/debs" && apt-get download "${packages[@]}")
for deb in "$out"/debs/*.deb; do dpkg -x "$deb" "$out/extracted"; done

# One file per distinct picture.
{
  # KDE Plasma: each wallpaper comes in many sizes; keep the largest
  # (file names are WIDTHxHEIGHT.ext). Dark variants are twins: skipped.
  for dir in "$out"/extracted/usr/share/wallpapers/*/contents/images; do
    ls "$dir" | awk -Fx '{ split($2, h, "."); print $1 * h[1], $0 }' \
      | sort -n | tail -1 | cut -d' ' -f2- | sed "s|^|$dir/|"
  done
  # Everything else under backgrounds/, minus light/dark twins (keep -l)
  # and re-sized duplicates (Elephants_WxH).
  find "$out/extracted/usr/share/backgrounds" -type f \
    \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) \
    | grep -v -- '-d\.webp$' | grep -v 'Elephants_[0-9]*x[0-9]*'
} | sort -u > "$out/sources.txt"
echo "$(wc -l < "$out/sources.txt") distinct pictures in $out/sources.txt" >&2

# A rebuild starts from empty folders, so no stale picture stays behind.
rm -rf "$out/index" "$out/queries"
cd "$repo"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-shared}" \
  cargo run --example copy_eval --config 'profile.dev.package.provenance.opt-level=3' \
  -- build "$out" "$out/sources.txt"
