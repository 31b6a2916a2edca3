/**
 * QUADPACK's QK21 and Gauss-Legendre rules (for the LMS coefficients) now live in
 * @edmkit/core, shared with the diffusers port's LMSDiscreteScheduler; re-exported here so
 * this package's API is unchanged.
 */
export { gaussLegendre, integrateGaussLegendre, type Qk21Result, qk21 } from "@edmkit/core";
