#!/usr/bin/env bash
# Packs a self-contained retina bundle for a GPU node that has neither Node nor internet:
#   bin/node            this machine's Node binary (links only glibc and libstdc++)
#   app/                retina's compiled dist/, bin/, package.json, the GPU bench scripts, and a
#                       pruned node_modules with just what training from a dataset needs
#   vulkan/*.deb        the Vulkan loader and libglvnd (the NVIDIA ICD, libGLX_nvidia, needs it)
#   setup.sh            unpacks the .debs into the bundle (no root needed) and checks for an adapter
#   retina              the entry script: `retina-gpu/retina train --backend webgpu ...`
# Output: <out>/retina-gpu.tar.xz (default out: tmp/gpu-carry; --keep also leaves the unpacked tree
# in <out>/retina-gpu).
#
# Usage: bench/gpu/pack-bundle.sh [--out DIR] [--no-debs] [--no-build] [--keep]
#   (sharp + libvips always come along: retina's train/evaluate/predict modules import it)
#   --no-debs     do not download the Vulkan .debs (the node already has libvulkan1 + libglvnd)
#   --no-build    use the existing dist/ instead of running tsc
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/tmp/gpu-carry"
KEEP=0
DEBS=1
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --with-sharp) shift ;; # always on now; accepted for old command lines
    --no-debs) DEBS=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "pack-bundle: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

NODE_BIN="$(command -v node)"
NODE_BIN="$(readlink -f "$NODE_BIN")"
[[ -x "$NODE_BIN" ]] || { echo "pack-bundle: no node binary found" >&2; exit 4; }
[[ -d "$ROOT/node_modules/webgpu/dist/linux-x64" ]] || {
  echo "pack-bundle: node_modules/webgpu (optional dependency) is not installed; run npm ci on linux-x64" >&2; exit 4; }

STAGE="$OUT/retina-gpu"
rm -rf "$STAGE" "$OUT/retina-gpu.tar.xz.partial"
mkdir -p "$STAGE/bin" "$STAGE/app/bench/gpu" "$STAGE/app/node_modules"

if [[ $BUILD -eq 1 ]]; then (cd "$ROOT" && npx tsc -p tsconfig.json); fi
[[ -d "$ROOT/dist/src" ]] || { echo "pack-bundle: $ROOT/dist is missing; build first (npx tsc -p tsconfig.json)" >&2; exit 4; }

cp "$NODE_BIN" "$STAGE/bin/node"
cp -r "$ROOT/dist" "$STAGE/app/dist"
find "$STAGE/app/dist" -name '*.map' -delete
cp -r "$ROOT/bin" "$STAGE/app/bin"
cp "$ROOT/package.json" "$STAGE/app/package.json"
cp "$ROOT"/bench/gpu/*.mjs "$ROOT"/bench/gpu/*.py "$STAGE/app/bench/gpu/" 2>/dev/null || true

PKGS=(@tensorflow/tfjs @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-webgpu webgpu
      lmdb msgpackr @node-rs/xxhash piscina csv-parse @oclif/core @oclif/plugin-help sharp
      onnx-proto onnxruntime-node)
"$NODE_BIN" "$ROOT/bench/gpu/copy-runtime-deps.mjs" "$ROOT" "$STAGE/app/node_modules" "${PKGS[@]}"

if [[ $DEBS -eq 1 ]]; then
  mkdir -p "$STAGE/vulkan"
  # Debian's loader alone fails with VK_ERROR_INCOMPATIBLE_DRIVER: NVIDIA's ICD is libGLX_nvidia.so.0,
  # which needs libglvnd's dispatch libraries.
  (cd "$STAGE/vulkan" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>/dev/null) || {
    echo "pack-bundle: apt-get download failed (no Debian/Ubuntu mirror?); use --no-debs if the GPU node has libvulkan1 and libglvnd" >&2; exit 9; }
fi

cat > "$STAGE/env.sh" <<'EOF'
# Sourced by `retina` and `setup.sh`: finds the unpacked Vulkan libraries and the NVIDIA ICD.
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -d "$B/vulkan/root/usr/lib/x86_64-linux-gnu" ]; then
  export LD_LIBRARY_PATH="$B/vulkan/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES="$f"; break; fi
  done
fi
EOF

cat > "$STAGE/setup.sh" <<'EOF'
#!/usr/bin/env bash
# Unpacks the Vulkan loader + libglvnd .debs inside the bundle (no root needed; `retina` puts them
# on LD_LIBRARY_PATH) and checks that Dawn finds a GPU adapter. Run once per node (or per job).
set -euo pipefail
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -d "$B/vulkan" ] && ls "$B"/vulkan/*.deb >/dev/null 2>&1; then
  mkdir -p "$B/vulkan/root"
  for f in "$B"/vulkan/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$f" "$B/vulkan/root"
    elif command -v dpkg >/dev/null; then dpkg -x "$f" "$B/vulkan/root"
    else
      # No dpkg (RHEL and friends): a .deb is an ar archive holding data.tar.*; python reads both.
      python3 - "$f" "$B/vulkan/root" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n', 'not a .deb'
i = 8
while i < len(data):
    name, size = data[i:i + 16].decode().strip(), int(data[i + 48:i + 58].decode().strip())
    body = data[i + 60:i + 60 + size]
    if name.rstrip('/').startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    i += 60 + size + (size % 2)
PY
    fi
  done
fi
. "$B/env.sh"
cd "$B/app" && "$B/bin/node" --input-type=module -e "
const { create, globals } = await import('webgpu'); Object.assign(globalThis, globals);
const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
if (!a) { console.error('setup: no WebGPU adapter (VK_DRIVER_FILES=' + (process.env.VK_DRIVER_FILES ?? '') + ')'); process.exit(3); }
console.error('setup: adapter', JSON.stringify({ vendor: a.info?.vendor, architecture: a.info?.architecture, description: a.info?.description }));
process.exit(0);"
EOF

printf '#!/usr/bin/env bash\nB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; . "$B/env.sh"; export MALLOC_MMAP_THRESHOLD_=8388608 MALLOC_TRIM_THRESHOLD_=33554432; exec "$B/bin/node" --initial-old-space-size=64 "$B/app/bin/run.js" "$@"\n' > "$STAGE/retina"
chmod +x "$STAGE/setup.sh" "$STAGE/retina" "$STAGE/bin/node"

(cd "$OUT" && tar -cf - retina-gpu | xz -T0 -6 > retina-gpu.tar.xz.partial && mv retina-gpu.tar.xz.partial retina-gpu.tar.xz)
echo "pack-bundle: $(du -sh "$OUT/retina-gpu.tar.xz" | cut -f1) $OUT/retina-gpu.tar.xz (unpacked $(du -sh "$STAGE" | cut -f1))" >&2
[[ $KEEP -eq 1 ]] || rm -rf "$STAGE"
echo "$OUT/retina-gpu.tar.xz"
