/**
 * Data sets of images (format `edmkit-dataset/1`, fixtures/FORMAT.md): integer pixels, a shape
 * per image, labels, provenance and licence. Validated with zod; platform-neutral (reading the
 * file is `loadDataset` in `@edmkit/core`'s node entry).
 */
import { z } from "zod";

export const datasetSchema = z
  .object({
    format: z.literal("edmkit-dataset/1"),
    name: z.string().min(1),
    count: z.number().int().positive(),
    shape: z.array(z.number().int().positive()).min(1),
    pixels: z.array(z.number().int()),
    labels: z.array(z.number().int()).optional(),
    transform: z.string().optional(),
    source: z.string().optional(),
    license: z.string().optional(),
  })
  .superRefine((d, ctx) => {
    const per = d.shape.reduce((a, b) => a * b, 1);
    if (d.pixels.length !== d.count * per)
      ctx.addIssue({
        code: "custom",
        path: ["pixels"],
        message: `expected count x prod(shape) = ${d.count} x ${per} = ${d.count * per} values, got ${d.pixels.length}`,
      });
    if (d.labels && d.labels.length !== d.count)
      ctx.addIssue({
        code: "custom",
        path: ["labels"],
        message: `expected ${d.count} labels (count), got ${d.labels.length}`,
      });
  });

export type DatasetDocument = z.infer<typeof datasetSchema>;

/** A validated data set: pixels row-major, image after image. */
export interface Dataset {
  readonly name: string;
  readonly count: number;
  /** Shape of one image, e.g. [1, 8, 8]. */
  readonly shape: readonly number[];
  readonly pixels: Float64Array;
  readonly labels: Int32Array | null;
  readonly source?: string;
  readonly license?: string;
}

/** How a fixture maps pixels to data: y = pixels * scale + shift. */
export interface PixelTransform {
  scale: number;
  shift: number;
}

export class DatasetError extends Error {
  override name = "DatasetError";
}

/** Validate a parsed `edmkit-dataset/1` document; `file` names it in messages. */
export function parseDataset(value: unknown, file: string): Dataset {
  const r = datasetSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i.path.length ? `field \`${i.path.join(".")}\`: ` : "";
    throw new DatasetError(`${file}: ${field}${i.message}`);
  }
  const d = r.data;
  return {
    name: d.name,
    count: d.count,
    shape: d.shape,
    pixels: Float64Array.from(d.pixels),
    labels: d.labels ? Int32Array.from(d.labels) : null,
    source: d.source,
    license: d.license,
  };
}

/** The data points y_i = pixels_i * scale + shift, row-major [count, prod(shape)], in float64. */
export function datasetPoints(ds: Dataset, t: PixelTransform): Float64Array {
  const out = new Float64Array(ds.pixels.length);
  for (let k = 0; k < out.length; k++) out[k] = ds.pixels[k] * t.scale + t.shift;
  return out;
}
