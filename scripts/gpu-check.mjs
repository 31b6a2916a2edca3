#!/usr/bin/env node
/**
 * The Node half of scripts/gpu-check.sh (docs/gpu.md). Uses the built dist of @edmkit/onnx.
 *
 *   node scripts/gpu-check.mjs probe DEVICE                     -> JSON on stdout; exit 0 available, 3 not
 *   node scripts/gpu-check.mjs bench DEVICE|none FILE [options] -> writes FILE (JSON) after every cell
 *   node scripts/gpu-check.mjs report WORKDIR OUTDIR            -> OUTDIR/gpu-check.json + gpu-check.md
 *
 * bench options: --batches 4096,65536  --reps N (timed runs per cell, median reported)
 *                --cpu-threads N (intra-op threads of the CPU baseline, default 2)
 *                --cell-budget-ms MS (stop repeating a cell after this much time; default 4000)
 *                --models a,b (names in fixtures/models without .onnx)
 *
 * Every stage is short and bounded; gpu-check.sh also runs each one under `timeout`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const modelsDir = join(root, "fixtures", "models");

/** float32 models the check runs, with the bound on max |gpu - cpu| / max(1, |cpu|). */
export const MODELS = [
  { name: "digits8x8-exact", kind: "exact", twin64: "digits8x8-exact-f64" },
  { name: "digits8x8-unet-edm", kind: "network" },
  { name: "gmm2d-ring8", kind: "exact", twin64: "gmm2d-ring8-f64" },
  { name: "gmm2d-ring8-discrete-eps", kind: "exact", twin64: "gmm2d-ring8-discrete-eps-f64" },
  { name: "gmm1d-bimodal", kind: "exact", twin64: "gmm1d-bimodal-f64" },
  { name: "mlp2d-ring8-edm", kind: "network" },
];
/**
 * Bounds (docs/gpu.md "Accuracy bound"): both sides evaluate the same float32 graph, in a
 * different order (reductions, fused kernels, GPU exp/log), so they differ by float32
 * round-off: the CPU float32 graphs are within 1.5e-6 .. 5.4e-6 of float64 (ONNX.md); 1e-4
 * leaves a factor 20 for the GPU's own order and its exp/log (WGSL allows a few ulp).
 * Networks may run their GEMMs / convolutions in TF32 on an NVIDIA GPU (10-bit mantissa,
 * unit round-off 2^-11 = 4.9e-4): 2e-3, four units of TF32 round-off.
 */
export const BOUNDS = { exact: 1e-4, network: 2e-3 };
const EXIT_UNAVAILABLE = 3;

function args(argv) {
  const pos = [];
  const opt = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) opt[argv[i].slice(2)] = argv[++i];
    else pos.push(argv[i]);
  }
  return { pos, opt };
}

async function onnx() {
  return import(join(root, "packages", "onnx", "dist", "index.js"));
}

function firstLine(e) {
  return String(e instanceof Error ? e.message : e)
    .split("\n")[0]
    .trim();
}

/** With a deadline: a stuck native call cannot hold a stage forever (gpu-check.sh adds `timeout`). */
function within(ms, what, p) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
      t.unref();
    }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------- probe
async function probe(device) {
  const m = await onnx();
  const backends = m.supportedBackends();
  let result;
  try {
    m.checkDeviceAvailable(device);
    result = await within(60_000, `probe of "${device}"`, m.probeDevice(device));
  } catch (e) {
    result = { device, available: false, message: firstLine(e) };
  }
  result.backends = backends;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.available ? 0 : EXIT_UNAVAILABLE);
}

// ---------------------------------------------------------------- inputs
function rng(seed) {
  let s = BigInt(seed) | 1n;
  const next = () => {
    s ^= s << 13n;
    s &= 0xffffffffffffffffn;
    s ^= s >> 7n;
    s ^= s << 17n;
    s &= 0xffffffffffffffffn;
    return Number(s >> 11n) / 2 ** 53;
  };
  const normal = () => {
    const u = next() || 1e-300;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { next, normal };
}

let digits;
function digitsRows() {
  if (!digits) {
    const d = JSON.parse(readFileSync(join(root, "fixtures", "datasets", "digits8x8.json"), "utf8"));
    const side = JSON.parse(readFileSync(join(modelsDir, "digits8x8-exact.json"), "utf8"));
    const { scale, shift } = side.denoiser.transform; // Y = pixels / 8 - 1
    digits = { n: d.count, rows: Float64Array.from(d.pixels, (p) => p * scale + shift) };
  }
  return digits;
}

/**
 * Inputs a sampler would give: x = x0 + sigma * n with x0 a digit (digits models) or a mixture
 * draw, sigma log-uniform in [0.002, 80]; discrete models get timesteps 0..999.
 */
function makeInputs(model, batch, seed) {
  const r = rng(seed);
  const rowShape = model.rowShape.map((d) => d ?? 1);
  const per = rowShape.reduce((a, b) => a * b, 1);
  const x = new Float64Array(batch * per);
  const cond = new Float64Array(batch);
  const discrete = model.parameterization !== "denoiser";
  const isDigits = per === 64;
  for (let b = 0; b < batch; b++) {
    const sigma = discrete ? 1 : Math.exp(Math.log(0.002) + r.next() * Math.log(80 / 0.002));
    cond[b] = discrete ? Math.floor(r.next() * 1000) : sigma;
    if (isDigits) {
      const d = digitsRows();
      const i = Math.floor(r.next() * d.n);
      for (let k = 0; k < per; k++) x[b * per + k] = d.rows[i * per + k] + sigma * r.normal();
    } else {
      const angle = (Math.floor(r.next() * 8) * Math.PI) / 4;
      for (let k = 0; k < per; k++) {
        const mean =
          per === 1 ? (r.next() < 0.5 ? -1 : 1) : 2 * (k === 0 ? Math.cos(angle) : Math.sin(angle));
        x[b * per + k] = mean + Math.hypot(sigma, 0.3) * r.normal();
      }
    }
  }
  return { shape: [batch, ...rowShape], x, cond };
}

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function timeRuns(model, input, out, { reps, budgetMs, tensor }) {
  const x = tensor(input.x, input.shape);
  const o = tensor(out, input.shape);
  const warm = [];
  // two warm-up runs (the first allocates), one where a run takes over a second (budget)
  for (let i = 0; i < 2 && !(i === 1 && warm[0] > 1000); i++) {
    const t0 = process.hrtime.bigint();
    await within(180_000, `${model.file} run`, model.run(x, input.cond, o));
    warm.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const ms = [];
  const start = Date.now();
  while (ms.length < reps && (ms.length === 0 || Date.now() - start < budgetMs)) {
    const t0 = process.hrtime.bigint();
    await within(180_000, `${model.file} run`, model.run(x, input.cond, o));
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { warmupMs: warm, ms, medianMs: median(ms) };
}

function compare(ref, got) {
  let maxAbs = 0;
  let maxRel = 0;
  let at = -1;
  let nonFinite = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) {
      nonFinite++;
      continue;
    }
    const d = Math.abs(got[i] - ref[i]);
    const rel = d / Math.max(1, Math.abs(ref[i]));
    if (d > maxAbs) maxAbs = d;
    if (rel > maxRel) {
      maxRel = rel;
      at = i;
    }
  }
  return { maxAbs, maxRel, at, nonFinite };
}

// ---------------------------------------------------------------- bench
async function bench(device, file, opt) {
  const m = await onnx();
  const { tensor } = await import(join(root, "packages", "core", "dist", "index.js"));
  const batches = (opt.batches ?? "4096,65536").split(",").map(Number);
  const reps = Number(opt.reps ?? 5);
  const budgetMs = Number(opt["cell-budget-ms"] ?? 4000);
  const cpuThreads = Number(opt["cpu-threads"] ?? 2);
  const names = opt.models ? opt.models.split(",") : MODELS.map((x) => x.name);
  const gpu = device === "none" ? undefined : device;
  const res = {
    device: gpu ?? null,
    provider: gpu ? m.providerNames[gpu] : null,
    cpuThreads,
    hostCpus: cpus().length,
    reps,
    cellBudgetMs: budgetMs,
    batches,
    bounds: BOUNDS,
    cells: [],
    models: {},
    errors: [],
    started: new Date().toISOString(),
  };
  const save = () => {
    res.updated = new Date().toISOString();
    writeFileSync(`${file}.tmp`, `${JSON.stringify(res, null, 1)}\n`);
    renameSync(`${file}.tmp`, file);
  };
  save();
  for (const name of names) {
    const spec = MODELS.find((x) => x.name === name) ?? { name, kind: "network" };
    const path = join(modelsDir, `${name}.onnx`);
    const info = { kind: spec.kind, bound: BOUNDS[spec.kind] };
    res.models[name] = info;
    let cpu;
    let dev;
    let f64;
    try {
      cpu = await m.OnnxDenoiser.load(path, { intraOpNumThreads: cpuThreads });
      if (gpu) {
        try {
          dev = await within(
            120_000,
            `loading ${name} on ${gpu}`,
            m.OnnxDenoiser.load(path, { device: gpu }),
          );
          info.placement = await within(120_000, `placement of ${name}`, dev.placement());
          const nodes = info.placement.nodesByProvider;
          info.allNodesOnGpu = Object.keys(nodes).length === 1 && nodes[m.providerNames[gpu]] > 0;
        } catch (e) {
          info.gpuError = firstLine(e);
          res.errors.push(`${name}: ${info.gpuError}`);
          if (/allowCpuNodes/.test(info.gpuError)) {
            // which nodes the provider cannot take: load again with a mixed placement, and
            // time it too (reported, but allNodesOnGpu stays false)
            try {
              dev = await within(
                120_000,
                `loading ${name} mixed`,
                m.OnnxDenoiser.load(path, { device: gpu, allowCpuNodes: true }),
              );
              info.placement = await within(120_000, `placement of ${name}`, dev.placement());
              info.mixedPlacement = true;
              info.nodesOffGpu = Object.entries(info.placement.providerOfNode)
                .filter(([, p]) => p !== m.providerNames[gpu])
                .map(([n]) => n);
            } catch (e2) {
              info.mixedError = firstLine(e2);
            }
          }
        }
      }
      if (spec.twin64)
        f64 = await m.OnnxDenoiser.load(join(modelsDir, `${spec.twin64}.onnx`), {
          intraOpNumThreads: cpuThreads,
        });
      for (const batch of batches) {
        const input = makeInputs(cpu, batch, 1234 + batch);
        const cell = { model: name, batch, kind: spec.kind, bound: info.bound };
        res.cells.push(cell);
        const outCpu = new Float64Array(input.x.length);
        cell.cpu = await timeRuns(cpu, input, outCpu, { reps, budgetMs, tensor });
        if (f64 && batch === batches[0]) {
          const ref = new Float64Array(input.x.length);
          await f64.run(tensor(input.x, input.shape), input.cond, tensor(ref, input.shape));
          cell.cpuVsFloat64 = compare(ref, outCpu);
          cell.float64Ref = ref;
        }
        save();
        if (dev) {
          const outGpu = new Float64Array(input.x.length);
          try {
            cell.gpu = await timeRuns(dev, input, outGpu, { reps, budgetMs, tensor });
            cell.gpuVsCpu = compare(outCpu, outGpu);
            cell.withinBound = cell.gpuVsCpu.nonFinite === 0 && cell.gpuVsCpu.maxRel <= info.bound;
            if (info.mixedPlacement) cell.mixedPlacement = true;
            cell.speedup = cell.cpu.medianMs / cell.gpu.medianMs;
            if (cell.float64Ref) cell.gpuVsFloat64 = compare(cell.float64Ref, outGpu);
          } catch (e) {
            cell.gpuError = firstLine(e);
            res.errors.push(`${name} batch ${batch}: ${cell.gpuError}`);
          }
        }
        delete cell.float64Ref;
        save();
      }
    } catch (e) {
      info.error = firstLine(e);
      res.errors.push(`${name}: ${info.error}`);
    } finally {
      for (const s of [cpu, dev, f64]) await s?.release().catch(() => {});
    }
    save();
  }
  // float64 on the GPU: CUDA has float64 kernels, WebGPU none (ONNX.md: expected refused).
  if (gpu) {
    try {
      const d = await within(
        60_000,
        "float64 load",
        m.OnnxDenoiser.load(join(modelsDir, "gmm2d-ring8-f64.onnx"), { device: gpu }),
      );
      const p = await within(60_000, "float64 placement", d.placement());
      res.float64OnGpu = { loaded: true, placement: p.nodesByProvider };
      await d.release();
    } catch (e) {
      res.float64OnGpu = { loaded: false, message: firstLine(e) };
    }
  }
  res.finished = new Date().toISOString();
  save();
  process.exit(0);
}

// ---------------------------------------------------------------- report
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

const fmtMs = (v) => (v === undefined ? "—" : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const fmtE = (v) => (v === undefined ? "—" : v.toExponential(1));

function report(work, outDir) {
  const meta = readJson(join(work, "meta.json")) ?? {};
  const probeRes = readJson(join(work, "probe.json"));
  const benchRes = readJson(join(work, "bench.json"));
  const conf = readJson(join(work, "conformance.json"));
  const stages = readJson(join(work, "stages.json")) ?? {};
  const cells = benchRes?.cells ?? [];
  const gpuCells = cells.filter((c) => c.gpu);
  const checks = {
    deviceAvailable: probeRes?.available === true,
    placementAllOnGpu:
      benchRes && Object.keys(benchRes.models).length > 0
        ? Object.values(benchRes.models).every((x) => x.allNodesOnGpu === true)
        : false,
    outputsWithinBound:
      gpuCells.length > 0 && gpuCells.length === cells.length && gpuCells.every((c) => c.withinBound),
    conformanceExit: conf?.exit ?? null,
    // the suite's own PROBLEM lines that are not about the device (e.g. provenance coverage)
    // are reported but do not fail the GPU check
    conformanceDeviceClean: conf ? conf.reportWritten === true && conf.deviceProblems.length === 0 : false,
  };
  const big = cells.find((c) => c.model === "digits8x8-exact" && c.batch === 65536);
  checks.digitsExact65536Speedup = big?.speedup ?? null;
  checks.digitsExact65536AtLeast10x = big?.speedup !== undefined ? big.speedup >= 10 : false;
  const ok =
    checks.deviceAvailable &&
    checks.placementAllOnGpu &&
    checks.outputsWithinBound &&
    checks.conformanceDeviceClean &&
    (benchRes?.errors?.length ?? 1) === 0;
  const out = {
    format: "edmkit-gpu-check/1",
    device: meta.device,
    ok,
    checks,
    meta,
    stages,
    probe: probeRes,
    bench: benchRes,
    conformance: conf,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "gpu-check.json"), `${JSON.stringify(out, null, 1)}\n`);
  const provider = benchRes?.provider ?? meta.device;
  const lines = [
    `# gpu-check: ${meta.device} (${ok ? "OK" : "NOT OK"})`,
    "",
    `- machine: ${meta.gpu || "no GPU seen (nvidia-smi)"}; node ${meta.node}; ${benchRes?.hostCpus ?? "?"} CPUs, CPU baseline on ${benchRes?.cpuThreads ?? "?"} intra-op threads`,
    `- device probe: ${probeRes ? (probeRes.available ? "available" : "NOT available") : "not run"}${probeRes ? `: ${probeRes.message}` : ""}`,
    `- placement: ${checks.placementAllOnGpu ? `every node of every model on ${provider}` : "NOT proven"}`,
    `- conformance --device ${meta.device}: ${conf ? `exit ${conf.exit}${conf.summary ? ` (${conf.summary})` : ""}; ${conf.deviceProblems.length} problem(s) about the device, ${conf.problems.length - conf.deviceProblems.length} other` : "not run"}`,
    ...(conf?.deviceProblems ?? []).map((l) => `  - ${l}`),
    ...Object.entries(benchRes?.models ?? {})
      .filter(([, x]) => x.mixedPlacement)
      .map(([n, x]) => `- ${n}: mixed placement, off the GPU: ${x.nodesOffGpu.join(", ")}`),
    `- digits8x8-exact at batch 65,536: ${big?.speedup ? `${big.speedup.toFixed(1)}x faster on the GPU` : "no GPU figure"}`,
    "",
    "| model | batch | CPU median ms | GPU median ms | speedup | max rel. diff GPU vs CPU | bound | CPU f32 vs f64 | GPU f32 vs f64 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...cells.map(
      (c) =>
        `| ${c.model}${c.mixedPlacement ? " (mixed)" : ""} | ${c.batch} | ${fmtMs(c.cpu?.medianMs)} | ${c.gpuError ? "error" : fmtMs(c.gpu?.medianMs)} | ${c.speedup ? `${c.speedup.toFixed(1)}x` : "—"} | ${fmtE(c.gpuVsCpu?.maxRel)}${c.gpu ? (c.withinBound ? "" : " OVER") : ""} | ${fmtE(c.bound)} | ${fmtE(c.cpuVsFloat64?.maxRel)} | ${fmtE(c.gpuVsFloat64?.maxRel)} |`,
    ),
    "",
  ];
  if (benchRes?.float64OnGpu)
    lines.push(`float64 graph on ${meta.device}: ${JSON.stringify(benchRes.float64OnGpu)}`, "");
  if (benchRes?.errors?.length) lines.push("Errors:", ...benchRes.errors.map((e) => `- ${e}`), "");
  writeFileSync(join(outDir, "gpu-check.md"), lines.join("\n"));
  process.stdout.write(`${JSON.stringify({ ok, checks })}\n`);
  process.exit(0);
}

const [cmd, ...rest] = process.argv.slice(2);
const { pos, opt } = args(rest);
try {
  if (cmd === "probe") await probe(pos[0]);
  else if (cmd === "bench") await bench(pos[0], pos[1], opt);
  else if (cmd === "report") report(pos[0], pos[1]);
  else {
    process.stderr.write(
      "usage: gpu-check.mjs probe DEVICE | bench DEVICE|none FILE [options] | report WORKDIR OUTDIR\n",
    );
    process.exit(2);
  }
} catch (e) {
  process.stderr.write(`gpu-check.mjs ${cmd}: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
}
