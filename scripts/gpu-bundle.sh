#!/usr/bin/env bash
# Make .gpu/, what a GPU machine without Node or node_modules needs to run
# scripts/gpu-check.sh (docs/gpu.md): carry it with the device tool's `carry: [".gpu"]`.
#
#   .gpu/node.xz            this machine's Node, stripped, xz-compressed (made once per version)
#   .gpu/runtime.tar.xz     packages/*/dist, packages/*/node_modules (links) and the production
#                           dependency closure in node_modules/.pnpm, onnxruntime-node with its
#                           linux/x64 binaries only
#   .gpu/debs/libvulkan1_*.deb  the Vulkan loader (WebGPU), for a machine without one
#
# Run after `pnpm install && pnpm build`. Prints the sizes; the working tree plus .gpu must stay
# under the device tool's 64 MiB.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .gpu/debs
[ -f packages/onnx/dist/index.js ] && [ -f packages/conformance/dist/cli.js ] || {
  echo "gpu-bundle: build first (pnpm install && pnpm build)" >&2
  exit 1
}

# Node, stripped (Node's own binary carries debug info: 99 MB -> 86 MB -> 22 MB xz)
ver="$(node -v)"
if [ ! -f .gpu/node.xz ] || [ "$(cat .gpu/node.version 2>/dev/null)" != "$ver" ]; then
  tmp="$(mktemp)"
  strip -o "$tmp" "$(readlink -f "$(command -v node)")"
  xz -T2 -9 -c "$tmp" >.gpu/node.xz.tmp && mv .gpu/node.xz.tmp .gpu/node.xz
  rm -f "$tmp"
  echo "$ver" >.gpu/node.version
fi

# the production closure of the workspace packages, as paths under node_modules/.pnpm
list="$(mktemp)"
node -e '
const fs = require("node:fs"), path = require("node:path");
const root = process.cwd(), pnpm = path.join(root, "node_modules", ".pnpm");
const entries = new Set(), seen = new Set();
function visit(dir) {
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const pkg = JSON.parse(fs.readFileSync(path.join(real, "package.json"), "utf8"));
  if (real.startsWith(pnpm + path.sep)) entries.add(path.relative(root, real).split(path.sep).slice(0, 3).join("/"));
  // pnpm: a package'"'"'s dependencies are links beside it (.pnpm/ENTRY/node_modules/DEP)
  const base = real.startsWith(pnpm + path.sep) ? path.join(real, "..", ...(pkg.name.startsWith("@") ? [".."] : [])) : path.join(real, "node_modules");
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    const d = path.join(base, dep);
    if (fs.existsSync(d)) visit(d);
  }
}
for (const p of fs.readdirSync(path.join(root, "packages"))) visit(path.join(root, "packages", p));
console.log([...entries].sort().join("\n"));
' >"$list"
echo "gpu-bundle: $(wc -l <"$list") packages in the production closure"
ort="$(grep '/onnxruntime-node@' "$list")"
tar --exclude="$ort/node_modules/onnxruntime-node/bin/napi-v6/darwin" \
  --exclude="$ort/node_modules/onnxruntime-node/bin/napi-v6/win32" \
  --exclude="$ort/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64" \
  -cf - packages/*/dist packages/*/node_modules -T "$list" | xz -T2 -6 >.gpu/runtime.tar.xz.tmp
mv .gpu/runtime.tar.xz.tmp .gpu/runtime.tar.xz
rm -f "$list"

# the Vulkan loader for the WebGPU provider (amd64; apt lists kept apart from the system's)
if ! ls .gpu/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/edmkit-apt-amd64/partial
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/edmkit-apt-amd64"
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null && (cd .gpu/debs && apt-get $o download libvulkan1) >/dev/null 2>&1 ||
    echo "gpu-bundle: could not download libvulkan1 (the WebGPU check then needs a Vulkan loader on the GPU machine)" >&2
fi

du -b .gpu/node.xz .gpu/runtime.tar.xz .gpu/debs/*.deb 2>/dev/null
tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
other=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -1 | cut -f1)
gpu=$(du -sb .gpu | cut -f1)
total=$((tree + ${other:-0} + gpu))
echo "gpu-bundle: tracked $tree + untracked ${other:-0} + .gpu $gpu = $total bytes ($((total / 1048576)) MiB of 64 MiB)"
[ "$total" -lt $((64 * 1048576)) ] || {
  echo "gpu-bundle: OVER the device tool's 64 MiB" >&2
  exit 1
}
