/**
 * The result of one suite task, typed by the task's kind and validated with zod wherever it
 * comes back from JSON (a worker thread's JSON round trip, a shard's tasks.json), so the
 * report is assembled from checked values, never from casts.
 */
import { z } from "zod";
import {
  accuracySchema,
  causeIdSchema,
  figuresSchema,
  fixtureResultSchema,
  ladderSchema,
  onnxSchema,
  pairSchema,
  emptySamplerMap,
  samplerMapSchema,
} from "../report/schema.js";
import { imagesTaskSchema } from "../report/images-schema.js";

/** A fixture replay: the report's fixture result. */
export const fixtureTaskSchema = fixtureResultSchema;
/** The scenarios: every pair, and the minimal pair of each cause (in demonstration order). */
export const scenariosTaskSchema = z.object({
  pairs: z.array(pairSchema),
  minimal: z.array(z.tuple([causeIdSchema, pairSchema])),
  ladders: z.array(ladderSchema).default([]),
  /** The web-UI sampler map (absent in shard files from before it). */
  samplerMap: samplerMapSchema.default(emptySamplerMap),
});
/** The ONNX runs on one device, with their pairs (which join the scenarios' pairs). */
export const onnxTaskSchema = onnxSchema.extend({ pairs: z.array(pairSchema).optional() });

const valueSchemas = {
  fixture: fixtureTaskSchema,
  scenarios: scenariosTaskSchema,
  accuracy: accuracySchema,
  trajectories1d: figuresSchema.shape.trajectories1d,
  clouds2d: figuresSchema.shape.clouds2d,
  heatmap: figuresSchema.shape.heatmap,
  onnx: onnxTaskSchema,
  images: imagesTaskSchema,
} as const;

export type TaskKind = keyof typeof valueSchemas;

/** The kind of a task from its id (`fixture:...`, `scenarios`, `accuracy:...`, `figures:<name>`, `onnx:<device>`). */
export function taskKind(id: string): TaskKind | null {
  const [prefix, ...rest] = id.split(":");
  const name = prefix === "figures" ? rest.join(":") : prefix;
  return isTaskKind(name) ? name : null;
}

function isTaskKind(name: string): name is TaskKind {
  return Object.hasOwn(valueSchemas, name);
}

function variant<K extends TaskKind, S extends z.ZodType>(kind: K, value: S) {
  return z.object({
    kind: z.literal(kind),
    id: z.string(),
    seconds: z.number(),
    /** null when the task failed (see error). */
    value: value.nullable(),
    error: z.string().optional(),
  });
}

const typedTaskResultSchema = z.discriminatedUnion("kind", [
  variant("fixture", valueSchemas.fixture),
  variant("scenarios", valueSchemas.scenarios),
  variant("accuracy", valueSchemas.accuracy),
  variant("trajectories1d", valueSchemas.trajectories1d),
  variant("clouds2d", valueSchemas.clouds2d),
  variant("heatmap", valueSchemas.heatmap),
  variant("onnx", valueSchemas.onnx),
  variant("images", valueSchemas.images),
]);

export type TaskResult = z.infer<typeof typedTaskResultSchema>;

/**
 * One task result as JSON holds it: the envelope (id, seconds, value, error) is checked first,
 * then the value against the schema of the task's kind (taken from the id when `kind` is absent).
 */
export const taskResultSchema = z
  .object({
    id: z.string(),
    kind: z.string().optional(),
    seconds: z.number(),
    value: z.unknown(),
    error: z.string().optional(),
  })
  .transform((r) => ({ ...r, kind: r.kind ?? taskKind(r.id) ?? `unknown task ${r.id}` }))
  .pipe(typedTaskResultSchema);
