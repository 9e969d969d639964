#!/usr/bin/env bash
# The issue #12 GPU run, left to run on an H100/H200 node (Python 3 + PyTorch + torchvision; no
# Node, no internet): the seed's InceptionV3 trained by retina_data.train from a retina LMDB
# dataset, frozen and fully fine-tuned, and from JPEGs decoded on the fly (the seed's PIL +
# torchvision path), printing images/s and the data wait share per run.
#
# Usage, from the repository root on the GPU node:
#   OUT=/some/dir bench/gpu/torch-train.sh [DATA=tmp/gpu-torch-data]
# DATA comes from bench/gpu/torch-data.sh (run where Node is). The on-the-fly runs use the 10
# real Kaggle originals (shared/data/kaggle-sample, up to 4928x3264) repeated to REPEAT_JPEGS
# names when present, else DATA's synthetic JPEGs.
# Env: EPOCHS (default 6; the first is warm-up: cuDNN autotuning, worker start), BATCH (32),
#      WORKERS (DataLoader workers, default min(16, CPUs)), PYTHON (python3), AMP (1: also bf16 runs),
#      DEVICE (cuda) and MODEL (inception-v3): DEVICE=cpu MODEL=small-cnn smoke-tests the script.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${1:-$ROOT/tmp/gpu-torch-data}"
OUT="${OUT:-$ROOT/tmp/torch-train-out}"
PY="${PYTHON:-python3}"
EPOCHS="${EPOCHS:-6}"; BATCH="${BATCH:-32}"
WORKERS="${WORKERS:-$(( $(nproc) < 16 ? $(nproc) : 16 ))}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/torch-train.log") 2>&1
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
echo "== $(date -u +%FT%TZ) $(uname -srm), $(nproc) CPUs"
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv | tee "$OUT/gpu.csv" || true
"$PY" -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available() and torch.cuda.get_device_name(0))'
[ -f "$DATA/lmdb/manifest.json" ] || [ -d "$DATA/lmdb/shards" ] || { echo "no retina LMDB dataset at $DATA/lmdb: run bench/gpu/torch-data.sh where Node is, and carry its output"; exit 4; }

# JPEGs for the on-the-fly runs: the real originals repeated (decode-bound, as the seed's), else synthetic.
JPEGS="$OUT/jpegs"; mkdir -p "$JPEGS"
KAGGLE="$ROOT/shared/data/kaggle-sample"; [ -d "$KAGGLE/train" ] || KAGGLE="$ROOT/../shared/data/kaggle-sample"
if [ -d "$KAGGLE/train" ]; then
  n=0; echo "image,level" > "$JPEGS/labels.csv"
  for k in $(seq 1 "${REPEAT_JPEGS:-32}"); do
    tail -n +2 "$KAGGLE/trainLabels.csv" | while IFS=, read -r id level; do
      [ -f "$KAGGLE/train/$id.jpeg" ] || continue
      name="${id%%_*}r${k}_${id#*_}"   # 10_left -> 10r3_left: copy 3 of patient 10's left eye
      ln -sf "$KAGGLE/train/$id.jpeg" "$JPEGS/$name.jpeg"
      echo "$name,$level" >> "$JPEGS/labels.csv"
    done
  done
  IMAGES="$JPEGS"; LABELS="$JPEGS/labels.csv"; echo "on-the-fly JPEGs: Kaggle originals x ${REPEAT_JPEGS:-32} ($(($(wc -l < "$LABELS") - 1)) files)"
else
  IMAGES="$DATA/fx/train"; LABELS="$DATA/fx/trainLabels.csv"; echo "on-the-fly JPEGs: $DATA's synthetic ones"
fi

run() {  # NAME ARGS...: one training; its --json result to $OUT/NAME.json, a summary line
  local name=$1; shift
  echo "-- $name: $*"
  timeout 1800 "$PY" -m retina_data.train "$@" --model "${MODEL:-inception-v3}" --device "${DEVICE:-cuda}" --no-deterministic --workers "$WORKERS" --epochs "$EPOCHS" \
    --batch-size "$BATCH" --out "$OUT/runs/$name" --force --json > "$OUT/$name.json"
  local status=$?
  echo "exit $status"
  [ "$status" = 0 ] || { echo "RESULT $name: FAILED (exit $status; see above)"; return; }
  "$PY" - "$OUT/$name.json" "$name" <<'PYEOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
steady = r["epochs"][1:] or r["epochs"]
ips = statistics.median(e["trainImagesPerSecond"] for e in steady)
wait = statistics.median(e["dataWaitSeconds"] / e["seconds"] for e in steady)
print(f"RESULT {sys.argv[2]}: {ips:,.0f} train images/s (median of epochs 2..{len(r['epochs'])}), "
      f"data wait {100 * wait:.1f} % of the epoch, {r['device']}, {r['trainImages']} images/epoch")
PYEOF
}

run lmdb-frozen --data "$DATA/lmdb" --source lmdb
run lmdb-finetune --data "$DATA/lmdb" --source lmdb --fine-tune
run jpeg-frozen --source images --images "$IMAGES" --labels "$LABELS" --image-size 299
run jpeg-finetune --source images --images "$IMAGES" --labels "$LABELS" --image-size 299 --fine-tune
if [ "${AMP:-1}" = 1 ]; then
  run lmdb-frozen-bf16 --data "$DATA/lmdb" --source lmdb --amp
  run lmdb-finetune-bf16 --data "$DATA/lmdb" --source lmdb --fine-tune --amp
fi
grep '^RESULT' "$OUT/torch-train.log" > "$OUT/results.txt"
echo "== done $(date -u +%FT%TZ); results in $OUT/results.txt"
