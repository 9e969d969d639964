#!/usr/bin/env bash
# Per-epoch cost of the frozen backbone without the feature cache (`--no-cache-features`), through
# the real CLI: 200 generated images, lmdb and images sources, inception-v3 and small-cnn, 1 epoch.
# Usage: bench/nocache-cli.sh OUT_DIR [RETINA_BIN]   (RETINA_BIN defaults to this checkout's bin/run.js)
# NOCACHE_DATA=DIR reuses generated data; NOCACHE_RUNS='inception-lmdb ...' picks runs.
# Writes OUT_DIR/<label>.json (the --json result), .log (stderr), .time (wall, user, sys seconds).
set -euo pipefail
out=$(realpath -m "$1"); bin=${2:-$(dirname "$0")/../bin/run.js}
data=${NOCACHE_DATA:-$out/data}
mkdir -p "$out" "$data"
bin=$(realpath "$bin")
retina() { "$bin" "$@"; }  # executed: its shebang starts Node as users get it (src/node-flags.ts)
if [ ! -f "$data/fx/trainLabels.csv" ]; then retina fixtures --out "$data/fx" --count 200 --seed 1; fi
if [ ! -f "$data/lmdb/manifest.json" ]; then retina preprocess --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --format lmdb --out "$data/lmdb"; fi
if [ ! -f "$data/lmdb64/manifest.json" ]; then retina preprocess --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --format lmdb --size 64 --out "$data/lmdb64"; fi
run() { # label, args...
  local label=$1; shift
  case " ${NOCACHE_RUNS:-inception-lmdb inception-images small-lmdb small-images} " in *" $label "*) ;; *) return 0 ;; esac
  local TIMEFORMAT='%R %U %S'
  { time retina train "$@" --no-cache-features --epochs 1 --backend wasm --out "$out/runs/$label" --force --json \
    >"$out/$label.json" 2>"$out/$label.log" ; } 2>"$out/$label.time"
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")), e = r.epochs[0];
    const [wall, user, sys] = fs.readFileSync(process.argv[2], "utf8").trim().split(/\s+/).map(Number);
    const f = (x) => (x ?? 0).toFixed(1);
    console.log(`${process.argv[3]}: epoch ${f(e.seconds)} s, ${e.imagesPerSecond.toFixed(2)} img/s, data wait ${f(e.dataWaitSeconds)} s, compute ${f(e.computeSeconds)} s, ` +
      `forwardWorkers ${e.forwardWorkers ?? "-"}, featureWait ${f(e.featureWaitSeconds)} s, workerRead ${f(e.workerReadSeconds)} s, workerForward ${f(e.workerForwardSeconds)} s, ` +
      `setup ${f(r.timing.setupSeconds)} s, total ${f(r.timing.totalSeconds)} s; process wall ${f(wall)} s, CPU ${f(user + sys)} s`);
  ' "$out/$label.json" "$out/$label.time" "$label"
}
run inception-lmdb --source lmdb --data "$data/lmdb" --model inception-v3
run inception-images --source images --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --model inception-v3
run small-lmdb --source lmdb --data "$data/lmdb64" --model small-cnn
run small-images --source images --images "$data/fx/train" --labels "$data/fx/trainLabels.csv" --model small-cnn
