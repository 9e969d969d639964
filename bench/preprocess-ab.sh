#!/usr/bin/env bash
# A/B of preprocessing CPU cost between two builds of retina, alternated in one run:
#   bash bench/preprocess-ab.sh BASE_ROOT NEW_ROOT [ROUNDS]
# Each ROOT is a built checkout (npm run build). Runs `retina preprocess --format raw --threads 1`
# (bin/run.js, so the shebang's Node flag and malloc settings apply) on copies of the 10 Kaggle
# originals (x10 and x1) and of 200/20 generated 1024x683 images, and prints the marginal CPU
# (user + sys, /usr/bin/time) per image: (CPU of the large set - CPU of the small) / difference.
# CPU time survives a busy machine far better than wall time. Copies, not links: preprocess
# refuses two rows naming the same file.
set -euo pipefail
BASE=$1 NEW=$2 ROUNDS=${3:-4}
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=${TMPDIR:-/tmp}/retina-preprocess-ab
SAMPLE=$HERE/../shared/data/kaggle-sample/train
rm -rf "$WORK" && mkdir -p "$WORK"
node "$NEW/bin/run.js" fixtures --out "$WORK/synth-src" --count 200 --seed 1 --size 1024x683 > /dev/null
make_set() { # name source-dir count
  mkdir -p "$WORK/$1/train"; local files=("$2"/*.jpeg) i id
  echo image,level > "$WORK/$1/labels.csv"
  for ((i = 0; i < $3; i++)); do
    id=$((i / 2 + 1))_$([ $((i % 2)) = 1 ] && echo right || echo left)
    cp "${files[$((i % ${#files[@]}))]}" "$WORK/$1/train/$id.jpeg"; echo "$id,$((i % 5))" >> "$WORK/$1/labels.csv"
  done
}
make_set real100 "$SAMPLE" 100; make_set real10 "$SAMPLE" 10
make_set synth200 "$WORK/synth-src/train" 200; make_set synth20 "$WORK/synth-src/train" 20
cpu() { # root set -> CPU seconds
  rm -rf "$WORK/out"
  /usr/bin/time -f "%U %S" -o "$WORK/t" "$1/bin/run.js" preprocess --format raw --json --images "$WORK/$2/train" --labels "$WORK/$2/labels.csv" --out "$WORK/out" --threads 1 > /dev/null
  awk '{print $1 + $2}' "$WORK/t"
}
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
  for v in base new; do
    root=$BASE; [ $v = new ] && root=$NEW
    a=$(cpu "$root" real100) b=$(cpu "$root" real10) c=$(cpu "$root" synth200) d=$(cpu "$root" synth20)
    awk -v r="$r" -v v="$v" -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN { printf "round %d %s: originals %.1f ms/image, 1024 px %.1f ms/image (CPU, marginal)\n", r, v, (a - b) * 1000 / 90, (c - d) * 1000 / 180 }'
  done
done
