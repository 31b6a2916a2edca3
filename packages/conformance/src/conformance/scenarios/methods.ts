/**
 * The methods the report's equivalence groups compute, in words, keyed by a member's impl id
 * (a group without an entry is named by its scenario).
 */
export const METHODS: Record<string, string> = {
  "k-diffusion/sample_euler": "Euler on the sigma-as-time probability-flow ODE (sigma(t) = t, s(t) = 1)",
  "k-diffusion/sample_heun": "Heun (2nd order), Euler step into sigma = 0",
  "k-diffusion/sample_heun@sigma_min": "Heun on a schedule ending above 0, k-diffusion's last-step rule",
  "k-diffusion/sample_euler+churn": "EDM Algorithm 2 with the Euler solver (churn, noise aligned by step)",
  "k-diffusion/sample_heun+churn": "EDM Algorithm 2 with Heun (churn, noise aligned by step)",
  "k-diffusion/sample_euler+churn@stream": "Euler with churn drawing noise every step from one stream",
  "k-diffusion/sample_euler_ancestral(eta=1)":
    "VE ancestral sampling (DDPM posterior variance) = Song et al. VE rule",
  "k-diffusion/sample_euler@onnx-f32":
    "Euler in float32 on the float32 ONNX mixture graph (agreement to float32 round-off)",
  "k-diffusion/sample_heun@onnx-f32":
    "Heun in float32 on the float32 ONNX mixture graph (agreement to float32 round-off)",
};
