/**
 * Scheduler steps with the WebAssembly SIMD passes against the JS loops (issue 16): with an
 * element-wise model and element-wise noise, a denoising run of Euler, Euler-ancestral, Heun and
 * DPMSolverMultistep (2M, 3M, SDE) over a batch of SIMD_MIN elements or more must equal, bit for
 * bit, the same rows run in slices short enough for the loops; float32 and float64, epsilon and
 * v-prediction (Heun also sample prediction).
 */
import { type DiscreteModel, type DType, SIMD_MIN, type Tensor, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  type AnyScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  denoisingLoop,
} from "../src/index.js";

const ROWS = 2600,
  SLICE_ROWS = 1000;
const SD = { beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 };

/** Noise from (element index + offset, call number): the same values however sliced. */
function noise(offset: number) {
  let call = 0;
  return {
    randn: (out: Tensor) => {
      call++;
      for (let k = 0; k < out.data.length; k++) {
        const h = Math.sin((offset + k) * 12.9898 + call * 78.233) * 43758.5453;
        out.data[k] = (h - Math.floor(h) - 0.5) * 3.4;
      }
      return out;
    },
  };
}

const makers: [string, () => AnyScheduler][] = [
  ["Euler", () => new EulerDiscreteScheduler(SD)],
  ["Euler v", () => new EulerDiscreteScheduler({ ...SD, prediction_type: "v_prediction" })],
  ["Euler a", () => new EulerAncestralDiscreteScheduler(SD)],
  ["Euler a v", () => new EulerAncestralDiscreteScheduler({ ...SD, prediction_type: "v_prediction" })],
  ["Heun", () => new HeunDiscreteScheduler(SD)],
  ["Heun v", () => new HeunDiscreteScheduler({ ...SD, prediction_type: "v_prediction" })],
  ["Heun sample", () => new HeunDiscreteScheduler({ ...SD, prediction_type: "sample" })],
  ["DPM++ 2M", () => new DPMSolverMultistepScheduler(SD)],
  ["DPM++ 3M", () => new DPMSolverMultistepScheduler({ ...SD, solver_order: 3 })],
  ["DPM++ 2M SDE", () => new DPMSolverMultistepScheduler({ ...SD, algorithm_type: "sde-dpmsolver++" })],
  [
    "DPM++ 3M SDE",
    () => new DPMSolverMultistepScheduler({ ...SD, solver_order: 3, algorithm_type: "sde-dpmsolver++" }),
  ],
  ["DPM++ 2M v", () => new DPMSolverMultistepScheduler({ ...SD, prediction_type: "v_prediction" })],
  [
    "DPM++ 3M sample",
    () => new DPMSolverMultistepScheduler({ ...SD, solver_order: 3, prediction_type: "sample" }),
  ],
  [
    "DPM++ 2M flow",
    () =>
      new DPMSolverMultistepScheduler({
        ...SD,
        use_flow_sigmas: true,
        prediction_type: "flow_prediction",
        flow_shift: 3,
      }),
  ],
  [
    "DPM-Solver 2M (fallback)",
    () =>
      new DPMSolverMultistepScheduler({ ...SD, algorithm_type: "dpmsolver", final_sigmas_type: "sigma_min" }),
  ],
];

/**
 * A denoising run (the model reads scale_model_input's result). `inArena`: as denoisingLoop runs it, on the scheduler's own buffers
 * (stepBuffer: its SIMD arena for a large batch), the model writing into the modelOutput
 * buffer and each step writing prev_sample over the sample (the kernels in place); otherwise
 * ordinary arrays and a new prev_sample per step.
 */
async function denoise(
  make: () => AnyScheduler,
  dtype: DType,
  x0: Float32Array | Float64Array,
  offset: number,
  inArena = false,
) {
  const s = make() as EulerDiscreteScheduler;
  s.setTimesteps(8);
  const rows = x0.length / 2;
  const shape = [rows, 2];
  let x = inArena ? s.stepBuffer("sample", shape, dtype) : tensor(x0.slice(), shape);
  if (inArena) x.data.set(x0);
  const pred = s.stepBuffer("predOriginalSample", shape, dtype);
  const gen = noise(offset);
  for (const t of s.timesteps) {
    // ε(x, t) element-wise, in the dtype
    const r = dtype === "float32" ? Math.fround : (v: number) => v;
    const mo = inArena
      ? s.stepBuffer("modelOutput", shape, dtype)
      : tensor(
          dtype === "float32" ? new Float32Array(x.data.length) : new Float64Array(x.data.length),
          shape,
        );
    const xIn = s.scaleModelInput(x, t, inArena ? s.stepBuffer("modelInput", shape, dtype) : undefined);
    for (let k = 0; k < mo.data.length; k++)
      mo.data[k] = r(r(xIn.data[k] * 0.01) + r(Math.sin(t * 0.01) * 0.5));
    const out = inArena ? { prevSample: x, predOriginalSample: pred } : undefined;
    x = s.step(mo, t, x, { generator: gen, out }).prevSample;
  }
  return x.data.slice();
}

test("the batch takes the SIMD passes, the slices the JS loops", () => {
  expect(ROWS * 2).toBeGreaterThanOrEqual(SIMD_MIN);
  expect(SLICE_ROWS * 2).toBeLessThan(SIMD_MIN);
});

describe.each(["float32", "float64"] as const)("%s", (dtype) => {
  test.each(makers)("%s: batch = slices, bit for bit", async (_name, make) => {
    const n = ROWS * 2;
    const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 14;
    const whole = await denoise(make, dtype, x0, 0);
    for (let r = 0; r < ROWS; r += SLICE_ROWS) {
      const rows = Math.min(SLICE_ROWS, ROWS - r);
      const part = await denoise(make, dtype, x0.slice(2 * r, 2 * (r + rows)), 2 * r);
      for (let k = 0; k < part.length; k++) {
        if (!Object.is(whole[2 * r + k], part[k]))
          expect({ k: 2 * r + k, v: whole[2 * r + k] }).toEqual({ k: 2 * r + k, v: part[k] });
      }
    }
    expect(Array.from(whole).every(Number.isFinite)).toBe(true);
  });

  test.each(makers)(
    "%s: in the scheduler's arena, in place = plain arrays, bit for bit",
    async (_name, make) => {
      const n = ROWS * 2;
      const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
      for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.41) * 14;
      const plain = await denoise(make, dtype, x0, 0);
      const inArena = await denoise(make, dtype, x0, 0, true);
      for (let k = 0; k < n; k++)
        if (!Object.is(plain[k], inArena[k])) expect({ k, v: inArena[k] }).toEqual({ k, v: plain[k] });
    },
  );
});

test("a large step buffer lies in the scheduler's arena, a small one is an ordinary array", () => {
  const s = new EulerDiscreteScheduler(SD);
  const big = s.stepBuffer("sample", [ROWS, 2], "float32"),
    small = s.stepBuffer("sample", [4, 2], "float64");
  // an arena array is a view on a wasm memory holding the arena's other slots too
  expect(big.data.buffer.byteLength).toBeGreaterThan(4 * big.data.byteLength);
  expect(small.data.buffer.byteLength).toBe(small.data.byteLength);
  expect(s.stepBuffer("sample", [ROWS, 2], "float32")).toBe(big);
  expect(s.stepBuffer("sample", [2, ROWS], "float32").data).toBe(big.data);
  expect(s.stepBuffer("modelOutput", [ROWS, 2], "float32").data).not.toBe(big.data);
});

describe.each(["float32", "float64"] as const)("denoisingLoop, %s", (dtype) => {
  /** An element-wise model writing into the tensor it is handed. */
  const model: DiscreteModel = {
    prediction: "epsilon",
    predict: async (x: Tensor, t: Float64Array, out?: Tensor) => {
      const o =
        out ??
        tensor(
          x.dtype === "float32" ? new Float32Array(x.data.length) : new Float64Array(x.data.length),
          x.shape,
        );
      const r = x.dtype === "float32" ? Math.fround : (v: number) => v;
      for (let k = 0; k < o.data.length; k++)
        o.data[k] = r(r(x.data[k] * 0.01) + r(Math.sin(t[0] * 0.01) * 0.5));
      return o;
    },
  };
  test.each(makers)(
    "%s: on the scheduler's buffers = on the loop's own, bit for bit",
    async (_name, make) => {
      const n = ROWS * 2;
      const latents = tensor(dtype === "float32" ? new Float32Array(n) : new Float64Array(n), [ROWS, 2]);
      for (let k = 0; k < n; k++) latents.data[k] = Math.sin(k * 0.29) * 2;
      const run = async (ownBuffers: boolean) => {
        const s = make() as EulerDiscreteScheduler;
        s.setTimesteps(6);
        // without stepBuffer the loop allocates ordinary arrays (the kernels' chunked path)
        if (ownBuffers) Object.defineProperty(s, "stepBuffer", { value: undefined });
        return denoisingLoop(s, model, latents, { noise: noise(0) });
      };
      const inArena = await run(false),
        plain = await run(true);
      // the result owns exactly its memory (not a view of the scheduler's arena)
      expect(inArena.data.buffer.byteLength).toBe(inArena.data.byteLength);
      for (let k = 0; k < n; k++)
        if (!Object.is(plain.data[k], inArena.data[k]))
          expect({ k, v: inArena.data[k] }).toEqual({ k, v: plain.data[k] });
    },
  );
});
