/**
 * Published scheduler_config.json files (SD 1.5, SDXL base 1.0, SD 2 768-v) loaded as-is,
 * diffusers' from_config semantics, and bad configs.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  createScheduler,
} from "../src/index.js";

const json = (p: string) => JSON.parse(readFileSync(fileURLToPath(new URL(p, import.meta.url)), "utf8"));
const sd15 = json("./configs/sd15.json");
const sdxl = json("./configs/sdxl.json");
const sd2v = json("./configs/sd2-v.json");
const SDCFG = { beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 };
const fixtureCase = (file: string, n: number) =>
  (
    json(`../../../fixtures/reference/diffusers/schedules/${file}.json`).cases as {
      set_timesteps: { num_inference_steps?: number };
      timesteps: number[];
      sigmas: number[];
      init_noise_sigma: number;
    }[]
  ).find((c) => c.set_timesteps.num_inference_steps === n)!;

describe("runwayml/stable-diffusion-v1-5 (a PNDMScheduler config)", () => {
  it("loads into EulerDiscreteScheduler the way from_config does", () => {
    const s = new EulerDiscreteScheduler(sd15);
    expect(s.init).toMatchObject({
      beta_schedule: "scaled_linear",
      beta_start: 0.00085,
      beta_end: 0.012,
      steps_offset: 1,
      timestep_spacing: "linspace",
      prediction_type: "epsilon",
    });
    expect(s.config._class_name).toBe("EulerDiscreteScheduler");
    expect(s.config._diffusers_version).toBe("0.6.0");
    expect(s.config.skip_prk_steps).toBe(true); // kept, as diffusers keeps unknown keys
    expect([...s.ignoredConfigKeys].sort()).toEqual(["clip_sample", "set_alpha_to_one", "skip_prk_steps"]);
  });
  it("gives the documented SD 1.5 Euler schedule (sigmas[0] = 14.6146, linspace)", () => {
    const s = new EulerDiscreteScheduler(sd15);
    s.setTimesteps(50);
    expect(s.sigmas[0]).toBeCloseTo(14.6146, 4);
    expect(s.initNoiseSigma).toBe(s.sigmas[0]);
    expect(s.timesteps[0]).toBe(999);
    expect(s.timesteps[49]).toBe(0);
    expect(s.sigmas[50]).toBe(0);
    const ref = fixtureCase("euler--sd-linspace", 50);
    expect(Array.from(s.timesteps)).toEqual(ref.timesteps);
    expect(Array.from(s.sigmas)).toEqual(ref.sigmas);
  });
  it("loads into Heun and Euler-ancestral with the same schedule as diffusers", () => {
    const h = new HeunDiscreteScheduler(sd15);
    h.setTimesteps(25);
    const hr = fixtureCase("heun--sd-linspace", 25);
    expect(Array.from(h.sigmas)).toEqual(hr.sigmas);
    expect(Array.from(h.timesteps)).toEqual(hr.timesteps);
    expect(h.ignoredConfigKeys).not.toContain("clip_sample"); // a Heun parameter
    const a = new EulerAncestralDiscreteScheduler(sd15);
    a.setTimesteps(25);
    const ar = fixtureCase("euler_a--sd-linspace", 25);
    expect(Array.from(a.sigmas)).toEqual(ar.sigmas);
    expect(a.initNoiseSigma).toBe(ar.init_noise_sigma);
  });
});

describe("stabilityai/stable-diffusion-xl-base-1.0 (an EulerDiscreteScheduler config)", () => {
  it("uses leading spacing with steps_offset 1 and the sqrt(sigma^2 + 1) initial scale", () => {
    const s = new EulerDiscreteScheduler(sdxl);
    expect(s.init).toMatchObject({
      timestep_spacing: "leading",
      steps_offset: 1,
      use_karras_sigmas: false,
      interpolation_type: "linear",
    });
    expect([...s.ignoredConfigKeys].sort()).toEqual([
      "clip_sample",
      "sample_max_value",
      "set_alpha_to_one",
      "skip_prk_steps",
    ]);
    s.setTimesteps(50);
    expect(s.timesteps[0]).toBe(981);
    expect(s.timesteps[49]).toBe(1);
    expect(s.sigmas[0]).toBeCloseTo(13.1204, 4);
    expect(s.initNoiseSigma).toBe(Math.fround(Math.sqrt(Math.fround(Math.fround(s.sigmas[0] ** 2) + 1))));
    const ref = fixtureCase("euler--sd-leading-off1", 50);
    expect(Array.from(s.timesteps)).toEqual(ref.timesteps);
    expect(Array.from(s.sigmas)).toEqual(ref.sigmas);
    expect(s.initNoiseSigma).toBe(ref.init_noise_sigma);
  });
  it("createScheduler(null, config) follows the config's own _class_name", () => {
    expect(createScheduler(null, sdxl)).toBeInstanceOf(EulerDiscreteScheduler);
    expect(() => createScheduler(null, sd15)).toThrow(/PNDMScheduler.*not a ported scheduler/);
  });
});

describe("stabilityai/stable-diffusion-2 (a DDIMScheduler v-prediction config)", () => {
  it("keeps v_prediction and the SD sigma table", () => {
    const s = new EulerDiscreteScheduler(sd2v);
    expect(s.init.prediction_type).toBe("v_prediction");
    expect([...s.ignoredConfigKeys].sort()).toEqual(["clip_sample", "set_alpha_to_one", "skip_prk_steps"]);
    s.setTimesteps(50);
    expect(Array.from(s.sigmas)).toEqual(fixtureCase("euler--sd-linspace", 50).sigmas);
    const a = new EulerAncestralDiscreteScheduler(sd2v);
    expect(a.init.prediction_type).toBe("v_prediction");
  });
});

describe("from_config semantics", () => {
  it("overrides win over the config (from_config(config, timestep_spacing=...))", () => {
    const s = EulerDiscreteScheduler.fromConfig(sd15, {
      timestep_spacing: "trailing",
      use_karras_sigmas: true,
    });
    expect(s.init.timestep_spacing).toBe("trailing");
    expect(s.init.use_karras_sigmas).toBe(true);
  });
  it("switching classes keeps set values and fills the new class's defaults", () => {
    const e = new EulerDiscreteScheduler(sd15, { timestep_spacing: "trailing" });
    const h = HeunDiscreteScheduler.fromConfig(e.config as Record<string, unknown>);
    expect(h.init.timestep_spacing).toBe("trailing");
    expect(h.init.clip_sample_range).toBe(1.0);
    expect(h.ignoredConfigKeys).toContain("final_sigmas_type"); // Euler-only key, kept in config
    expect(h.config.final_sigmas_type).toBe("zero");
  });
  it("Heun and Euler-ancestral ignore Euler-only options, as diffusers does", () => {
    const a = new EulerAncestralDiscreteScheduler({
      use_karras_sigmas: true,
      beta_schedule: "scaled_linear",
      beta_start: 0.00085,
      beta_end: 0.012,
    });
    a.setTimesteps(10);
    const plain = new EulerAncestralDiscreteScheduler({
      beta_schedule: "scaled_linear",
      beta_start: 0.00085,
      beta_end: 0.012,
    });
    plain.setTimesteps(10);
    expect(Array.from(a.sigmas)).toEqual(Array.from(plain.sigmas));
    expect(a.ignoredConfigKeys).toEqual(["use_karras_sigmas"]);
    const h = new HeunDiscreteScheduler({ rescale_betas_zero_snr: true });
    expect(Array.from(h.alphasCumprod)).toEqual(Array.from(new HeunDiscreteScheduler().alphasCumprod)); // not rescaled
  });
  it("Heun reads sigma_min / sigma_max kept from a source config (diffusers' hasattr(self.config, ...))", () => {
    const from = { ...sdxl, _class_name: "EulerDiscreteScheduler", sigma_min: 0.1, sigma_max: 10 };
    const h = HeunDiscreteScheduler.fromConfig(from, { use_karras_sigmas: true });
    expect(h.ignoredConfigKeys).toEqual(expect.arrayContaining(["sigma_min", "sigma_max"]));
    // the constructor's own full-length schedule is built before the extra keys exist
    expect(h.sigmas[0]).toBeCloseTo(14.6146, 4);
    h.setTimesteps(5);
    expect([h.sigmas[0], h.sigmas[h.sigmas.length - 2]]).toEqual([10, Math.fround(0.1)]);
    const plain = new HeunDiscreteScheduler({ ...SDCFG, use_karras_sigmas: true });
    plain.setTimesteps(5);
    expect(plain.sigmas[0]).toBeCloseTo(14.6146, 4);
  });
  it("defaults match diffusers' signatures (Heun's beta range differs)", () => {
    expect(new EulerDiscreteScheduler().init).toMatchObject({
      num_train_timesteps: 1000,
      beta_start: 0.0001,
      beta_end: 0.02,
      beta_schedule: "linear",
      final_sigmas_type: "zero",
      timestep_type: "discrete",
      sigma_min: null,
    });
    expect(new HeunDiscreteScheduler().init).toMatchObject({
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: "linear",
      clip_sample: false,
    });
    expect(new EulerAncestralDiscreteScheduler().init).toMatchObject({
      beta_start: 0.0001,
      beta_end: 0.02,
      rescale_betas_zero_snr: false,
    });
  });
  it("config is frozen", () => {
    const s = new EulerDiscreteScheduler(sdxl);
    expect(Object.isFrozen(s.config)).toBe(true);
  });
});

describe("bad configs", () => {
  it("wrong value types name the key", () => {
    expect(() => new EulerDiscreteScheduler({ use_karras_sigmas: "yes" as never })).toThrow(
      /EulerDiscreteScheduler config: `use_karras_sigmas`: .*boolean.*\(got "yes"\)/,
    );
    expect(() => new EulerDiscreteScheduler({ num_train_timesteps: -5 })).toThrow(/`num_train_timesteps`/);
    expect(() => new HeunDiscreteScheduler({ trained_betas: "x" as never })).toThrow(/`trained_betas`/);
    expect(() => new EulerDiscreteScheduler({ steps_offset: 0.5 })).toThrow(/`steps_offset`/);
  });
  it("a non-object config is refused", () => {
    expect(() => new EulerDiscreteScheduler([] as never)).toThrow(
      /expected a scheduler_config.json object, got an array/,
    );
    expect(() => new EulerDiscreteScheduler("x" as never)).toThrow(/got string/);
  });
  it("_class_name must be a string, as diffusers requires", () => {
    expect(() => new EulerDiscreteScheduler({ _class_name: 5 as never })).toThrow(
      /_class_name must be a string/,
    );
  });
  it("camelCase keys are refused with a hint", () => {
    expect(() => new EulerDiscreteScheduler({ useKarrasSigmas: true })).toThrow(
      /"useKarrasSigmas"; did you mean "use_karras_sigmas"/,
    );
  });
  it("unknown override keys are refused", () => {
    expect(() => new EulerDiscreteScheduler({}, { clip_sample: true } as never)).toThrow(
      /override "clip_sample" is not a parameter of EulerDiscreteScheduler/,
    );
  });
  it("unknown beta_schedule raises diffusers' NotImplementedError text", () => {
    expect(() => new EulerDiscreteScheduler({ beta_schedule: "exp" })).toThrow(
      /exp is not implemented for <class 'EulerDiscreteScheduler'>/,
    );
    expect(() => new EulerAncestralDiscreteScheduler({ beta_schedule: "sigmoid" })).toThrow(
      /not implemented/,
    );
    expect(() => new HeunDiscreteScheduler({ beta_schedule: "exp" })).not.toThrow();
  });
  it("only one of karras / exponential / beta sigmas", () => {
    expect(() => new EulerDiscreteScheduler({ use_karras_sigmas: true, use_beta_sigmas: true })).toThrow(
      /only one of/,
    );
    expect(
      () => new HeunDiscreteScheduler({ use_exponential_sigmas: true, use_karras_sigmas: true }),
    ).toThrow(/only one of/);
  });
  it("enumerated values are checked where diffusers checks them", () => {
    const s = new EulerDiscreteScheduler({ timestep_spacing: "evenly" });
    expect(() => s.setTimesteps(10)).toThrow(/timestep_spacing "evenly" is not supported/);
    const i = new EulerDiscreteScheduler({ interpolation_type: "cubic" });
    expect(() => i.setTimesteps(10)).toThrow(/interpolation_type "cubic" is not implemented/);
    const z = new EulerDiscreteScheduler({ final_sigmas_type: "one" });
    expect(() => z.setTimesteps(10)).toThrow(/final_sigmas_type must be "zero" or "sigma_min"/);
  });
});
