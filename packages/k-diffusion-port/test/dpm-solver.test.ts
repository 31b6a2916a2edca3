import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  compareReplay,
  compareValues,
  type Denoiser,
  GaussianMixture,
  modelFromSpec,
  type NoiseSource,
  observeDenoiser,
  Recorder,
  ReplayNoise,
  type RunFixture,
  type Tensor,
  tensor,
} from "@edmkit/core";
import { loadFixture } from "@edmkit/core/node";
import { describe, expect, test } from "vitest";
import {
  type DpmAdaptiveOptions,
  type DpmAdaptiveResult,
  type DpmCallbackPayload,
  dpmFastSchedule,
  sampleDpmAdaptive,
  sampleDpmFast,
} from "../src/samplers/dpm-solver.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtureDir = join(here, "../../../fixtures/reference/k-diffusion");
const fixtureFiles = readdirSync(fixtureDir)
  .filter((f) => /^sample_dpm_(fast|adaptive)__.*\.json$/.test(f))
  .sort();

// ---- reference.call -> port arguments ----------------------------------------------------

const placeholders = new Set(["model", "x", "noise_sampler", "callback"]);
const optionKeys: Record<string, keyof DpmAdaptiveOptions> = {
  eta: "eta",
  s_noise: "sNoise",
  order: "order",
  rtol: "rtol",
  atol: "atol",
  h_init: "hInit",
  pcoeff: "pcoeff",
  icoeff: "icoeff",
  dcoeff: "dcoeff",
  accept_safety: "acceptSafety",
  return_info: "returnInfo",
};

function callArgs(f: RunFixture): {
  sigmaMin: number;
  sigmaMax: number;
  n?: number;
  options: DpmAdaptiveOptions;
} {
  const call = f.reference.call as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(call)) {
    if (placeholders.has(k) || k === "sigma_min" || k === "sigma_max" || k === "n") continue;
    const key = optionKeys[k];
    if (!key) throw new Error(`${f.id}: reference.call.${k} has no mapping in this test`);
    options[key] = v;
  }
  return {
    sigmaMin: call.sigma_min as number,
    sigmaMax: call.sigma_max as number,
    n: call.n as number | undefined,
    options: options as DpmAdaptiveOptions,
  };
}

describe("fixture replay", () => {
  test("the fixture set is present", () => {
    expect(fixtureFiles.filter((f) => f.startsWith("sample_dpm_fast__")).length).toBeGreaterThanOrEqual(3);
    expect(fixtureFiles.filter((f) => f.startsWith("sample_dpm_adaptive__")).length).toBeGreaterThanOrEqual(
      2,
    );
  });

  test.each(fixtureFiles)("%s", async (file) => {
    const f = loadFixture(join(fixtureDir, file)) as RunFixture;
    const recorder = new Recorder();
    const inner = modelFromSpec(f.denoiser);
    if (!("denoise" in inner))
      throw new Error(`${f.id}: DPM-Solver fixtures drive a continuous denoiser, got ${f.denoiser.kind}`);
    const model = observeDenoiser(inner, recorder);
    const noise = new ReplayNoise(f.noise.draws.slice(1), f.id);
    const x = tensor(f.x_init, f.shape, f.dtype);
    const xBefore = Float64Array.from(x.data);
    const { sigmaMin, sigmaMax, n, options } = callArgs(f);
    const common = { ...options, noiseSampler: noise, observer: recorder };

    let output: Tensor;
    if (f.reference.entry === "sample_dpm_fast") {
      expect(options.returnInfo).toBeUndefined();
      // the solver's t grid and orders, as captured from the original's locals
      const sched = dpmFastSchedule(sigmaMin, sigmaMax, n as number, f.dtype);
      expect(compareValues(sched.ts, f.schedule.ts as number[], f.tolerance).ok).toBe(true);
      expect(sched.orders).toEqual(f.schedule.orders);
      output = await sampleDpmFast(model, x, sigmaMin, sigmaMax, n as number, common);
    } else {
      expect(f.reference.entry).toBe("sample_dpm_adaptive");
      const res = await sampleDpmAdaptive(model, x, sigmaMin, sigmaMax, common);
      if (options.returnInfo) {
        const { x: out, info } = res as DpmAdaptiveResult;
        expect(info).toEqual(f.info);
        output = out;
      } else {
        output = res as Tensor;
      }
      // the solver starts and ends where the original did
      const first = recorder.modelCalls[0].sigma as number;
      expect(compareValues(-Math.log(first), f.schedule.t_start as number, f.tolerance).ok).toBe(true);
      const last = recorder.steps[recorder.steps.length - 1].t as number;
      expect(compareValues(last, f.schedule.t_end as number, f.tolerance).ok).toBe(true);
    }

    const result = compareReplay(f, {
      modelCalls: recorder.modelCalls,
      steps: recorder.steps,
      output: output.data,
      noiseConsumed: noise.consumed,
    });
    expect(result.status, JSON.stringify({ checks: result.checks, first: result.firstDivergence })).toBe(
      "pass",
    );
    noise.assertExhausted();
    // every step field of the original is reproduced, under its name
    for (let s = 0; s < f.steps.length; s++) {
      expect(Object.keys(recorder.steps[s]).sort()).toEqual(Object.keys(f.steps[s]).sort());
    }
    // the noise sampler was asked with the original's (sigma, sigma_next)
    const calls = f.noise.calls ?? [];
    expect(noise.requests.length).toBe(calls.length);
    calls.forEach((c, j) => {
      const req = noise.requests[j];
      expect(req?.step).toBe(c.i);
      expect(
        compareValues(
          [req?.sigma ?? NaN, req?.sigmaNext ?? NaN],
          [c.sigma as number, c.sigma_next as number],
          f.tolerance,
        ).ok,
      ).toBe(true);
    });
    expect(Array.from(x.data)).toEqual(Array.from(xBefore)); // input not modified
  });
});

// ---- math ---------------------------------------------------------------------------------

const bimodal = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
const single = new GaussianMixture({ dim: 1, weights: [1], means: [[0.5]], stds: [0.3] });
const starts = [-1.5, -0.7, -0.2, 0.1, 0.4, 0.9, 1.3, 2.1];
const SIGMA_MIN = 0.01,
  SIGMA_MAX = 20;

/** Closed-form probability-flow ODE solution for one Gaussian N(mu, s^2): x - mu scales as sqrt(s^2 + sigma^2). */
function exactSingle(x0: readonly number[], sigma0: number, sigma1: number): number[] {
  const mu = 0.5,
    s2 = 0.09;
  const k = Math.sqrt((s2 + sigma1 * sigma1) / (s2 + sigma0 * sigma0));
  return x0.map((v) => mu + (v - mu) * k);
}

/**
 * Independent reference for a mixture: classical RK4 on dx/dt = D(x; e^-t) - x (the
 * probability-flow ODE in t = -log sigma) with a fine step.
 */
function rk4(g: GaussianMixture, x0: readonly number[], t0: number, t1: number, steps: number): Float64Array {
  const n = x0.length,
    shape = [n, 1];
  const x = Float64Array.from(x0);
  const sig = new Float64Array(n);
  const f = (xx: Float64Array, t: number): Float64Array => {
    sig.fill(Math.exp(-t));
    const d = g.denoiseSync(tensor(xx, shape), sig).data;
    return xx.map((v, i) => d[i] - v);
  };
  const h = (t1 - t0) / steps;
  for (let k = 0; k < steps; k++) {
    const t = t0 + k * h;
    const k1 = f(x, t);
    const k2 = f(
      x.map((v, i) => v + (h / 2) * k1[i]),
      t + h / 2,
    );
    const k3 = f(
      x.map((v, i) => v + (h / 2) * k2[i]),
      t + h / 2,
    );
    const k4 = f(
      x.map((v, i) => v + h * k3[i]),
      t + h,
    );
    for (let i = 0; i < n; i++) x[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  return x;
}

const maxErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("convergence to the exact ODE solution", () => {
  const x0 = starts.map((v) => v * SIGMA_MAX);
  const xT = (): Tensor => tensor(x0, [x0.length, 1]);

  test("single Gaussian: closed form, third order (n = 3k+2 doubles the steps at 2n+1)", async () => {
    const exact = exactSingle(x0, SIGMA_MAX, SIGMA_MIN);
    const errs: number[] = [];
    for (const n of [95, 191, 383])
      errs.push(maxErr((await sampleDpmFast(single, xT(), SIGMA_MIN, SIGMA_MAX, n)).data, exact));
    expect(errs[0]).toBeLessThan(1e-4);
    const orders = [Math.log2(errs[0] / errs[1]), Math.log2(errs[1] / errs[2])];
    expect(orders[1]).toBeGreaterThan(2.7);
    expect(orders[1]).toBeLessThan(3.5);
    expect(orders[0]).toBeGreaterThan(2.7);
  });

  test("bimodal mixture: RK4 reference, third order", async () => {
    const t0 = -Math.log(SIGMA_MAX),
      t1 = -Math.log(SIGMA_MIN);
    const ref = rk4(bimodal, x0, t0, t1, 4000);
    expect(maxErr(ref, rk4(bimodal, x0, t0, t1, 2000))).toBeLessThan(1e-10); // the reference itself is converged
    const errs: number[] = [];
    for (const n of [95, 191, 383])
      errs.push(maxErr((await sampleDpmFast(bimodal, xT(), SIGMA_MIN, SIGMA_MAX, n)).data, ref));
    expect(errs[2]).toBeLessThan(1e-6);
    const order = Math.log2(errs[1] / errs[2]);
    expect(order).toBeGreaterThan(2.7);
    expect(order).toBeLessThan(3.6);
  });

  test("adaptive: tighter tolerances give smaller errors, at the cost of more evaluations", async () => {
    const exact = exactSingle(x0, SIGMA_MAX, SIGMA_MIN);
    const loose = await sampleDpmAdaptive(single, xT(), SIGMA_MIN, SIGMA_MAX, { returnInfo: true });
    const tight = await sampleDpmAdaptive(single, xT(), SIGMA_MIN, SIGMA_MAX, {
      returnInfo: true,
      rtol: 1e-4,
      atol: 1e-5,
    });
    const eLoose = maxErr(loose.x.data, exact),
      eTight = maxErr(tight.x.data, exact);
    expect(eTight).toBeLessThan(1e-4);
    expect(eTight).toBeLessThan(eLoose / 10);
    expect(tight.info.nfe).toBeGreaterThan(loose.info.nfe);
    expect(tight.info.nfe).toBe(3 * tight.info.steps);
    expect(tight.info.n_accept + tight.info.n_reject).toBe(tight.info.steps);
  });

  test("adaptive order 2 (DPM-Solver-12) also converges, with 2 evaluations per attempt", async () => {
    const exact = exactSingle(x0, SIGMA_MAX, SIGMA_MIN);
    const res = await sampleDpmAdaptive(single, xT(), SIGMA_MIN, SIGMA_MAX, {
      order: 2,
      rtol: 1e-4,
      atol: 1e-5,
      returnInfo: true,
    });
    expect(maxErr(res.x.data, exact)).toBeLessThan(1e-3);
    expect(res.info.nfe).toBe(2 * res.info.steps);
  });

  test("sigma_min > sigma_max integrates the ODE in reverse (the original's encoding direction)", async () => {
    const data = tensor(exactSingle(x0, SIGMA_MAX, SIGMA_MIN), [x0.length, 1]);
    const back = await sampleDpmFast(single, data, SIGMA_MAX, SIGMA_MIN, 191);
    expect(maxErr(back.data, x0)).toBeLessThan(1e-3 * SIGMA_MAX);
    const backAdaptive = await sampleDpmAdaptive(single, data, SIGMA_MAX, SIGMA_MIN, {
      rtol: 1e-5,
      atol: 1e-6,
    });
    expect(maxErr(backAdaptive.data, x0)).toBeLessThan(1e-3 * SIGMA_MAX);
  });
});

// ---- eta > 0: the ancestral variant samples the right marginal ----------------------------

/** Deterministic unit normals (xorshift + Box-Muller), for statistics only. */
class TestNormals implements NoiseSource {
  private s = 0x9e3779b9;
  draws = 0;
  private u(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.s = s;
    return (s + 0.5) / 4294967296;
  }
  randn(out: Tensor): Tensor {
    this.draws++;
    for (let i = 0; i < out.data.length; i++)
      out.data[i] = Math.sqrt(-2 * Math.log(this.u())) * Math.cos(2 * Math.PI * this.u());
    return out;
  }
}

describe("eta > 0", () => {
  const B = 4000;
  const prior = (src: TestNormals): Tensor => {
    const t = tensor(new Float64Array(B), [B, 1]);
    src.randn(t);
    for (let i = 0; i < B; i++) t.data[i] *= SIGMA_MAX;
    return t;
  };
  // at sigma_min the samples are N(0.5, 0.3^2 + sigma_min^2) when the sampler is right
  const wantVar = 0.09 + SIGMA_MIN * SIGMA_MIN;
  const stats = (a: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m += a[i];
    m /= a.length;
    let v = 0;
    for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
    return { mean: m, variance: v / (a.length - 1) };
  };

  test("dpm_fast with eta = 1 draws once per step and lands on the data distribution", async () => {
    const src = new TestNormals();
    const x = prior(src);
    const before = src.draws;
    const out = await sampleDpmFast(single, x, SIGMA_MIN, SIGMA_MAX, 30, { eta: 1, noiseSampler: src });
    expect(src.draws - before).toBe(dpmFastSchedule(SIGMA_MIN, SIGMA_MAX, 30).orders.length);
    const { mean, variance } = stats(out.data);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(wantVar / B));
    expect(Math.abs(variance / wantVar - 1)).toBeLessThan(0.1);
  });

  test("dpm_adaptive with eta = 1 draws once per accepted attempt and lands on the data distribution", async () => {
    const src = new TestNormals();
    const x = prior(src);
    const before = src.draws;
    const res = await sampleDpmAdaptive(single, x, SIGMA_MIN, SIGMA_MAX, {
      eta: 1,
      noiseSampler: src,
      returnInfo: true,
    });
    expect(src.draws - before).toBe(res.info.n_accept);
    const { mean, variance } = stats(res.x.data);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(wantVar / B));
    expect(Math.abs(variance / wantVar - 1)).toBeLessThan(0.1);
  });
});

// ---- callback, float32, options ----------------------------------------------------------

describe("callback and precision", () => {
  const x0 = tensor(
    starts.map((v) => v * SIGMA_MAX),
    [starts.length, 1],
  );

  test("callback gets the same payloads as the observer, and eta = 0 needs no noise source", async () => {
    const seen: DpmCallbackPayload[] = [];
    const rec = new Recorder();
    const out = await sampleDpmAdaptive(bimodal, x0, SIGMA_MIN, SIGMA_MAX, {
      callback: (p) =>
        seen.push({ ...p, x: tensor(Float64Array.from((p.x as Tensor).data), [starts.length, 1]) }),
      observer: rec,
    });
    expect(seen.length).toBe(rec.steps.length);
    seen.forEach((p, s) => {
      expect(p.i).toBe(s);
      expect(p.error).toBe(rec.steps[s].error);
      expect(Array.from((p.x as Tensor).data)).toEqual(Array.from(rec.steps[s].x as Float64Array));
    });
    // with replay noise (consumed but multiplied by 0) the result is the same
    const withNoise = await sampleDpmAdaptive(bimodal, x0, SIGMA_MIN, SIGMA_MAX, {
      noiseSampler: new TestNormals(),
    });
    expect(Array.from(withNoise.data)).toEqual(Array.from(out.data));
  });

  test("float32 input runs in float32 and stays close to the float64 run", async () => {
    const x32 = tensor(Float32Array.from(x0.data), x0.shape);
    const m32: Denoiser = bimodal;
    // fixed steps: float32 round-off only; adaptive: the float32 error estimate (a difference
    // of two close solutions) also moves the step sizes a little
    for (const [run, bound] of [
      [(x: Tensor) => sampleDpmFast(m32, x, SIGMA_MIN, SIGMA_MAX, 15), 1e-5],
      [(x: Tensor) => sampleDpmAdaptive(m32, x, SIGMA_MIN, SIGMA_MAX), 2e-3],
    ] as const) {
      const out32 = await run(x32);
      const out64 = await run(tensor(Float64Array.from(x32.data), x0.shape));
      expect(out32.data).toBeInstanceOf(Float32Array);
      expect(maxErr(out32.data, out64.data)).toBeLessThan(bound);
      expect(maxErr(out32.data, out64.data)).toBeGreaterThan(0); // really computed in float32
    }
  });

  test("fast schedule: orders sum to n and follow the n % 3 rule", () => {
    for (let n = 1; n <= 40; n++) {
      const { ts, orders } = dpmFastSchedule(SIGMA_MIN, SIGMA_MAX, n);
      expect(orders.reduce((a, b) => a + b, 0)).toBe(n);
      expect(ts.length).toBe(orders.length + 1);
      expect(orders[orders.length - 1]).toBe(n % 3 === 0 ? 1 : n % 3);
    }
    expect(dpmFastSchedule(SIGMA_MIN, SIGMA_MAX, 9).orders).toEqual([3, 3, 2, 1]);
    expect(dpmFastSchedule(SIGMA_MIN, SIGMA_MAX, 10).orders).toEqual([3, 3, 3, 1]);
    expect(dpmFastSchedule(SIGMA_MIN, SIGMA_MAX, 11).orders).toEqual([3, 3, 3, 2]);
  });
});

// ---- bad input ----------------------------------------------------------------------------

describe("bad input", () => {
  const x = tensor([1, 2], [2, 1]);
  test.each([
    [
      "sigma_min = 0",
      () => sampleDpmFast(single, x, 0, 10, 10),
      /sample_dpm_fast: sigma_min and sigma_max must be positive/,
    ],
    [
      "sigma_max < 0",
      () => sampleDpmAdaptive(single, x, 0.1, -1),
      /sample_dpm_adaptive: sigma_min and sigma_max must be positive/,
    ],
    [
      "sigma_min = sigma_max",
      () => sampleDpmFast(single, x, 1, 1, 10),
      /sample_dpm_fast: sigma_min must differ from sigma_max/,
    ],
    [
      "sigma_min = sigma_max (adaptive)",
      () => sampleDpmAdaptive(single, x, 2, 2),
      /sample_dpm_adaptive: sigma_min must differ from sigma_max/,
    ],
    [
      "reverse with eta",
      () => sampleDpmFast(single, x, 10, 1, 10, { eta: 1, noiseSampler: new TestNormals() }),
      /eta must be 0 for reverse sampling/,
    ],
    [
      "reverse with eta (adaptive)",
      () => sampleDpmAdaptive(single, x, 10, 1, { eta: 0.5, noiseSampler: new TestNormals() }),
      /eta must be 0 for reverse sampling/,
    ],
    ["n = 0", () => sampleDpmFast(single, x, 0.1, 10, 0), /sample_dpm_fast: n must be a positive integer/],
    [
      "n = 2.5",
      () => sampleDpmFast(single, x, 0.1, 10, 2.5),
      /sample_dpm_fast: n must be a positive integer/,
    ],
    [
      "NaN sigma",
      () => sampleDpmFast(single, x, NaN, 10, 3),
      /sample_dpm_fast: sigma_min must be a finite number/,
    ],
    [
      "order 4",
      () => sampleDpmAdaptive(single, x, 0.1, 10, { order: 4 as 3 }),
      /sample_dpm_adaptive: order must be 2 or 3/,
    ],
    [
      "h_init = 0",
      () => sampleDpmAdaptive(single, x, 0.1, 10, { hInit: 0 }),
      /sample_dpm_adaptive: h_init must be non-zero/,
    ],
    [
      "eta without noise",
      () => sampleDpmFast(single, x, 0.1, 10, 6, { eta: 1 }),
      /sample_dpm_fast: noiseSampler is required when eta != 0/,
    ],
  ])("%s", async (_name, run, message) => {
    await expect(run()).rejects.toThrow(message);
  });

  test("a NaN model output stops the adaptive solver with a message instead of looping", async () => {
    const nan: Denoiser = {
      denoise: async (xx) => tensor(new Float64Array(xx.data.length).fill(NaN), xx.shape),
    };
    // the NaN rule (docs/reliability.md): the model-call check names sampler, step and sigma
    await expect(sampleDpmAdaptive(nan, x, 0.1, 10)).rejects.toThrow(
      /sample_dpm_adaptive: model returned a non-finite value \(NaN or Infinity\) at step 0 \(sigma=10\.0*2?\)/,
    );
  });
});
