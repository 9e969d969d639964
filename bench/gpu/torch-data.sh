#!/usr/bin/env bash
# Prepare, on a machine WITH Node (this repository built), what bench/gpu/torch-train.sh needs on
# a GPU node that has only Python + PyTorch: a retina LMDB dataset of COUNT synthetic Kaggle-layout
# images at 299x299 (uint8, the seed's size), and the JPEGs they came from.
# Usage: bench/gpu/torch-data.sh [COUNT=160] [OUT=tmp/gpu-torch-data]
#   160 records: 43 MB of LMDB + ~10 MB of JPEGs, under the 64 MiB a device run carries. For
#   steadier GPU figures use 2048 or more and copy OUT to the GPU node yourself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COUNT="${1:-160}"
OUT="${2:-$ROOT/tmp/gpu-torch-data}"
RETINA=(node "$ROOT/bin/run.js")
rm -rf "$OUT" && mkdir -p "$OUT"
"${RETINA[@]}" fixtures --out "$OUT/fx" --count "$COUNT" --seed 7 --size 800x600 --log-level warn
"${RETINA[@]}" preprocess --images "$OUT/fx/train" --labels "$OUT/fx/trainLabels.csv" --out "$OUT/lmdb" --format lmdb \
  --size 299 --val-fraction 0.1 --log-level warn
"${RETINA[@]}" verify "$OUT/lmdb" --log-level warn
du -sh "$OUT/lmdb" "$OUT/fx"
echo "ready: $OUT (carry it, then on the GPU node: bench/gpu/torch-train.sh $OUT)"
