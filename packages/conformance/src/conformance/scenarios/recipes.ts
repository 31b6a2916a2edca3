/** How a recipe of the scenario table runs: through the runner table, or a written-out reference loop. */
import { type Denoiser, type NoiseSource, scale, zerosLike } from "@edmkit/core";
import { linearSchedule } from "@edmkit/edm";
import { runDiffusers, runEdm, runKd, runLoop, runNvlabs } from "../../runners/record.js";
import type { Impl } from "../../report/schema.js";
import { songAncestralVE, songAncestralVP } from "../song2021.js";
import { AlignedNoise, type TrajectoryRun } from "../trajectory.js";
import { eulerChurnLoop, heunLoop } from "../variants.js";
import type { Setup } from "./setups.js";
import type { GridName, ImplDef, ModelRef, NoiseSpec } from "./types.js";

function noiseOf(spec: NoiseSpec, seed: number): NoiseSource | null {
  if (spec === "none") return null;
  return spec === "stream" ? new AlignedNoise(seed, "sequential") : new AlignedNoise(seed);
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`scenario setup has no ${what}`);
  return v;
}

/** Run one implementation of the table on its setup. */
export function runRecipe(def: ImplDef, setup: Setup): Promise<TrajectoryRun> {
  const impl: Impl = { id: def.id, library: def.library, label: def.label, settings: def.settings ?? {} };
  const grid = (name: GridName) => need(setup.grids[name], `grid ${name}`);
  const model = (name: ModelRef): Denoiser => need(setup.models[name], `model ${name}`);
  const start = (name: GridName) => scale(zerosLike(setup.z), setup.z, grid(name)[0]);
  const r = def.run;
  switch (r.runner) {
    case "k-diffusion":
      return runKd(
        impl,
        r.sampler,
        model(r.model),
        setup.z,
        grid(r.sigmas),
        r.kwargs ?? {},
        noiseOf(r.noise, setup.seed),
      );
    case "edm":
      return runEdm(
        impl,
        model("mixture"),
        setup.z,
        {
          schedule: linearSchedule(),
          timeSteps: grid(r.timeSteps),
          conventions: r.conventions ?? "paper",
          solver: r.solver,
          ...r.churn,
        },
        noiseOf(r.noise, setup.seed),
      );
    case "nvlabs":
      return runNvlabs(
        impl,
        r.sampler,
        model("mixture"),
        setup.z,
        { ...r.kwargs },
        new AlignedNoise(setup.seed),
      );
    case "diffusers": {
      const sigmaToT = r.timestep ? need(setup.sigmaToT, "sigma_to_t") : undefined;
      return runDiffusers(
        impl,
        r.scheduler,
        need(setup.configs[r.config], `config ${r.config}`),
        need(setup.discrete, "discrete model"),
        setup.z,
        {
          numInferenceSteps: r.steps,
          ...(sigmaToT ? { timestepFor: (_t: number, sigma: number) => sigmaToT(sigma) } : {}),
          ...(r.stepKwargs ? { stepKwargs: r.stepKwargs } : {}),
          ...(r.initScale ? { initScale: r.initScale } : {}),
          ...(r.uncast ? { uncast: r.uncast } : {}),
        },
        noiseOf(r.noise, setup.seed),
      );
    }
    case "heun-loop": {
      const x0 = start(r.sigmas);
      return runLoop(
        impl,
        model("mixture"),
        (m, t) => heunLoop(m, x0, grid(r.sigmas), r.lastStep, t),
        new AlignedNoise(setup.seed),
      );
    }
    case "euler-churn-loop": {
      const x0 = start(r.sigmas);
      return runLoop(
        impl,
        model(r.model ?? "mixture"),
        (m, t, nz) =>
          eulerChurnLoop(m, x0, grid(r.sigmas), {
            ...r.churn,
            evaluate: r.evaluate,
            scalars: r.scalars ?? "float64",
            noise: nz,
            track: t,
          }),
        new AlignedNoise(setup.seed),
      );
    }
    case "song2021": {
      const x0 = start(r.sigmas);
      const rule = r.rule === "ve" ? songAncestralVE : songAncestralVP;
      return runLoop(
        impl,
        model("mixture"),
        (m, t, nz) =>
          rule(m, x0, grid(r.sigmas), {
            noise: nz,
            observer: {
              onStep: (e) => {
                t.step = e.i + 1;
              },
            },
          }),
        new AlignedNoise(setup.seed),
      );
    }
  }
}
