#!/usr/bin/env bash
# Issue 18's worker benchmark (BENCHMARKS.md, "Scans on many workers"): the
# same URL list of generated JPEGs served on loopback, scanned hash-only
#   1. by one process (`scan --urls`),
#   2. queued (`scan --enqueue`) and run by 1, 2 and 3 `worker` processes,
#   3. queued as TINY batches of one picture, then as one batch of TINY
#      pictures, each run by one worker doing one thing at a time: the
#      difference per batch is what the queue costs a batch.
# Each run gets a fresh database on the PostgreSQL of DATABASE_URL.
# Results: one markdown table on stdout and in $WORK/results-workers.md.
#
# usage: scripts/with-postgres.sh scripts/bench-workers.sh
# env:   N (1000) BATCH (16) TINY (200) WORK PORT WORKERS ("1 2 3")
#        TOOLS + BIN: already built executables (skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${DATABASE_URL:-}" ] || { echo "run it under scripts/with-postgres.sh" >&2; exit 2; }
N=${N:-1000}
BATCH=${BATCH:-16}
TINY=${TINY:-200}
WORKERS=${WORKERS:-"1 2 3"}
WORK=${WORK:-/var/tmp/provenance-workerbench}
PORT=${PORT:-18797}
PG_HOME=${PROVENANCE_PG_HOME:-/var/tmp/provenance-pgserver-0.6.0}
log() { echo "[bench-workers $(date +%T)] $*" >&2; }

if [ -z "${TOOLS:-}" ] || [ -z "${BIN:-}" ]; then
  log "building (dev profile: every crate at opt-level 2, as the tests)"
  TOOLS=$(cargo bench --profile dev --bench scan_throughput --no-run --message-format=json |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("executable") and m["target"]["name"] == "scan_throughput": print(m["executable"])')
  cargo build --bin provenance
  BIN=${CARGO_TARGET_DIR:-target}/debug/provenance
fi
mkdir -p "$WORK"
log "generating $N images in $WORK/images (kept between runs)"
"$TOOLS" images --sources tests/fixtures/hash --out "$WORK/images" --count "$N" --bench
"$TOOLS" serve --dir "$WORK/images" --count "$N" --port "$PORT" --threads 1 --bench &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/img00000.jpg" && break
  sleep 0.2
done

url_list() { # FIRST COUNT → file listing images FIRST.. (past N: new bytes, see serve.rs)
  local file=$WORK/urls-$1-$2.txt
  python3 -c "import sys
for i in range($1, $1 + $2): print(f'http://127.0.0.1:$PORT/img{i:05}.jpg')" > "$file"
  echo "$file"
}
psql_admin() { LD_LIBRARY_PATH="$PG_HOME/libs" "$PG_HOME/vector/bin/psql" -q -X "$DATABASE_URL" "$@"; }
fresh_db() { # NAME → URL of an empty database
  psql_admin -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$1"
}
now() { date +%s.%N; }
count_images() { LD_LIBRARY_PATH="$PG_HOME/libs" "$PG_HOME/vector/bin/psql" -tA -X "$1" -c "SELECT count(*) FROM images"; }

RESULTS=$WORK/results-workers.md
{
  echo "| run | images | seconds | images/s |"
  echo "|---|---:|---:|---:|"
} > "$RESULTS"
row() { echo "| $1 | $2 | $3 | $4 |" | tee -a "$RESULTS" >&2; }
rate() { python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print('%.1f %.1f' % (s, n / s))" "$1" "$2"; }
FETCH=(--allow-private-addresses --concurrency 32 --per-host 32 --embedder none)

# queued LABEL FIRST COUNT QUEUE_BATCH WORKERS WORKER_FLAGS… → row
queued() {
  local label=$1 first=$2 count=$3 qbatch=$4 workers=$5; shift 5
  local url pids=() started
  url=$(fresh_db "bench_$label")
  "$BIN" --database-url "$url" -q --format json scan --urls "$(url_list "$first" "$count")" \
    --enqueue --queue-batch "$qbatch" --embedder none > "$WORK/enqueue-$label.json"
  started=$(now)
  for _ in $(seq "$workers"); do
    "$BIN" --database-url "$url" -q --format json worker --exit-when-idle \
      --allow-private-addresses --embedder none --poll 1 "$@" >> "$WORK/worker-$label.json" &
    pids+=($!)
  done
  wait "${pids[@]}"
  local secs n
  secs=$(python3 -c "print($(now) - $started)")
  n=$(count_images "$url")
  [ "$n" = "$count" ] || { echo "$label: stored $n of $count" >&2; exit 1; }
  read -r s r < <(rate "$count" "$secs")
  row "$label" "$count" "$s" "$r"
}

log "one process, $N images"
url=$(fresh_db bench_single)
"$BIN" --database-url "$url" -q --format json scan --urls "$(url_list 0 "$N")" "${FETCH[@]}" > "$WORK/single.json"
read -r s r < <(python3 -c 'import json,sys; m = json.load(open(sys.argv[1])); assert m["new_images"] == int(sys.argv[2]), m
print("%.1f %.1f" % (m["elapsed_secs"], m["new_images"] / m["elapsed_secs"]))' "$WORK/single.json" "$N")
row "scan, one process" "$N" "$s" "$r"
for k in $WORKERS; do
  log "$k workers, $N images in batches of $BATCH"
  # Past N the server adds a comment: new bytes, so no run dedupes another's.
  queued "workers_$k" "$((k * N))" "$N" "$BATCH" "$k" --concurrency 2 --downloads 32 --per-host 32
done
log "queue overhead: $TINY batches of one picture vs one batch of $TINY"
SEQ=(--concurrency 1 --downloads 1 --per-host 1 --decode-workers 1)
queued "one_batch_of_$TINY" $((10 * N)) "$TINY" "$TINY" 1 "${SEQ[@]}"
queued "${TINY}_batches_of_one" $((11 * N)) "$TINY" 1 1 "${SEQ[@]}"
python3 - "$RESULTS" "$TINY" <<'PY' | tee -a "$RESULTS" >&2
import sys
rows = {l.split("|")[1].strip(): l.split("|") for l in open(sys.argv[1]) if l.startswith("| ")}
tiny = int(sys.argv[2])
one = float(rows[f"one_batch_of_{tiny}"][3]); many = float(rows[f"{tiny}_batches_of_one"][3])
print(f"\nqueue overhead per batch: ({many:.1f} s - {one:.1f} s) / {tiny - 1} = {(many - one) / (tiny - 1) * 1000:.0f} ms")
PY
cat "$RESULTS"
