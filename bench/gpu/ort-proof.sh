#!/usr/bin/env bash
# ONNX Runtime's execution providers on a GPU node (issue #13): unpack the bundle made by
# bench/gpu/pack-bundle.sh (it carries onnxruntime-node, Linux x64 only), make Vulkan + the NVIDIA
# ICD visible (Dawn, as for tfjs' WebGPU), then run bench/gpu/ort-proof.mjs with the bundle's node.
# Usage, from the repository root on the GPU node:
#   OUT=/some/dir bench/gpu/ort-proof.sh [path/to/retina-gpu.tar.xz]
# Env: ORT_BUDGET_S (seconds per measurement, default 20), ORT_EPS (default webgpu,cuda,cpu).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${OUT:-$ROOT/tmp/ort-proof-out}"
mkdir -p "$OUT"
TARBALL="${1:-$ROOT/tmp/gpu-carry/retina-gpu.tar.xz}"
UNPACK="${PROOF_UNPACK:-/tmp/retina-gpu-bundle}"
exec > >(tee -a "$OUT/ort-proof-sh.log") 2>&1
echo "== $(date -u +%FT%TZ) $(uname -srm)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.csv" || true
mkdir -p "$UNPACK"
[ -x "$UNPACK/retina-gpu/bin/node" ] || tar -xJf "$TARBALL" -C "$UNPACK" || { echo "cannot unpack $TARBALL"; exit 4; }
B="$UNPACK/retina-gpu"
if [ -d "$ROOT/dist-overlay" ]; then cp -r "$ROOT/dist-overlay/." "$B/app/dist/"; echo "dist overlaid"; fi
if ! "$B/setup.sh"; then
  if [ "$(id -u)" = 0 ] && command -v nvidia-smi >/dev/null; then
    for f in "$B"/vulkan/*.deb; do dpkg -x "$f" /; done; ldconfig
    "$B/setup.sh" || echo "setup: still no adapter"
  fi
fi
. "$B/env.sh"
RETINA_APP="$B/app" OUT="$OUT" timeout "${ORT_TIMEOUT:-400}" "$B/bin/node" "$ROOT/bench/gpu/ort-proof.mjs"
echo "ort-proof.mjs exit $?"
echo "== done $(date -u +%FT%TZ)"
