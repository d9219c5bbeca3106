#!/usr/bin/env bash
# The issue-7 scan benchmark, one command (see BENCHMARKS.md, "Scan throughput"):
# builds the release binary and the bench tools, generates distinct JPEGs from
# the real photos in tests/fixtures/hash/, serves them on 127.0.0.1, and runs
#   1. fetch-only (the fetcher alone), prepare-only (the prepare stage's CPU
#      work: decode, hashes, thumbnail, keypoints) and the hash-only scan
#      (`--embedder none`) on N_HASH images;
#   2. embed-only (decode+preprocess+CLIP), prepare-only with the model
#      input, and the CLIP scan on N_CLIP images with a full-size
#      random-weight ViT-B/32 (`--model-dir`);
#   3. hash-only scans of each count in RSS_COUNTS under /usr/bin/time -v.
# Results: one markdown table on stdout and in $WORK/results.md.
#
# usage: scripts/bench-scan.sh [--device cpu|cuda] [--only hash|clip|rss]...
# env:   N_HASH (2000) N_CLIP (256) RSS_COUNTS ("1000 5000 10000") WORK PORT
#        CONCURRENCY (32) PER_HOST (32) BATCH (32) PRECISION (f32)
#        CARGO_FEATURES ("" or cuda)
#        TOOLS + BIN: already built executables (skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICE=cpu
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --only) ONLY+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
N_HASH=${N_HASH:-2000}
N_CLIP=${N_CLIP:-256}
RSS_COUNTS=${RSS_COUNTS:-"1000 5000 10000"}
WORK=${WORK:-/var/tmp/provenance-scanbench}
PORT=${PORT:-18787}
CONCURRENCY=${CONCURRENCY:-32}
PER_HOST=${PER_HOST:-32}
BATCH=${BATCH:-32}
PRECISION=${PRECISION:-f32}
FEATURES=()
if [ -n "${CARGO_FEATURES:-}" ]; then FEATURES=(--features "$CARGO_FEATURES"); fi
if [ "$DEVICE" != cpu ] && [ -z "${CARGO_FEATURES:-}" ]; then
  FEATURES=(--features cuda)
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
wants() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
log() { echo "[bench-scan $(date +%T)] $*" >&2; }

if [ -n "${TOOLS:-}" ] && [ -n "${BIN:-}" ]; then
  log "using the given builds TOOLS=$TOOLS BIN=$BIN"
else
log "building (release profile)"
# One build: a bench build also builds the `provenance` binary, with the same
# dependency features (a separate `cargo build --release --bin` would compile
# every dependency a second time, dev-dependency features differing).
TOOLS=$(cargo bench "${FEATURES[@]}" --bench scan_throughput --no-run --message-format=json |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("executable") and m["target"]["name"] == "scan_throughput": print(m["executable"])')
BIN=$CARGO_TARGET_DIR/release/provenance
fi
[ -x "$TOOLS" ] && [ -x "$BIN" ] || { echo "build failed" >&2; exit 1; }
tool() { "$TOOLS" "$@" --bench; }

# Scans past $MAX images get the same files again with a JPEG comment
# added by the server (new bytes, same decoding work): see serve.rs.
MAX=$N_HASH
[ "$N_CLIP" -gt "$MAX" ] && MAX=$N_CLIP
mkdir -p "$WORK"
log "generating $MAX images in $WORK/images (kept between runs)"
tool images --sources tests/fixtures/hash --out "$WORK/images" --count "$MAX"
if wants clip && [ ! -f "$WORK/model/model.safetensors" ]; then
  log "writing a random-weight ViT-B/32 to $WORK/model"
  cargo run --example random_clip_model -- "$WORK/model"
fi

"$TOOLS" serve --dir "$WORK/images" --count "$MAX" --port "$PORT" --threads 1 --bench &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/img00000.jpg" && break
  sleep 0.2
done

url_list() { # N → file listing the first N images
  local file=$WORK/urls-$1.txt
  python3 -c "import sys
for i in range($1): print(f'http://127.0.0.1:$PORT/img{i:05}.jpg')" > "$file"
  echo "$file"
}

RESULTS=$WORK/results.md
{
  echo "| run | images | seconds | images/s | peak RSS (MB) |"
  echo "|---|---:|---:|---:|---:|"
} > "$RESULTS"
row() { echo "| $1 | $2 | $3 | $4 | $5 |" | tee -a "$RESULTS" >&2; }
stage_row() { # JSON line of a stage tool → row
  python3 -c 'import json,sys
m = json.loads(sys.stdin.read().strip().splitlines()[-1])
print(m["stage"], m["images"], "%.1f" % m["secs"], "%.1f" % m["images_per_s"])' |
    { read -r stage n secs rate; row "$stage ($1)" "$n" "$secs" "$rate" "-"; }
}
scan() { # label, count, extra flags… → row (fresh store each time)
  local label=$1 n=$2; shift 2
  local data=$WORK/data-$label-$n
  rm -rf "$data"
  /usr/bin/time -v -o "$WORK/time-$label-$n.txt" "$BIN" --data-dir "$data" --format json -q \
    scan --urls "$(url_list "$n")" --allow-private-addresses \
    --concurrency "$CONCURRENCY" --per-host "$PER_HOST" "$@" > "$WORK/scan-$label-$n.json"
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time-$label-$n.txt")
  python3 -c 'import json,sys
m = json.load(open(sys.argv[1]))
assert m["failed"] == 0 and m["new_images"] == int(sys.argv[2]), m
print("%.1f %.1f" % (m["elapsed_secs"], m["new_images"] / m["elapsed_secs"]))' \
    "$WORK/scan-$label-$n.json" "$n" | { read -r secs rate; row "scan $label" "$n" "$secs" "$rate" "$rss"; }
}

log "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
if wants hash; then
  log "fetch-only, prepare-only, hash-only scan on $N_HASH images"
  tool fetch --urls "$(url_list "$N_HASH")" --concurrency "$CONCURRENCY" --per-host "$PER_HOST" | stage_row "fetcher alone, loopback"
  tool prepare --dir "$WORK/images" --limit "$N_HASH" | stage_row "$(nproc) threads, bytes in memory"
  scan hash-only "$N_HASH" --embedder none
fi
if wants clip; then
  log "embed-only and CLIP scan on $N_CLIP images, device $DEVICE"
  tool embed --dir "$WORK/images" --limit "$N_CLIP" --model-dir "$WORK/model" \
    --device "$DEVICE" --batch "$BATCH" --precision "$PRECISION" |
    stage_row "ViT-B/32 $PRECISION on $DEVICE, batch $BATCH"
  tool prepare --dir "$WORK/images" --limit "$N_CLIP" --model-dir "$WORK/model" |
    stage_row "$(nproc) threads, bytes in memory"
  scan "clip-$DEVICE" "$N_CLIP" --model-dir "$WORK/model" --device "$DEVICE" \
    --batch-size "$BATCH" --precision "$PRECISION"
fi
if wants rss; then
  for n in $RSS_COUNTS; do
    log "hash-only scan of $n images (peak RSS)"
    scan hash-only "$n" --embedder none
  done
fi
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$RESULTS"
