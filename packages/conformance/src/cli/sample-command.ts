/**
 * `edmkit sample`: any sampler of any package on any model, seeded like PyTorch.
 *
 * The command line (sample/args.ts), the model (sample/models.ts), the run through the runner
 * table (sample/run.ts) and the output (sample/output.ts). A discrete-time model runs under
 * the continuous samplers through k-diffusion's DiscreteEpsDDPMDenoiser /
 * DiscreteVDDPMDenoiser on its own alphas_cumprod table; a continuous model runs under the
 * diffusers schedulers through an exact adapter on the scheduler's table
 * (eps = (x - D(x; sigma(t))) / sigma(t), x = sample * sqrt(sigma^2 + 1)).
 */
import { TorchGenerator } from "@edmkit/core";
import { UsageError } from "../errors.js";
import { parseSampleArgs } from "./sample/args.js";
import { loadModel } from "./sample/models.js";
import { writeOutputs } from "./sample/output.js";
import { type RunResult, runSampler } from "./sample/run.js";

export { sampleHelp } from "./sample/args.js";

export async function sampleCommand(argv: string[]): Promise<number> {
  const args = parseSampleArgs(argv);
  if (args === null) return 0;
  const { device, dim, batch, dtype, seed } = args;
  const values = { model: args.model };
  const model = await loadModel(args.model, { device, dim });
  let result: RunResult;
  const t0 = performance.now();
  try {
    if (!model.onnx && device !== "cpu")
      throw new UsageError(
        `sample: --device ${device} applies to ONNX models only (${values.model} runs in TypeScript)`,
      );
    if (!model.onnx && dim !== undefined && dim !== model.dim)
      throw new UsageError(`sample: --dim ${dim} contradicts the model's dim ${model.dim}`);
    const gen = new TorchGenerator(seed);
    const latents = gen.randn([batch, ...(model.shape ?? [model.dim])], dtype);
    result = await runSampler(args.entry, model, latents, gen, args.run);
  } finally {
    await model.onnx?.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  return writeOutputs(args, model, result, seconds);
}
