/**
 * The schema of reports/report.json (`edmkit-report/1`). Other tools can validate a report
 * with `reportSchema.parse(JSON.parse(text))`; every number in the Markdown and HTML
 * renderings comes from this object.
 */
import { z } from "zod";
import { imagesSchema } from "./images-schema.js";

const num = z.number();
/** JSON has no NaN/Infinity: absent measurements are null. */
const maybeNum = z.number().nullable();

export const causeIds = [
  "sigma-interpolation",
  "timestep-rounding",
  "noise-level-schedule",
  "final-step-handling",
  "noise-injection-rule",
  "noise-scaling",
  "float32-casts",
  "initial-noise-scale",
  "rng-consumption",
  "churn-evaluation-point",
  "timestep-mapping",
  "karras-timestep-rounding",
  "clip-sample",
  "final-alpha-frame",
  "midpoint-vs-heun",
  "sde-third-order-weight",
] as const;
export const causeIdSchema = z.enum(causeIds);
export type CauseId = z.infer<typeof causeIdSchema>;

/** One implementation taking part in a comparison. */
export const implSchema = z.object({
  /** Stable id, e.g. "k-diffusion/sample_euler", "diffusers/EulerDiscreteScheduler", "edm/algorithm1-euler". */
  id: z.string(),
  library: z.enum(["k-diffusion", "diffusers", "edm", "song2021", "reference"]),
  /** Human label with the settings that matter, e.g. "diffusers Euler (karras, linspace)". */
  label: z.string(),
  settings: z.record(z.string(), z.union([z.string(), num, z.boolean(), z.null()])).default({}),
});
export type Impl = z.infer<typeof implSchema>;

export const fixtureResultSchema = z.object({
  id: z.string(),
  file: z.string(),
  library: z.string(),
  entry: z.string(),
  /** invalid: the file did not parse or validate (message names the file and field); not replayed. */
  status: z.enum(["pass", "fail", "unsupported", "error", "invalid"]),
  maxAbsError: maybeNum,
  tolerance: z.object({ abs: num, rel: num }).nullable(),
  firstDivergence: z
    .object({
      modelCall: z.number().int(),
      step: z.number().int().nullable(),
      maxAbs: maybeNum,
      field: z.string(),
    })
    .nullable(),
  message: z.string().optional(),
  seconds: num,
  /** For an `onnx` fixture: the live run on onnxruntime (mode b); the fields above are mode (a). */
  live: z
    .object({
      status: z.enum(["pass", "fail", "unsupported", "error"]),
      maxAbsError: maybeNum,
      toleranceScale: num,
      message: z.string().optional(),
    })
    .optional(),
});

/** Implementation vs implementation on one model, schedule and noise stream. */
/**
 * Pathwise only or distributional (a divergent pair's, or a sampler map row's): both runs on
 * 2n other latents and noise drawn from `seed`; the energy-distance permutation test of a's
 * first n samples against b's last n (disjoint seeds).
 */
export const distributionSchema = z.object({
  verdict: z.enum(["pathwise", "distributional"]),
  value: num,
  floor: num,
  pValue: num,
  permutations: z.number().int(),
  n: z.number().int(),
  seed: z.number().int(),
});

export const pairSchema = z.object({
  id: z.string(),
  scenario: z.string(),
  a: implSchema,
  b: implSchema,
  model: z.string(),
  dtype: z.enum(["float32", "float64"]),
  /** identical: equal to float64 round-off (max gap <= roundoffBound); diverge: not. */
  verdict: z.enum(["identical", "diverge", "unsupported"]),
  roundoffBound: num,
  /** First outer-loop step where the states differ beyond roundoffBound (null when identical). */
  firstStep: z.number().int().nullable(),
  /** First model call whose input differs beyond roundoffBound. */
  firstModelCall: z.number().int().nullable(),
  nfe: z.object({ a: z.number().int(), b: z.number().int() }),
  noiseDraws: z.object({ a: z.number().int(), b: z.number().int() }),
  /** max |x_a - x_b| per step of the trajectory (on the common step grid). */
  gapPerStep: z.array(num),
  maxGap: maybeNum,
  outputGap: maybeNum,
  /** The schedule the pair runs on, in words (from the scenario table). */
  schedule: z.string().optional(),
  /** The data's scale: root mean square of b's output (the samples), to read gaps against. */
  outputScale: maybeNum.optional(),
  /** sigma of the model call whose input gap is the largest (gaps near sigma_max are ~sigma times the data). */
  sigmaAtMaxGap: maybeNum.optional(),
  /**
   * For a divergent pair: do the two implementations sample the same distribution? Both run on
   * 2n other latents (and noise) drawn from `seed`; an energy-distance permutation test compares
   * a's first n samples with b's last n (disjoint seeds). pathwise: p >= 0.01, the distributions
   * agree within sampling error; distributional: they do not.
   */
  distribution: distributionSchema.optional(),
  /** Root cause from the fixed catalogue; "unexplained" is flagged, never hidden. */
  cause: z.union([causeIdSchema, z.literal("unexplained"), z.null()]),
  /** Id of the minimal pair (in `causes`) that demonstrates the cause. */
  causePair: z.string().nullable(),
  note: z.string(),
});
export type PairResult = z.infer<typeof pairSchema>;

/** A cause ladder: runs from a to b, each rung changing one rule, each rung's gap measured (src/conformance/ladders.ts). */
export const ladderSchema = z.object({
  pair: z.string(),
  /** closed: the last rung is identical to b; open: it is not (unexplained); not built: no ladder yet. */
  status: z.enum(["closed", "open", "not built"]),
  rungs: z.array(
    z.object({
      impl: implSchema,
      /** The one rule this rung changes from the previous run, or another implementation of the same method. */
      change: z.union([causeIdSchema, z.literal("same method")]),
      /** The rule in words, where the cause names a family of rules (which float32 cast); "" otherwise. */
      rule: z.string().default(""),
      /** Against the previous rung (a for the first). */
      verdict: z.enum(["identical", "diverge"]),
      maxGap: maybeNum,
      outputGap: maybeNum,
    }),
  ),
  /** Max gap between the last rung and b. */
  closingGap: maybeNum,
  note: z.string(),
});
export type LadderResult = z.infer<typeof ladderSchema>;

/** A root cause shown by a minimal pair: two runs that differ in that one thing only. */
export const causeSchema = z.object({
  id: causeIdSchema,
  title: z.string(),
  explanation: z.string(),
  /** fixtures/PROVENANCE.md quirk numbers and the originals' files and functions this cause covers. */
  references: z.array(z.string()),
  minimalPair: pairSchema,
});
export type CauseResult = z.infer<typeof causeSchema>;

/** Equivalence map: implementations that compute the same method (to round-off). */
export const equivalenceGroupSchema = z.object({
  method: z.string(),
  members: z.array(implSchema),
  /** Largest gap observed between any two members (the computed backing of the claim). */
  maxGap: num,
  evidence: z.array(z.string()),
});

export const accuracySchema = z.object({
  sampler: z.string(),
  library: z.string(),
  model: z.string(),
  points: z.array(z.object({ nfe: z.number().int(), steps: z.number().int(), error: num })),
  /** Slope of log(error) vs log(steps), sign flipped: ~1 Euler, ~2 Heun. */
  fittedOrder: maybeNum,
  stochastic: z.boolean(),
  /** For stochastic samplers: a distribution distance to the true mixture at each point. */
  distance: z.array(z.object({ nfe: z.number().int(), value: num })).optional(),
  distanceName: z.string().optional(),
  /**
   * The distance's sampling floor: its expected value for exact samples of the same count
   * (below it the sampler's error cannot be seen); absent in reports from before it.
   */
  distanceFloor: num.optional(),
  /** How the floor was computed. */
  distanceFloorMethod: z.string().optional(),
});
export type AccuracyResult = z.infer<typeof accuracySchema>;

export const ancestralSchema = z.object({
  question: z.string(),
  answer: z.string(),
  derivation: z.array(z.string()),
  /** Numbers backing the answer: each a comparison and its measured max gap. */
  checks: z.array(z.object({ what: z.string(), maxGap: num, verdict: z.enum(["identical", "diverge"]) })),
});

export const figuresSchema = z.object({
  /**
   * 1-D trajectories: sigma grid (descending), `paths[p][s]` = path p's x at `sigmas[s]`, and
   * the noisy data density on an (x, sigma) grid: `logp[sigmaIndex][xIndex]`.
   */
  trajectories1d: z.object({
    sampler: z.string(),
    sigmas: z.array(num),
    paths: z.array(z.array(num)),
    density: z.object({ x: z.array(num), sigma: z.array(num), logp: z.array(z.array(num)) }),
  }),
  /** 2-D sample clouds per sampler. */
  clouds2d: z.array(z.object({ sampler: z.string(), points: z.array(z.tuple([num, num])) })),
  /** Pairwise divergence heatmap over implementations of one scenario. */
  heatmap: z.object({
    scenario: z.string(),
    labels: z.array(z.string()),
    /** The scenario implementation id of each row (a cell equals that pair's output gap). */
    ids: z.array(z.string()).optional(),
    gaps: z.array(z.array(maybeNum)),
  }),
});

export const onnxSchema = z.object({
  device: z.string(),
  available: z.boolean(),
  message: z.string(),
  runs: z.array(
    z.object({
      model: z.string(),
      sampler: z.string(),
      dtype: z.enum(["float32", "float64"]),
      /** max |x_onnx - x_exact| over all samples */
      gapToExact: maybeNum,
      /** root mean square of the same differences (a learned model moves a few samples to another mode: max is O(1), RMS shows the typical gap) */
      rmsToExact: maybeNum.optional(),
      seconds: num,
    }),
  ),
  /** Models not run on this device, each with the reason (e.g. float64 graphs on WebGPU). */
  skipped: z.array(z.object({ model: z.string(), reason: z.string() })).optional(),
});

/**
 * Every quirk PROVENANCE.md lists for the originals, and how the report covers it: a
 * divergence between implementations (with the cause whose minimal pair shows it) or a
 * behaviour the port reproduces (with the fixtures that exercise it and their status).
 */
export const quirkSchema = z.object({
  source: z.string(),
  summary: z.string(),
  kind: z.enum(["divergence", "reproduced"]),
  cause: causeIdSchema.nullable(),
  evidence: z.string(),
  ok: z.boolean(),
});
export type QuirkResult = z.infer<typeof quirkSchema>;

/**
 * The web-UI sampler map (src/conformance/webui.ts): each sampler name users know with its
 * k-diffusion call and diffusers scheduler + config, measured on one discrete eps model, and
 * the two answers (the seed question against the libraries, EDM's generality).
 */
export const samplerMapSchema = z.object({
  model: z.string().default(""),
  rows: z.array(
    z.object({
      name: z.string(),
      kdiffusion: z.string(),
      diffusers: z.string(),
      compared: z.string(),
      /** Id of the pair (as shipped) and of its ladder pair (the last rung vs k-diffusion). */
      pair: z.string(),
      ladder: z.string().nullable(),
      outputGap: maybeNum,
      maxGap: maybeNum,
      /** Round-off bounds at float64 and float32. */
      bound64: num,
      bound32: num,
      /** Max gap between the ladder's last rung and k-diffusion. */
      ladderGap: maybeNum,
      /** The ladder: from diffusers as shipped, one rule (cause) per rung, each rung's gap to the previous run. */
      rungs: z
        .array(z.object({ change: causeIdSchema, label: z.string(), maxGap: maybeNum, outputGap: maybeNum }))
        .default([]),
      /**
       * Where the last rung is beyond the fixed float32 bound: k-diffusion's own sampler in float32
       * vs float64 (max gap), the float32 round-off these dynamics make; null where not needed.
       */
      envelope: maybeNum.default(null),
      verdict: z.enum(["identical", "float32 round-off", "diverge"]),
      cause: causeIdSchema.nullable(),
      /** Diverges beyond float32 round-off and its ladder does not close: not yet explained. */
      open: z.boolean(),
      /** Why an open row is open. */
      openReason: z.string().nullable().default(null),
      /** Pathwise only or distributional, for the pair as shipped when it diverges (its `distribution`). */
      distribution: distributionSchema.optional(),
    }),
  ),
  answers: z.array(
    z.object({
      question: z.string(),
      answer: z.string(),
      checks: z.array(z.object({ what: z.string(), gap: maybeNum, bound: num, verdict: z.string() })),
    }),
  ),
});
export type SamplerMapReport = z.infer<typeof samplerMapSchema>;
export const emptySamplerMap = (): SamplerMapReport => ({ model: "", rows: [], answers: [] });

export const reportSchema = z.object({
  schema: z.literal("edmkit-report/1"),
  generatedAt: z.string(),
  durationSeconds: num,
  environment: z.object({
    node: z.string(),
    platform: z.string(),
    cpus: z.number().int(),
    workers: z.number().int(),
    shard: z.string().nullable(),
  }),
  versions: z.record(z.string(), z.string()),
  fixtures: z.object({
    summary: z.object({
      passed: z.number().int(),
      failed: z.number().int(),
      unsupported: z.number().int(),
      /** Fixture files that did not parse or validate (0 in reports from before it). */
      invalid: z.number().int().default(0),
    }),
    byLibrary: z.record(
      z.string(),
      z.object({ passed: z.number().int(), failed: z.number().int(), unsupported: z.number().int() }),
    ),
    results: z.array(fixtureResultSchema),
  }),
  equivalence: z.array(equivalenceGroupSchema),
  pairs: z.array(pairSchema),
  causes: z.array(causeSchema),
  /** The cause ladder of every divergent pair. */
  ladders: z.array(ladderSchema).default([]),
  ancestral: ancestralSchema,
  accuracy: z.array(accuracySchema),
  onnx: z.array(onnxSchema),
  figures: figuresSchema,
  quirks: z.array(quirkSchema).default([]),
  /** The web-UI sampler map; empty in reports from before it. */
  samplerMap: samplerMapSchema.default(emptySamplerMap),
  /** The Images section (digits 8x8); absent in reports from before it. */
  images: imagesSchema.optional(),
  /** Unexplained divergences and failed fixtures, listed for the exit status. */
  problems: z.array(z.string()),
});
export type Report = z.infer<typeof reportSchema>;
