/**
 * The tensors a scheduler keeps between `step` calls (its scratch and state buffers: noise,
 * Heun's stored derivative and sample, the DPM-Solver output history) and the ones it lends
 * to a denoising loop (`stepBuffer`), by name.
 *
 * Large float tensors (SIMD_MIN elements and up, WebAssembly SIMD present) lie in a core
 * `SimdArena` of the scheduler's own, one per dtype, made on first use for the tensors' size
 * and replaced when a tensor of another size is asked for: a step kernel whose operands all
 * lie in one arena runs in place on it (no chunk copies, issue 16). Each name takes one slot of
 * its dtype's arena; once the slots are used up (or without SIMD, or for small tensors) the
 * tensors are ordinary arrays and the kernels take core's chunked path, with the same results.
 *
 * An arena is never reset: a tensor handed out stays valid memory for as long as anyone holds
 * it (holding it keeps its arena's memory alive). Its values are the scheduler's to overwrite.
 */
import { allocate, type DType, SIMD_MIN, SimdArena, type Tensor, tensor } from "@edmkit/core";

/**
 * Slots of one arena: the most names of one dtype a scheduler here uses (DPM-Solver order 3
 * with a learned variance and thresholding: 3 history buffers, eps3, x0, noise) plus the five
 * `StepBufferRole`s.
 */
const ARENA_SLOTS = 11;

/** The tensors a scheduler lends to a denoising loop (`stepBuffer`). */
export type StepBufferRole = "sample" | "modelInput" | "modelOutput" | "prevSample" | "predOriginalSample";

/** The names the roles are kept under (apart from a scheduler's own scratch names). */
export const ROLE_NAMES: Readonly<Record<StepBufferRole, string>> = {
  sample: "role.sample",
  modelInput: "role.modelInput",
  modelOutput: "role.modelOutput",
  prevSample: "role.prevSample",
  predOriginalSample: "role.predOriginalSample",
};

export class StepBuffers {
  /** The tensors by name, per dtype (float32, float64). */
  private readonly held: [Map<string, Tensor>, Map<string, Tensor>] = [new Map(), new Map()];
  /** The arena of each dtype (float32, float64), null before first use or without SIMD. */
  private readonly arenas: [SimdArena | null, SimdArena | null] = [null, null];
  private readonly arenaLength = [-1, -1];

  /**
   * The tensor kept under `name` for this shape and dtype: the same one as the last call with
   * the same name, dtype and element count (its shape updated), else a new zero tensor.
   */
  get(name: string, shape: readonly number[], dtype: DType): Tensor {
    let n = 1;
    for (const d of shape) n *= d;
    const held = this.held[dtype === "float64" ? 1 : 0];
    const cur = held.get(name);
    if (cur !== undefined && cur.data.length === n) {
      if (sameShape(cur.shape, shape)) return cur;
      const t = tensor(cur.data, shape);
      held.set(name, t);
      return t;
    }
    const t = tensor(this.alloc(n, dtype) ?? allocate(dtype, n), shape);
    held.set(name, t);
    return t;
  }

  /** A free slot of the dtype's arena for n elements (a new arena when n changed), or null. */
  private alloc(n: number, dtype: DType): Float32Array | Float64Array | null {
    if (n < SIMD_MIN) return null;
    const w = dtype === "float64" ? 1 : 0;
    if (this.arenaLength[w] !== n) {
      this.arenaLength[w] = n;
      this.arenas[w] = SimdArena.create(dtype, n, ARENA_SLOTS, true);
    }
    return this.arenas[w]?.alloc() ?? null;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
