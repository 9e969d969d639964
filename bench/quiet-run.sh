#!/usr/bin/env bash
# The quiet-machine benchmark pass behind BENCHMARKS.md's summary table: every benchmark one after
# another, alone on the machine, each under /usr/bin/time -v, with the load average, time and
# commit logged before it. Run from the repository root after `npm ci` (which builds dist/):
#
#   bash bench/quiet-run.sh [OUT_DIR] [STEP...]     steps: formats preprocess exp3 nocache kernels steps
#
# Takes about 20 minutes on 2 cores. Outputs: OUT_DIR/<step>.log (the benchmark's own output) and
# OUT_DIR/<step>.time (time -v); OUT_DIR/summary.txt collects the headline lines.
set -uo pipefail
OUT=${1:-tmp/quiet-$(date -u +%Y%m%dT%H%M)}
shift || true
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(formats steps preprocess exp3 nocache kernels)
mkdir -p "$OUT"

step() {
  local name=$1; shift
  {
    echo "== $name: $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
    echo "   $*"
  } | tee -a "$OUT/summary.txt"
  /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1
  local status=$?
  echo "   exit $status, wall $(grep 'Elapsed (wall' "$OUT/$name.time" | awk '{print $NF}'), peak RSS $(grep 'Maximum resident' "$OUT/$name.time" | awk '{print $NF}') KiB" | tee -a "$OUT/summary.txt"
}

for s in "${STEPS[@]}"; do
  case $s in
    # Executed, not `node bin/run.js`: its shebang starts Node as users get it (src/node-flags.ts).
    formats) step formats ./bin/run.js bench formats --out "$OUT/bench-default" ;;
    preprocess) step preprocess npx tsx bench/preprocess.ts --repeat 20 --synthetic 200 --big 1000 --tries 2 ;;
    exp3) step exp3 npx tsx bench/train-exp3.ts --out "$OUT/exp3" ;;
    nocache) step nocache bash bench/nocache-cli.sh "$OUT/nocache" ;;
    kernels) step kernels npx tsx bench/kernel-count.ts --model inception-v3 --steps 3
             step kernels-small npx tsx bench/kernel-count.ts --model small-cnn --steps 20 ;;
    steps) step transform-steps npx tsx bench/transform-steps.ts ;;
    *) echo "unknown step $s" >&2; exit 2 ;;
  esac
done
echo "results in $OUT"
