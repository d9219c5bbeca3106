#!/usr/bin/env bash
# Builds the `cuda` feature on a machine with no GPU and no CUDA toolkit
# (see ../shared/notes/gpu-build.md): installs CUDA 13.0's compiler and
# libraries from PyPI into $CU, adds the unversioned .so links the wheels lack
# and a link-time stub of libcuda.so.1 (the driver is loaded at run time),
# then builds the release binary and the GPU benches for sm_90 (H100/H200)
# and packs them xz-compressed into $PACK (default .gpu/, which
# .git/info/exclude ignores) for the device tool's `carry` (64 MiB a call:
# each binary holds all of candle's PTX, 70 MB stripped, 12 MB as xz).
#
# usage: scripts/build-cuda.sh [extra cargo build args]
# env:   CU (/var/tmp/cu) CARGO_TARGET_DIR (/var/tmp/target-cuda) PACK (.gpu)
#        CUDA_COMPUTE_CAP (90)
set -euo pipefail
cd "$(dirname "$0")/.."
CU_TREE=${CU:-/var/tmp/cu}
ROOT=$CU_TREE/nvidia/cu13
PACK=${PACK:-.gpu}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/target-cuda}
log() { echo "[build-cuda $(date +%T)] $*" >&2; }

if [ ! -x "$ROOT/bin/nvcc" ]; then
  log "installing CUDA 13.0 from PyPI into $CU_TREE"
  python3 -m pip install -q --target "$CU_TREE" 'nvidia-cuda-nvcc==13.0.*' \
    'nvidia-cuda-crt==13.0.*' 'nvidia-nvvm==13.0.*' 'nvidia-cuda-runtime==13.0.*' \
    'nvidia-cuda-cccl==13.0.*' 'nvidia-cuda-nvrtc==13.0.*' 'nvidia-cublas==13.0.*' \
    'nvidia-curand==10.4.0.*'
fi
for lib in cublas cublasLt cudart nvrtc; do
  ln -sf "lib$lib.so.13" "$ROOT/lib/lib$lib.so"
done
ln -sf libcurand.so.10 "$ROOT/lib/libcurand.so"
if [ ! -f "$ROOT/lib/stubs/libcuda.so" ]; then
  log "writing the link-time stub of libcuda.so.1"
  sys=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*cudarc-0.19.*/src/driver/sys/mod.rs' | head -1)
  [ -n "$sys" ] || { cargo fetch; sys=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*cudarc-0.19.*/src/driver/sys/mod.rs' | head -1); }
  mkdir -p "$ROOT/lib/stubs"
  grep -o 'load::<_F>("cu[A-Za-z0-9_]*")' "$sys" | sed 's/.*("\(.*\)")/\1/' | sort -u |
    sed 's/.*/int &(void) { return 999; }/' > "$ROOT/lib/stubs/stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$ROOT/lib/stubs/libcuda.so" "$ROOT/lib/stubs/stub.c"
fi

export CUDA_ROOT=$ROOT CUDA_PATH=$ROOT CUDA_HOME=$ROOT PATH=$ROOT/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export LIBRARY_PATH=$ROOT/lib/stubs:$ROOT/lib${LIBRARY_PATH:+:$LIBRARY_PATH}
# No LTO and more codegen units: relinks take seconds, not minutes; the model
# runs on the GPU either way.
export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
log "cargo build --release --features cuda (target $CARGO_TARGET_DIR)"
cargo build --release --features cuda --bin provenance --bench clip_embed \
  --bench scan_throughput "$@"

mkdir -p "$PACK"
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx "/$PACK/" "$exclude" 2>/dev/null || echo "/$PACK/" >> "$exclude"
rm -f "$PACK"/*.gz
pack() { strip -o "$PACK/$2" "$1" && xz -f -T2 -6 "$PACK/$2"; }
pack "$CARGO_TARGET_DIR/release/provenance" provenance
for bench in clip_embed scan_throughput; do
  exe=$(ls -t "$CARGO_TARGET_DIR"/release/deps/"$bench"-* | grep -v '\.d$' | head -1)
  pack "$exe" "$bench"
done
ls -la "$PACK" >&2
