import type { ImagesReport } from "../src/report/images-schema.js";

/** A small Images section (two implementations, one pair) for render tests. */
export function sampleImages(): ImagesReport {
  const grid = (shift: number) => Array.from({ length: 16 * 64 }, (_, i) => Math.sin(i / 7 + shift));
  const impl = (id: string, shift: number) => ({
    id,
    library: "k-diffusion",
    label: id,
    family: "Euler",
    nfe: 10,
    grid: grid(shift),
  });
  return {
    denoisers: [
      {
        id: "empirical",
        label: "exact denoiser",
        model: "datasets/digits8x8.json",
        dtype: "float64",
        device: "TypeScript",
        available: true,
        message: "TypeScript, float64",
        seeds: "16 seeds",
        impls: [impl("kd/euler", 0), impl("diffusers/euler", 0.01)],
        pairs: [
          {
            id: "kd/euler vs diffusers/euler",
            family: "Euler",
            a: "kd/euler",
            b: "diffusers/euler",
            psnr: 46,
            maxDiff: 0.01,
            rmsDiff: 0.007,
            paired: 16,
            test: { value: 0.5, floor: 0.49, pValue: 0.4, permutations: 199, n: 16 },
            verdict: "pathwise",
          },
        ],
        frechet: {
          sampler: "dpmpp_2m",
          n: 2000,
          value: 0.5,
          dataFloor: 0.4,
          halvesFloor: 0.6,
          halves: [898, 899],
          note: "n",
        },
        nearest: [],
        seconds: 1,
      },
    ],
    ode: null,
  };
}
