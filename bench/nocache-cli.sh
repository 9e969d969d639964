#!/usr/bin/env bash
# Per-epoch cost of the frozen backbone without the feature cache (`--no-cache-features`), through
# the real CLI: 200 generated images, lmdb and images sources, inception-v3 and small-cnn, 1 epoch.
# Usage: bench/nocache-cli.sh OUT_DIR [RETINA_BIN]   (RETINA_BIN defaults to this checkout's bin/run.js)
# Writes OUT_DIR/<label>.json (the --json result) and OUT_DIR/<label>.log (stderr).
set -euo pipefail
out=$(realpath -m "$1"); bin=${2:-$(dirname "$0")/../bin/run.js}
data=${NOCACHE_DATA:-$out/data}
mkdir -p "$out" "$data"
retina() { node "$bin" "$@"; }
if [ ! -f "$data/fx/trainLabels.csv" ]; then retina fixtures --out "$data/fx" --count 200 --seed 1; fi
if [ ! -f "$data/lmdb/manifest.json" ]; then retina preprocess --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --format lmdb --out "$data/lmdb"; fi
if [ ! -f "$data/lmdb64/manifest.json" ]; then retina preprocess --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --format lmdb --size 64 --out "$data/lmdb64"; fi
run() { # label, args...
  local label=$1; shift
  local t0; t0=$(date +%s.%N)
  retina train "$@" --no-cache-features --epochs 1 --backend wasm --out "$out/runs/$label" --force --json \
    >"$out/$label.json" 2>"$out/$label.log"
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const e=r.epochs[0];console.log(process.argv[2], "epoch", e.seconds.toFixed(1)+" s", e.imagesPerSecond.toFixed(2)+" img/s", "wait", e.dataWaitSeconds.toFixed(1), "compute", e.computeSeconds.toFixed(1), JSON.stringify({forwardWorkers:e.forwardWorkers,workerReadSeconds:e.workerReadSeconds,workerForwardSeconds:e.workerForwardSeconds,featureWaitSeconds:e.featureWaitSeconds}), "total", r.timing.totalSeconds.toFixed(1)+" s")' "$out/$label.json" "$label"
  echo "$label: process wall $(echo "$(date +%s.%N) - $t0" | bc) s"
}
run inception-lmdb --source lmdb --data "$data/lmdb" --model inception-v3
run inception-images --source images --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --model inception-v3
run small-lmdb --source lmdb --data "$data/lmdb64" --model small-cnn
run small-images --source images --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --model small-cnn
