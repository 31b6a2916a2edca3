/**
 * One computation per platform-neutral package, run both in Node (by vitest) and in headless
 * Chromium (bundled by esbuild): k-diffusion's sample_euler and sample_euler_ancestral on an
 * exact Gaussian mixture with PyTorch-seeded noise, diffusers' EulerDiscreteScheduler driving
 * the mixture's discrete eps predictor, and the EDM sampler (Algorithm 2, churn on); each in
 * float32 and in float64. Results come back as the 32-bit words of their float64 values, so a
 * comparison is bit for bit.
 */
import {
  DiscreteGmmModel,
  type DType,
  GaussianMixture,
  type GmmSpec,
  scale,
  type Tensor,
  TorchGenerator,
  TorchNoise,
  zerosLike,
} from "@edmkit/core";
import { denoisingLoop, EulerDiscreteScheduler } from "@edmkit/diffusers";
import { edmSampler } from "@edmkit/edm";
import { getSigmasKarras, sampleEuler, sampleEulerAncestral } from "@edmkit/k-diffusion";

/** Run name -> the float64 words of its samples. */
export type Bits = Record<string, number[]>;

const ring: GmmSpec = {
  dim: 2,
  weights: [1, 2, 1, 2],
  means: [
    [2, 0],
    [0, 2],
    [-2, 0],
    [0, -2],
  ],
  stds: [0.2, 0.3, 0.2, 0.3],
};

/** The float64 words of every value (float32 values widen exactly). */
function bits(t: Tensor): number[] {
  return Array.from(new Uint32Array(Float64Array.from(t.data).buffer));
}

/** 16 samples of the ring mixture from each port's sampler, computed in `dtype`. */
export async function compute(dtype: DType): Promise<Bits> {
  const mixture = new GaussianMixture(ring);
  const sigmas = getSigmasKarras(12, 0.002, 80, { dtype });
  const generator = new TorchGenerator(7);
  const latent = generator.randn([16, 2], dtype);
  const x = scale(zerosLike(latent), latent, sigmas[0]);
  const euler = await sampleEuler(mixture, x, sigmas);
  const ancestral = await sampleEulerAncestral(mixture, x, sigmas, {
    noiseSampler: new TorchNoise(generator),
  });

  const scheduler = new EulerDiscreteScheduler({
    beta_schedule: "scaled_linear",
    beta_start: 0.00085,
    beta_end: 0.012,
    timestep_spacing: "leading",
    steps_offset: 1,
  });
  scheduler.setTimesteps(15);
  const model = new DiscreteGmmModel({ gmm: ring, alphasCumprod: scheduler.alphasCumprod });
  const g = new TorchGenerator(42);
  const diffusers = await denoisingLoop(scheduler, model, g.randn([16, 2], dtype), { generator: g });

  const edm = await edmSampler(mixture, new TorchGenerator(3).randn([16, 2], dtype), {
    numSteps: 10,
    S_churn: 10,
    S_tmin: 0.05,
    S_tmax: 50,
    S_noise: 1.003,
    noise: new TorchNoise(new TorchGenerator(4)),
  });

  return {
    [`k-diffusion sample_euler, ${dtype}`]: bits(euler),
    [`k-diffusion sample_euler_ancestral, ${dtype}`]: bits(ancestral),
    [`diffusers EulerDiscreteScheduler, ${dtype}`]: bits(diffusers),
    [`edm edmSampler (Algorithm 2), ${dtype}`]: bits(edm),
  };
}
