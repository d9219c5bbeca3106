#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the browser tests of
# `provenance serve` (tests/serve/browser.rs) when they are missing. Needs
# root (or sudo) and apt; prints what to do otherwise.
set -euo pipefail
if [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "ensure-chromium: install Chromium and its WebDriver (chromedriver), then set CHROMIUM and CHROMEDRIVER" >&2
    exit 1
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
    as_root=(sudo -n)
fi
echo "ensure-chromium: installing chromium and chromium-driver (for the browser tests)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null ||
    { "${as_root[@]}" apt-get update -q >/dev/null && "${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null; }
