/** The report's Images section (report.json `images`): digits 8x8 on two denoisers. */
import { z } from "zod";

const num = z.number();
const maybeNum = z.number().nullable();

/** One implementation's run on the 16 grid seeds (pixels row-major [16, 64], in [-1, 1] ideally). */
export const imageImplSchema = z.object({
  id: z.string(),
  library: z.string(),
  label: z.string(),
  family: z.string(),
  nfe: z.number().int(),
  grid: z.array(maybeNum),
});

export const imagePairSchema = z.object({
  id: z.string(),
  family: z.string(),
  a: z.string(),
  b: z.string(),
  /** Over the paired samples (same seeds): PSNR in dB (peak-to-peak 2), max and RMS pixel gap. */
  psnr: maybeNum,
  maxDiff: maybeNum,
  rmsDiff: maybeNum,
  paired: z.number().int(),
  /** Energy-distance permutation test on disjoint seed sets (a's first half vs b's second half). */
  test: z.object({
    value: num,
    floor: num,
    pValue: num,
    permutations: z.number().int(),
    n: z.number().int(),
  }),
  /** identical: gap at round-off; pathwise: samples differ, distributions agree within sampling error; distributional: they do not. */
  verdict: z.enum(["identical", "pathwise", "distributional"]),
});

export const imageDenoiserSchema = z.object({
  id: z.string(),
  label: z.string(),
  model: z.string(),
  dtype: z.enum(["float32", "float64"]),
  device: z.string(),
  available: z.boolean(),
  message: z.string(),
  seeds: z.string(),
  impls: z.array(imageImplSchema),
  pairs: z.array(imagePairSchema),
  /**
   * Fréchet distance (pixel space, 64-d) of n samples to the data set; the data's floors: n data
   * images drawn with replacement against the data set, and two disjoint halves of it.
   */
  frechet: z
    .object({
      sampler: z.string(),
      n: z.number().int(),
      value: num,
      dataFloor: num,
      halvesFloor: num,
      halves: z.tuple([z.number().int(), z.number().int()]),
      note: z.string(),
    })
    .nullable(),
  /** Exact denoiser: distance of each sample to its nearest training image, by NFE. */
  nearest: z
    .array(
      z.object({
        sampler: z.string(),
        steps: z.number().int(),
        nfe: z.number().int(),
        n: z.number().int(),
        fractionWithin: num,
        threshold: num,
        medianDistance: num,
      }),
    )
    .default([]),
  seconds: num,
});

export const imageOdeSchema = z.object({
  reference: z.string(),
  n: z.number().int(),
  curves: z.array(
    z.object({
      sampler: z.string(),
      /**
       * rms, max: over all samples. sameImage: fraction of samples within 1e-3 (max pixel) of the
       * reference's image; onTraining: fraction within 1e-3 (Euclidean) of their nearest training
       * image; medianRms: median over the samples of each one's RMS error.
       */
      points: z.array(
        z.object({
          steps: z.number().int(),
          nfe: z.number().int(),
          rms: num,
          max: num,
          sameImage: num,
          onTraining: num,
          medianRms: num,
        }),
      ),
    }),
  ),
});

export const imagesTaskSchema = z.object({
  denoiser: imageDenoiserSchema.optional(),
  ode: imageOdeSchema.optional(),
});

export const imagesSchema = z.object({
  denoisers: z.array(imageDenoiserSchema),
  ode: imageOdeSchema.nullable(),
});
export type ImagesReport = z.infer<typeof imagesSchema>;
export type ImageDenoiser = z.infer<typeof imageDenoiserSchema>;
