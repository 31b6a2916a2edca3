#!/usr/bin/env bash
# GPU proof of the ONNX denoisers (docs/gpu.md, issue 17).
#
#   scripts/gpu-check.sh cuda|webgpu [OUTDIR] [bench options of scripts/gpu-check.mjs]
#
# OUTDIR defaults to $OUT (the device tool's folder) or reports/gpu-check. Stages, each under
# `timeout` so that nothing hangs:
#   setup        Node (PATH, else the carried .gpu/node.xz), the built packages (else the
#                carried .gpu/runtime.tar.xz), library paths for carried libraries
#   probe        a tiny graph on the provider, profiled (90 s)
#   bench        the float32 fixture models at batch 4,096 and 65,536 on the provider and on
#                the CPU (2 intra-op threads): placement, GPU vs CPU difference, median times
#                (420 s); where the probe failed, only a quick CPU pass (batch 4,096, 1 run)
#   conformance  edmkit conformance --device DEVICE end to end (180 s; skipped where the
#                probe failed)
#   report       OUTDIR/gpu-check.json, OUTDIR/gpu-check.md, OUTDIR/gpu-check.log,
#                OUTDIR/report/{report.md,report.json,index.html}
# The last line printed says the outcome. Exit: 0 all checks passed; 1 a check failed;
# 2 usage; 3 the device is not available here (the CPU part still ran); 4 setup (no Node,
# packages not built); 124 a stage ran out of time.
set -uo pipefail

device="${1:-}"
case "$device" in
cuda | webgpu) ;;
*)
  echo "usage: scripts/gpu-check.sh cuda|webgpu [OUTDIR] [bench options]" >&2
  exit 2
  ;;
esac
shift
out="${OUT:-reports/gpu-check}"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  out="$1"
  shift
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 4
mkdir -p "$out" || exit 4
out="$(cd "$out" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/edmkit-gpu-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$out/gpu-check.log"
: >"$log"
stages="$work/stages.tsv"
: >"$stages"

note() { echo "gpu-check: $*" | tee -a "$log" >&2; }
finish() { # rc, final line
  echo "gpu-check: $2" | tee -a "$log"
  exit "$1"
}
# run_stage NAME SECONDS CMD... : runs CMD under timeout, output appended to the log
# The whole script keeps inside GPU_CHECK_BUDGET_S (default 540 s, under the device tool's
# 600 s a command): each stage's limit is cut to what is left, less 30 s for the report.
deadline=$(($(date +%s) + ${GPU_CHECK_BUDGET_S:-540}))
run_stage() {
  local name="$1" secs="$2" t0 rc left
  shift 2
  t0=$(date +%s)
  left=$((deadline - t0 - 30))
  [ "$name" = report ] && left=$((left + 30))
  [ "$left" -lt "$secs" ] && secs=$left
  if [ "$secs" -le 0 ]; then
    printf '%s\t124\t0\t0\n' "$name" >>"$stages"
    echo "--- stage $name skipped: no time left" >>"$log"
    return 124
  fi
  echo "--- stage $name (limit ${secs}s): $*" >>"$log"
  timeout -k 10 "$secs" "$@" 2>>"$log"
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - t0))" "$secs" >>"$stages"
  return $rc
}
decompress_xz() { # FILE.xz DEST
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" >"$2"
  else
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"
  fi
}

# ------------------------------------------------------------------ setup: Node
node_ok() { command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; }
if ! node_ok && [ -f .gpu/node.xz ]; then
  mkdir -p "$work/bin"
  decompress_xz .gpu/node.xz "$work/bin/node" && chmod +x "$work/bin/node"
  export PATH="$work/bin:$PATH"
  note "using the carried Node ($(node -v 2>&1))"
fi
node_ok || finish 4 "FAIL: no Node.js >= 20 here and no carried .gpu/node.xz (make it with scripts/gpu-bundle.sh)"

# ------------------------------------------------------------------ setup: built packages
built() { [ -f packages/onnx/dist/index.js ] && [ -f packages/core/dist/index.js ] && node -e 'require.resolve("onnxruntime-node", {paths: ["packages/onnx"]})' 2>/dev/null; }
if ! built && [ -f .gpu/runtime.tar.xz ]; then
  note "unpacking the carried .gpu/runtime.tar.xz"
  decompress_xz .gpu/runtime.tar.xz "$work/runtime.tar" && tar -xf "$work/runtime.tar" && rm -f "$work/runtime.tar"
fi
built || finish 4 "FAIL: packages not built or onnxruntime-node missing (run pnpm install && pnpm build, or carry .gpu from scripts/gpu-bundle.sh)"
ortdir="$(node -e 'const p=require("node:path");console.log(p.join(p.dirname(require.resolve("onnxruntime-node/package.json",{paths:["packages/onnx"]})),"bin/napi-v6",process.platform,process.arch))')"

# ------------------------------------------------------------------ setup: libraries
add_lib() { [ -d "$1" ] && export LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; }
if [ "$device" = webgpu ]; then
  # Dawn dlopens libvulkan.so.1; without a system loader, unpack a carried libvulkan1 .deb
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    for deb in .gpu/debs/libvulkan1_*.deb .gl/libvulkan1_*.deb; do
      [ -f "$deb" ] || continue
      dpkg -x "$deb" "$work/vk" && add_lib "$work/vk/usr/lib/x86_64-linux-gnu" && note "Vulkan loader from $deb"
      break
    done
  fi
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$icd" ]; then
        export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
        note "Vulkan driver $icd"
        break
      fi
    done
  fi
else
  # a carried CUDA provider (.gpu/cuda/libonnxruntime_providers_*.so, built for this onnxruntime)
  if [ -f .gpu/cuda/libonnxruntime_providers_cuda.so ] && [ ! -f "$ortdir/libonnxruntime_providers_cuda.so" ]; then
    cp .gpu/cuda/libonnxruntime_providers_*.so "$ortdir/" && note "CUDA provider copied from .gpu/cuda"
  fi
  # CUDA runtime / cuBLAS / cuDNN: carried, a toolkit, or the Python nvidia-* wheels of the image
  add_lib /usr/local/cuda/lib64
  for d in $(timeout 20 python3 -c 'import nvidia, os; [print(os.path.join(p, d, "lib")) for p in nvidia.__path__ for d in sorted(os.listdir(p))]' 2>/dev/null); do add_lib "$d"; done
  add_lib "$root/.gpu/cuda/lib"
fi

# ------------------------------------------------------------------ meta
gpu="$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
vulkan="$(ldconfig -p 2>/dev/null | grep -m1 'libvulkan\.so\.1' | sed 's/.*=> //')"
GC_DEVICE="$device" GC_GPU="$gpu" GC_VULKAN="$vulkan" GC_ORTDIR="$ortdir" node -e '
const e = process.env;
require("node:fs").writeFileSync(process.argv[1], JSON.stringify({
  device: e.GC_DEVICE, gpu: e.GC_GPU || null, node: process.version, platform: `${process.platform}/${process.arch}`,
  ortBinaryDir: e.GC_ORTDIR, systemVulkanLoader: e.GC_VULKAN || null,
  env: Object.fromEntries(["LD_LIBRARY_PATH", "VK_DRIVER_FILES", "VK_ICD_FILENAMES"].map((k) => [k, e[k] ?? null])),
  started: new Date().toISOString() }, null, 1));' "$work/meta.json"
note "device $device; GPU: ${gpu:-none seen by nvidia-smi}; Node $(node -v)"

# ------------------------------------------------------------------ probe
run_stage probe 90 node scripts/gpu-check.mjs probe "$device" >"$work/probe.json"
prc=$?
# the reason's first sentence (the full message is in gpu-check.json and the log)
reason="$(node -e 'try{const p=require(process.argv[1]);console.log(p.available?"":p.message.split(/\.\s/)[0])}catch{console.log("the probe stage gave no answer")}' "$work/probe.json" 2>/dev/null)"
[ $prc -eq 124 ] || [ $prc -eq 137 ] && reason="the probe did not finish within 90 s (hung starting the provider?)"
[ $prc -ne 0 ] && [ -z "$reason" ] && reason="the probe stage exited with status $prc (see gpu-check.log)"

# ------------------------------------------------------------------ bench
if [ $prc -eq 0 ]; then
  run_stage bench 420 node scripts/gpu-check.mjs bench "$device" "$work/bench.json" "$@"
else
  note "device $device not available: $reason"
  note "running the CPU part only (batch 4,096, one timed run)"
  run_stage bench 120 node scripts/gpu-check.mjs bench none "$work/bench.json" --batches 4096 --reps 1 "$@"
fi
brc=$?

# ------------------------------------------------------------------ conformance
if [ $prc -eq 0 ] && [ ! -f packages/conformance/dist/cli.js ]; then
  note "packages/conformance is not built: conformance stage skipped"
elif [ $prc -eq 0 ]; then
  run_stage conformance 180 node packages/conformance/dist/cli.js conformance --device "$device" --out "$work/report" >"$work/conformance.out"
  crc=$?
  cat "$work/conformance.out" >>"$log"
  mkdir -p "$out/report"
  for f in report.md report.json index.html; do [ -f "$work/report/$f" ] && cp "$work/report/$f" "$out/report/"; done
  GC_RC=$crc GC_DEVICE="$device" node -e '
const fs = require("node:fs");
const text = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
const problems = text.filter((l) => l.startsWith("PROBLEM:"));
const dev = process.env.GC_DEVICE;
fs.writeFileSync(process.argv[2], JSON.stringify({ exit: +process.env.GC_RC,
  summary: text.find((l) => l.startsWith("fixtures:")) ?? null,
  reportWritten: text.some((l) => l.startsWith("report written")),
  problems, deviceProblems: problems.filter((l) => l.includes(`onnx:${dev}`) || l.includes(`"${dev}"`)),
  tail: text.slice(-15) }, null, 1));' "$work/conformance.out" "$work/conformance.json"
fi

# ------------------------------------------------------------------ report
node -e '
const fs = require("node:fs");
const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean);
fs.writeFileSync(process.argv[2], JSON.stringify(Object.fromEntries(rows.map((r) => {
  const [name, rc, seconds, limit] = r.split("\t");
  return [name, { exit: +rc, seconds: +seconds, limitSeconds: +limit, timedOut: rc === "124" || rc === "137" }];
})), null, 1));' "$stages" "$work/stages.json"
run_stage report 60 node scripts/gpu-check.mjs report "$work" "$out" >"$work/verdict.json" || finish 1 "FAIL: the report stage failed (see $log)"
timed_out="$(awk -F'\t' '$2==124||$2==137{printf "%s%s", sep, $1; sep=", "}' "$stages")"

if [ $prc -ne 0 ]; then
  finish 3 "FAIL: device \"$device\" is not available: $reason (CPU part written to $out/gpu-check.json)"
fi
[ -n "$timed_out" ] && finish 124 "FAIL: stage(s) $timed_out ran out of time (partial results in $out/gpu-check.json)"
[ $brc -ne 0 ] && finish 1 "FAIL: the bench stage exited with status $brc (see $out/gpu-check.log)"
summary="$(node -e '
const r = require(process.argv[1]); const c = r.checks;
const bad = [];
if (!c.placementAllOnGpu) bad.push("placement not all on the GPU provider");
if (!c.outputsWithinBound) bad.push("GPU outputs outside the bound");
if (!c.conformanceDeviceClean) bad.push(`conformance --device: ${(r.conformance?.deviceProblems?.[0] ?? "no report").split(/\.\s/)[0]}`);
if ((r.bench?.errors ?? []).length) bad.push(`${r.bench.errors.length} bench error(s)`);
const sp = c.digitsExact65536Speedup ? `digits8x8-exact @65,536 ${c.digitsExact65536Speedup.toFixed(1)}x vs CPU` : "";
console.log(bad.length ? `FAIL: ${bad.join("; ")}` : `OK: ${r.bench.provider}: placement proven, outputs within bound, conformance clean; ${sp}`);
' "$out/gpu-check.json")"
case "$summary" in
OK:*) finish 0 "$summary (details: $out/gpu-check.md)" ;;
*) finish 1 "$summary (details: $out/gpu-check.md)" ;;
esac
