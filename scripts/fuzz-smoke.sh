#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a short fixed time (CI smoke
# test; default 20 s each, FUZZ_SECONDS to change), seeded from the test
# fixtures. libFuzzer's verbose log goes to fuzz/logs/TARGET.log; one
# summary line a target is printed. Exits non-zero on the first crash, leak of limits (RSS above
# FUZZ_RSS_MB) or timeout; the crashing input is left in fuzz/artifacts/.
#
# cargo-fuzz needs nightly-only rustc flags: on the stable toolchain they are
# unlocked with RUSTC_BOOTSTRAP=1. No sanitizer by default (the code under
# test is safe Rust; FUZZ_SANITIZER=address for ASan on long runs).
#
# Usage: scripts/fuzz-smoke.sh [TARGET...]
set -euo pipefail

SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
SANITIZER="${FUZZ_SANITIZER:-none}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

seeds_for() {
    case "$1" in
        scrape_extract_images) echo "$ROOT/tests/fixtures/pages" ;;
        search_parse) echo "$ROOT/tests/fixtures/search" ;;
        decode_preprocess) echo "$ROOT/tests/fixtures/clip/images" ;;
    esac
}

cd "$ROOT/fuzz"
LOG_DIR="$ROOT/fuzz/logs"
mkdir -p "$LOG_DIR"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build --sanitizer "$SANITIZER"
for target in "${targets[@]}"; do
    corpus="$ROOT/fuzz/corpus/$target"
    mkdir -p "$corpus"
    seeds=$(seeds_for "$target")
    log="$LOG_DIR/$target.log"
    echo "fuzz-smoke: $target for ${SECONDS_PER_TARGET}s (libFuzzer's log: $log)" >&2
    if ! cargo fuzz run --sanitizer "$SANITIZER" "$target" "$corpus" ${seeds:+"$seeds"} -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_MB" -timeout=10 \
        -max_len=262144 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 80 "$log" >&2
        echo "fuzz-smoke: $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    # One line a target: libFuzzer's own log runs to thousands of lines, and
    # CI keeps only the end of its output, where the test results must stay
    # readable.
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | tr '\n' ' ' >&2
    echo >&2
done
echo "fuzz-smoke: no crash in ${#targets[@]} target(s)" >&2
