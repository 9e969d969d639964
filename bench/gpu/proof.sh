#!/usr/bin/env bash
# The GPU proof wrapper: unpack the bundle, make Vulkan + the NVIDIA ICD visible, run the tfjs
# WebGPU proof (bench/gpu/proof.mjs) with the bundle's node, then PyTorch's InceptionV3 on the
# same card. Everything lands in $OUT (results.json, torch.json, logs), written as it goes.
# Usage, from the repository root on the GPU node:
#   OUT=/some/dir bench/gpu/proof.sh [path/to/retina-gpu.tar.xz]   (default tmp/gpu-carry/retina-gpu.tar.xz)
# Env: PROOF_BUDGET_S (tfjs sections, default 250), PROOF_SECTIONS (comma list to run only some),
#      TORCH_BUDGET_S (default 60), PROOF_WORK (scratch, default /tmp/retina-proof-work).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${OUT:-$ROOT/tmp/proof-out}"
mkdir -p "$OUT"
TARBALL="${1:-$ROOT/tmp/gpu-carry/retina-gpu.tar.xz}"
UNPACK="${PROOF_UNPACK:-/tmp/retina-gpu-bundle}"
exec > >(tee -a "$OUT/proof-sh.log") 2>&1
echo "== $(date -u +%FT%TZ) $(uname -srm)"
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv | tee "$OUT/gpu.csv" || true
mkdir -p "$UNPACK"
t=$(date +%s); tar -xJf "$TARBALL" -C "$UNPACK" || { echo "cannot unpack $TARBALL"; exit 4; }
echo "unpacked in $(( $(date +%s) - t ))s"
B="$UNPACK/retina-gpu"
# A newer build of retina's dist/ beside this script replaces the bundle's (saves re-packing).
if [ -d "$ROOT/dist-overlay" ]; then cp -r "$ROOT/dist-overlay/." "$B/app/dist/"; echo "dist overlaid"; fi
"$B/bin/node" --version
if ! "$B/setup.sh"; then
  # No adapter from the bundle's private copy of the loader: as root, install it system-wide
  # (what worked on an H200: dpkg -x into / + ldconfig). Only on a GPU node: never on a dev box.
  if [ "$(id -u)" = 0 ] && command -v nvidia-smi >/dev/null; then
    for f in "$B"/vulkan/*.deb; do dpkg -x "$f" /; done; ldconfig
    "$B/setup.sh" || echo "setup: still no adapter"
  fi
fi
. "$B/env.sh"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
RETINA_APP="$B/app" OUT="$OUT" timeout "${PROOF_TIMEOUT:-$(( ${PROOF_BUDGET_S:-250} + 25 ))}" "$B/bin/node" "$ROOT/bench/gpu/proof.mjs"
echo "proof.mjs exit $?"
if [ -z "${PROOF_SECTIONS:-}" ] || [ "${PROOF_TORCH:-1}" = 1 ]; then
  timeout $(( ${TORCH_BUDGET_S:-60} + 30 )) python3 "$ROOT/bench/gpu/torch_inception.py" "$OUT/torch.json" "${TORCH_BUDGET_S:-60}"
  echo "torch exit $?"
fi
echo "== done $(date -u +%FT%TZ)"
