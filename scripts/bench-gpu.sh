#!/usr/bin/env bash
# The GPU checks and benchmarks of issues 3 and 7 in one command, run on the
# GPU machine (no Rust there) from the repository root, with the binaries
# scripts/build-cuda.sh packed into $PACK (.gpu/, xz):
#   cold start (first process on the machine, a second one, and with the
#   driver's kernel cache disabled); parity on the GPU; the model alone,
#   candle vs PyTorch (same weights, same run); where a pass spends its
#   time; JPEG → model pipelines; how the scan's CPU stage scales with
#   threads (and with glibc malloc's trimming turned off); the scan
#   benchmark with --device cuda.
# Each step has its own time limit; one failing step does not stop the rest.
#
# usage: scripts/bench-gpu.sh [step...]   (steps: cold parity model torch
#        profile pipeline scaling scan; default all)
# env:   PACK (.gpu) T (/tmp/gpu) DTYPES (f32,f16,bf16) BATCHES (1,32,128,256)
#        SECONDS_EACH (2) N_IMAGES (2048) OUT (where logs go, default $T)
cd "$(dirname "$0")/.."
PACK=${PACK:-.gpu}
T=${T:-/tmp/gpu}
DTYPES=${DTYPES:-f32,f16,bf16}
BATCHES=${BATCHES:-1,32,128,256}
SECONDS_EACH=${SECONDS_EACH:-2}
N_IMAGES=${N_IMAGES:-2048}
LOGS=${OUT:-$T}
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(cold parity model torch profile pipeline scaling scan)
mkdir -p "$T" "$LOGS"
log() { echo "[bench-gpu $(date +%T)] $*" >&2; }
step() { # name, limit seconds, command… (output to stdout and $LOGS/name.md)
  local name=$1 limit=$2; shift 2
  log "$name: $*"
  timeout "$limit" "$@" 2>&1 | tee -a "$LOGS/$name.md"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || log "$name failed (exit $rc)"
}
wants() { [[ " ${STEPS[*]} " == *" $1 "* ]]; }

for b in provenance clip_embed scan_throughput; do
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
    "$PACK/$b.xz" "$T/$b" && chmod +x "$T/$b"
done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nproc
if ldd "$T/clip_embed" | grep 'not found'; then
  # libnvrtc may only be in PyTorch's wheels: use those.
  extra=$(python3 -c 'import nvidia, os; print(":".join(os.path.join(p, "cu13", "lib") for p in nvidia.__path__))' 2>/dev/null)
  export LD_LIBRARY_PATH=$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  ldd "$T/clip_embed" | grep 'not found'
fi
MODEL=$T/sb/model
# A random full-size ViT-B/32 in transformers' own layout (CLIPConfig()'s
# defaults are openai/clip-vit-base-patch32's shapes), read by both sides.
[ -f "$MODEL/model.safetensors" ] || python3 -c 'import sys, torch, transformers as t
torch.manual_seed(0); t.CLIPModel(t.CLIPConfig()).save_pretrained(sys.argv[1])' "$MODEL"
# A file, not a function: `timeout` runs it.
printf '#!/bin/sh\nexec %s "$@" --bench\n' "$T/clip_embed" > "$T/bench" && chmod +x "$T/bench"
bench() { "$T/bench" "$@"; }

if wants cold; then
  # The very first CUDA process on a fresh machine JIT-compiles candle's
  # kernels; the driver caches them (~/.nv/ComputeCache) for later ones.
  step cold 300 "$T/bench" cold --device cuda --model-dir "$MODEL" --dtypes f16 --batches 1
  step cold 300 "$T/bench" cold --device cuda --model-dir "$MODEL" --dtypes f16 --batches 1
  step cold 300 env CUDA_CACHE_DISABLE=1 "$T/clip_embed" cold --device cuda --model-dir "$MODEL" --dtypes f16 --batches 1 --bench
  step cold 120 "$T/bench" cold --device cpu --model-dir "$MODEL" --dtypes f32 --batches 1
fi
wants parity && step parity 300 "$T/bench" parity --device cuda --dtypes "$DTYPES" --model-dir "$MODEL"
wants model && step model 600 "$T/bench" model --device cuda --dtypes "$DTYPES" --batches "$BATCHES" --model-dir "$MODEL" --seconds "$SECONDS_EACH"
wants torch && step torch 600 python3 scripts/bench_clip_torch.py model --model-dir "$MODEL" --dtypes "$DTYPES" --batches "$BATCHES" --seconds "$SECONDS_EACH"
wants profile && step profile 120 "$T/bench" profile --device cuda --dtypes f16 --batches 256 --model-dir "$MODEL"
if wants pipeline || wants scaling || wants scan; then
  [ -f "$T/sb/images/img$(printf %05d $((N_IMAGES - 1))).jpg" ] ||
    "$T/scan_throughput" images --sources tests/fixtures/hash --out "$T/sb/images" --count "$N_IMAGES" --threads "$(nproc)" --bench
fi
if wants pipeline; then
  step pipeline 300 "$T/bench" pipeline --device cuda --dtypes f16,f32 --batches 256 --model-dir "$MODEL" --images "$T/sb/images" --count "$N_IMAGES"
  step pipeline 300 python3 scripts/bench_clip_torch.py pipeline --model-dir "$MODEL" --images "$T/sb/images" --count "$N_IMAGES" --dtypes f16,f32 --batches 256
fi
if wants scaling; then
  # The prepare stage (decode, hashes, thumbnail, keypoints, model input)
  # alone on 1…16 threads: does the scan's CPU stage use the machine?
  cat /sys/fs/cgroup/cpu.max 2>/dev/null | sed 's/^/cgroup cpu.max: /' >&2
  for threads in 1 2 4 8 16; do
    step scaling 120 "$T/scan_throughput" prepare --dir "$T/sb/images" --limit 1024 \
      --threads "$threads" --model-dir "$MODEL" --bench
  done
  # The same with glibc malloc keeping freed memory (no munmap/trim churn).
  step scaling 120 env GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 \
    "$T/scan_throughput" prepare --dir "$T/sb/images" --limit 1024 --threads 16 --model-dir "$MODEL" --bench
fi
if wants scan; then
  step scan 600 env TOOLS="$T/scan_throughput" BIN="$T/provenance" WORK="$T/sb" N_CLIP="$N_IMAGES" \
    BATCH=256 PRECISION=f16 scripts/bench-scan.sh --device cuda --only clip
fi
log done
