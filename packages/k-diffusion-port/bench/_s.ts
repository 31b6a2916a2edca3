import { allocate, tensor, type Tensor } from "@edmkit/core";
import { sampleEuler, getSigmasExponential } from "../src/index.js";
const x = tensor(allocate("float32", 32).fill(1), [16, 2]);
const out = tensor(allocate("float32", 32), [16, 2]);
const model = {
  denoise: async (_x: Tensor, _s: Float64Array, o?: Tensor) => o ?? out,
  denoiseUniform: async (_x: Tensor, _s: number, o?: Tensor) => o ?? out,
};
const sig = getSigmasExponential(2001, 0.01, 80).subarray(0, 2001);
for (let r = 0; r < 30; r++) {
  const t = performance.now();
  await sampleEuler(model, x, sig);
  console.log((((performance.now() - t) / 2000) * 1000).toFixed(2), "us/step");
}
