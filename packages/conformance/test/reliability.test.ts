/**
 * Reliability audit (issue 11), the defects after the report folder: one ArgumentError for
 * bad input (exit 2), one rule for NaN model output (exit 1), output paths checked before the
 * work, fixture folders walked safely, sanity bounds, option limits. Real files and real
 * child processes where the defect is about files.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  ArgumentError,
  type Denoiser,
  DiscreteGmmModel,
  type DiscreteModel,
  FixtureError,
  GaussianMixture,
  NonFiniteModelOutputError,
  scale,
  tensor,
  TorchGenerator,
  TorchNoise,
  zerosLike,
} from "@edmkit/core";
import { createScheduler, denoisingLoop } from "@edmkit/diffusers";
import { edmSampler, samplers as edmSamplers, ToyMlpDenoiser } from "@edmkit/edm";
import {
  KDiffusionArgumentError,
  samplers as kSamplers,
  samplerSignatures,
  schedules,
} from "@edmkit/k-diffusion";
import { checkWritableFile, MAX_FIXTURE_BYTES, writeFileAtomic } from "@edmkit/core/node";
import { exitCodeOf, oneLine } from "../src/cli.js";
import { UsageError } from "../src/errors.js";
import { edmkit, edmkitArgs, ROOT } from "./cli-helpers.js";

function tmp(name: string): string {
  return mkdtempSync(join(tmpdir(), `edmkit-${name}-`));
}

/** `edmkit sample --sampler SAMPLER --model gmm1d-bimodal ...rest`. */
const sampleOn = (sampler: string, ...rest: string[]) => [
  "sample",
  "--sampler",
  sampler,
  "--model",
  "gmm1d-bimodal",
  ...rest,
];
const DIFFUSERS_ON_BIMODAL = [
  "sample",
  "--sampler",
  "diffusers/EulerDiscreteScheduler",
  "--model",
  "gmm1d-bimodal",
];

/** Exit 2 with exactly one line on stderr matching `message`, nothing on stdout. */
function expectUsage(r: { status: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.status).toBe(2);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe("one ArgumentError: every port's bad-input error is one, and the CLI maps it to exit 2 in one place", () => {
  test("the ports' argument errors extend core's ArgumentError", () => {
    expect(new KDiffusionArgumentError("x")).toBeInstanceOf(ArgumentError);
    expect(new FixtureError("f.json", "id", "bad")).toBeInstanceOf(ArgumentError);
    expect(new UsageError("x")).toBeInstanceOf(ArgumentError);
    expect(() => schedules.get_sigmas_karras(0, 0.1, 10)).toThrow(ArgumentError);
    expect(() => createScheduler("NoSuchScheduler" as never, {})).toThrow(ArgumentError);
    expect(() => createScheduler("EulerDiscreteScheduler", { num_train_timesteps: 0 })).toThrow(
      ArgumentError,
    );
    expect(() => createScheduler("EulerDiscreteScheduler", {}).setTimesteps(-1)).toThrow(ArgumentError);
    expect(() => ToyMlpDenoiser.fromJSON({ format: "nope" })).toThrow(ArgumentError);
    const x = { data: new Float64Array(2), shape: [2, 1], dtype: "float64" as const };
    const den = { denoise: async (v: typeof x) => v };
    return Promise.all([
      expect(edmSampler(den, x, { numSteps: 1 })).rejects.toThrow(ArgumentError),
      expect(edmSamplers.edm_sampler(den, x, { num_steps: 1 })).rejects.toThrow(ArgumentError),
    ]);
  });

  test("exitCodeOf: ArgumentError 2, NonFiniteModelOutputError 1, anything else 70 with its stack", () => {
    expect(exitCodeOf(new ArgumentError("bad"))).toEqual({ code: 2, message: "edmkit: bad" });
    expect(exitCodeOf(new KDiffusionArgumentError("sample_euler: bad")).code).toBe(2);
    const nan = exitCodeOf(new NonFiniteModelOutputError("sample_euler", 3, 1.5));
    expect(nan.code).toBe(1);
    expect(nan.message).toMatch(
      /sample_euler: model returned a non-finite value .* at step 3 \(sigma=1\.5\)/,
    );
    const bug = exitCodeOf(new RangeError("Invalid typed array length"));
    expect(bug.code).toBe(70);
    expect(bug.message).toMatch(/internal error: RangeError: Invalid typed array length\n\s+at /);
  });

  test("a port's argument error reaches the user as one line, exit 2 (no translating try/catch)", () => {
    expectUsage(
      edmkit(sampleOn("edm/edm_sampler", "--steps", "1")),
      /^edmkit: edm_sampler: num_steps must be an integer >= 2, got 1/,
    );
    const cfg = join(tmp("cfg"), "scheduler_config.json");
    writeFileSync(cfg, JSON.stringify({ beta_schedule: "wiggly" }));
    expectUsage(
      edmkit([...DIFFUSERS_ON_BIMODAL, "--config", cfg]),
      /^edmkit: EulerDiscreteScheduler: beta_schedule "wiggly" is not implemented/,
    );
  });
});

describe("defect 23: messages are one line, control bytes escaped, long ones cut", () => {
  test("oneLine", () => {
    expect(oneLine("a\nb\u0000c\u001b[31m")).toBe("a\\nb\\u0000c\\u001b[31m");
    expect(oneLine("x".repeat(5000))).toHaveLength(1003);
  });
});

describe("defects 11, 25, 26: one rule for a model that returns NaN or infinity", () => {
  const nanDen: Denoiser = {
    denoise: async (v) => tensor(new Float64Array(v.data.length).fill(NaN), v.shape),
  };
  const infModel: DiscreteModel = {
    prediction: "epsilon",
    predict: async (v) => tensor(new Float64Array(v.data.length).fill(Infinity), v.shape),
  };
  const x = () =>
    scale(zerosLike(new TorchGenerator(0).randn([4, 1])), new TorchGenerator(0).randn([4, 1]), 10);
  const NONFINITE = /model returned a non-finite value \(NaN or Infinity\) at step 0 \(sigma=/;

  test("every k-diffusion sampler, dpm_fast and dpm_adaptive included", async () => {
    for (const name of Object.keys(samplerSignatures) as (keyof typeof kSamplers)[]) {
      const run =
        name === "sample_dpm_fast"
          ? kSamplers.sample_dpm_fast(nanDen, x(), 0.1, 10, 4, {})
          : name === "sample_dpm_adaptive"
            ? kSamplers.sample_dpm_adaptive(nanDen, x(), 0.1, 10, {})
            : (kSamplers[name] as (...a: unknown[]) => Promise<unknown>)(nanDen, x(), [10, 5, 1, 0], {});
      const err = await run.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(NonFiniteModelOutputError);
      expect((err as Error).message, name).toMatch(new RegExp(`^${name}: ${NONFINITE.source}`));
    }
  });

  test("float32 output for float64 x and a non-tensor output are argument errors in dpm_fast / dpm_adaptive too", async () => {
    const f32: Denoiser = { denoise: async (v) => tensor(new Float32Array(v.data.length), v.shape) };
    const junk = { denoise: async () => ({ nope: 1 }) } as unknown as Denoiser;
    await expect(kSamplers.sample_dpm_fast(f32, x(), 0.1, 10, 4, {})).rejects.toThrow(
      /sample_dpm_fast: model returned float32 for float64 x at step 0/,
    );
    await expect(kSamplers.sample_dpm_adaptive(junk, x(), 0.1, 10, {})).rejects.toThrow(
      /sample_dpm_adaptive: model returned no tensor for x of shape \[4, 1\] at step 0/,
    );
  });

  test("the EDM samplers and diffusers' denoisingLoop (step() itself stays faithful: NaN in, NaN out)", async () => {
    const noise = () => new TorchNoise(new TorchGenerator(0));
    for (const solver of ["euler", "heun", "midpoint"] as const)
      await expect(edmSampler(nanDen, x(), { numSteps: 4, solver })).rejects.toThrow(
        NonFiniteModelOutputError,
      );
    await expect(
      edmSamplers.edm_sampler(nanDen, x(), { num_steps: 4 }, { randn_like: noise() }),
    ).rejects.toThrow(new RegExp(`edmSampler: ${NONFINITE.source}80\\)`));
    for (const name of [
      "EulerDiscreteScheduler",
      "HeunDiscreteScheduler",
      "EulerAncestralDiscreteScheduler",
    ]) {
      const s = createScheduler(name as never, {});
      s.setTimesteps(4);
      await expect(denoisingLoop(s, infModel, x(), { generator: new TorchGenerator(0) })).rejects.toThrow(
        NonFiniteModelOutputError,
      );
      const t = createScheduler(name as never, {});
      t.setTimesteps(4);
      const nanOut = tensor(new Float64Array(4).fill(NaN), [4, 1]);
      const stepped = t.step(nanOut, t.timesteps[0], x(), { generator: new TorchGenerator(0) });
      expect(Number.isNaN(stepped.prevSample.data[0]), name).toBe(true);
    }
  });

  test("defect 27: NaN in x is reported as x, not as the model's fault", async () => {
    const bad = tensor(Float64Array.from([1, NaN]), [2, 1]);
    await expect(kSamplers.sample_euler(nanDen, bad, [1, 0], {})).rejects.toThrow(
      /sample_euler: x holds NaN or infinity/,
    );
    await expect(kSamplers.sample_dpm_fast(nanDen, bad, 0.1, 1, 3, {})).rejects.toThrow(/x holds NaN/);
    await expect(edmSampler(nanDen, bad, { numSteps: 4 })).rejects.toThrow(/latents hold NaN or infinity/);
    const s = createScheduler("EulerDiscreteScheduler", {});
    s.setTimesteps(4);
    await expect(denoisingLoop(s, infModel, bad)).rejects.toThrow(/latents hold NaN or infinity/);
    await expect(edmSampler(nanDen, x(), { numSteps: 4, sigmaMin: -1 })).rejects.toThrow(
      /edmSampler: sigma_min must be a positive finite number, got -1/,
    );
  });

  test("the CLI: exit 1 with one line naming sampler, step and sigma, for every family", () => {
    const model = join(tmp("nan"), "huge.json");
    // a mixture so far out that its denoiser overflows to NaN
    writeFileSync(model, JSON.stringify({ kind: "gmm", dim: 1, weights: [1], means: [[1e308]], stds: [1] }));
    for (const sampler of [
      "k-diffusion/sample_euler",
      "k-diffusion/sample_dpm_fast",
      "k-diffusion/sample_dpm_adaptive",
      "edm/heun",
      "edm/edm_sampler",
      "diffusers/EulerDiscreteScheduler",
    ]) {
      const r = edmkit(["sample", "--sampler", sampler, "--model", model, "--batch", "2"]);
      expect(r.stderr, sampler).toMatch(NONFINITE);
      expect(r.status, sampler).toBe(1);
      expect(r.stderr.trimEnd().split("\n"), sampler).toHaveLength(1);
    }
  });
});

describe("defect 3: train never replaces a good model with a broken one", () => {
  test("a diverged run (lr 1e30) exits 1 saying so, and the previous model and sidecar stay", () => {
    const dir = tmp("train");
    const out = join(dir, "g.onnx");
    expect(edmkit(["train", "--dataset", "bimodal1d", "--steps", "30", "--out", out]).status).toBe(0);
    const before = [readFileSync(out), readFileSync(join(dir, "g.json"), "utf8")];
    const r = edmkit(["train", "--dataset", "bimodal1d", "--steps", "30", "--lr", "1e30", "--out", out]);
    expect(r.stderr).toMatch(
      /^edmkit: train: training diverged \(.*\); lower --lr\. Nothing written, .*g\.onnx is unchanged\n$/,
    );
    expect(r.stderr).not.toMatch(/differs/);
    expect(r.status).toBe(1);
    expect([readFileSync(out), readFileSync(join(dir, "g.json"), "utf8")]).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(["g.json", "g.onnx"]);
  });
});

describe("defect 4: unwritable output paths exit 2 with one line, before the work", () => {
  const dir = tmp("outs");
  const file = join(dir, "a-file");
  writeFileSync(file, "x");
  mkdirSync(join(dir, "folder.json"));
  mkdirSync(join(dir, "folder.onnx"));
  const bad = (ext: string) => [
    join(dir, `folder${ext}`),
    `/proc/x${ext}`,
    `/sys/x${ext}`,
    join(file, `x${ext}`),
  ];

  test("sample --out / --plot", () => {
    for (const [opt, ext] of [
      ["--out", ".json"],
      ["--plot", ".svg"],
    ]) {
      for (const p of bad(ext)) {
        if (ext === ".svg" && p.endsWith("folder.svg")) continue;
        const t0 = performance.now();
        const r = edmkit(
          [
            "sample",
            "--sampler",
            "k-diffusion/sample_euler",
            "--model",
            "gmm1d-bimodal",
            "--steps",
            "2000",
            "--batch",
            "2000",
            opt,
            p,
          ],
          { timeout: 60_000 },
        );
        expectUsage(r, new RegExp(`^edmkit: sample: ${opt} `));
        // refused before sampling (2000 steps x 2000 samples take far longer)
        expect(performance.now() - t0, p).toBeLessThan(20_000);
      }
    }
    const p = join(dir, "folder.svg");
    mkdirSync(p);
    expectUsage(edmkit(sampleOn("k-diffusion/sample_euler", "--plot", p)), /is a folder/);
  });

  test("train --out / --weights, before training", () => {
    for (const p of bad(".onnx"))
      expectUsage(
        edmkit(["train", "--dataset", "bimodal1d", "--steps", "100000", "--out", p], { timeout: 60_000 }),
        /^edmkit: train: (--out|the sidecar) /,
      );
    for (const p of bad(".json").slice(1))
      expectUsage(
        edmkit(
          [
            "train",
            "--dataset",
            "bimodal1d",
            "--steps",
            "100000",
            "--out",
            join(dir, "ok.onnx"),
            "--weights",
            p,
          ],
          {
            timeout: 60_000,
          },
        ),
        /^edmkit: train: --weights /,
      );
    expect(existsSync(join(dir, "ok.onnx"))).toBe(false);
  });

  test("writeFileAtomic: a clear ArgumentError (exit 2), no stack", () => {
    expect(() => writeFileAtomic(join(file, "x.json"), "{}")).toThrow(ArgumentError);
    expect(() => writeFileAtomic("/proc/x.json", "{}")).toThrow(/cannot write \/proc\/x\.json \(ENOENT\)/);
    expect(() => checkWritableFile("", "--out")).toThrow(/--out must name a file/);
  });
});

const F = join(ROOT, "fixtures/reference/k-diffusion/sample_euler__gmm1d-bimodal__karras12.json");

/** A folder holding one valid fixture. */
function fixtureDir(name: string): string {
  const d = tmp(name);
  copyFileSync(F, join(d, "ok.json"));
  return d;
}

describe("defects 6, 7: walking a fixture folder never crashes, hangs or reads a special file", () => {
  test("a symlink loop, a dangling link: exit 2, one line naming the path", () => {
    const loop = fixtureDir("loop");
    symlinkSync("..", join(loop, "up"));
    expectUsage(edmkit(["replay", loop]), /^edmkit: .*up: a symlink loop/);
    const self = fixtureDir("self");
    symlinkSync("self.json", join(self, "self.json"));
    expectUsage(edmkit(["replay", self]), /^edmkit: .*self\.json: a symlink loop/);
    const dangling = fixtureDir("dangling");
    symlinkSync(join(dangling, "nowhere"), join(dangling, "gone.json"));
    expectUsage(edmkit(["replay", dangling]), /^edmkit: .*gone\.json: a dangling link/);
    expectUsage(
      edmkit(["conformance", "--fixtures", join(loop, "up"), "--only", "x"]),
      /symlink loop|reference/,
    );
  });

  test("an unreadable subfolder: exit 2 naming it", () => {
    const d = fixtureDir("unreadable");
    mkdirSync(join(d, "secret"));
    chmodSync(join(d, "secret"), 0);
    chmodSync(d, 0o755);
    // root reads everything: run the command as nobody where we are root
    const asNobody = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");
    const cmd = asNobody
      ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath]
      : [process.execPath];
    const r = spawnSync(cmd[0], [...cmd.slice(1), ...edmkitArgs(["replay", d])], {
      encoding: "utf8",
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    chmodSync(join(d, "secret"), 0o755);
    if (process.getuid?.() === 0 && !asNobody) return;
    expectUsage(r, /^edmkit: .*secret: cannot read the folder \(EACCES\)/);
  });

  test("a FIFO named x.json and a link to /dev/zero are refused without being opened (no hang)", () => {
    const d = fixtureDir("special");
    spawnSync("mkfifo", [join(d, "p.json")]);
    expect(existsSync(join(d, "p.json"))).toBe(true);
    const t0 = performance.now();
    expectUsage(edmkit(["replay", d], { timeout: 30_000 }), /p\.json: not a regular file/);
    expectUsage(edmkit(["replay", join(d, "p.json")], { timeout: 30_000 }), /p\.json: not a regular file/);
    const z = fixtureDir("zero");
    symlinkSync("/dev/zero", join(z, "z.json"));
    expectUsage(edmkit(["replay", z], { timeout: 30_000 }), /z\.json: not a regular file/);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(MAX_FIXTURE_BYTES).toBe(256 * 1024 * 1024);
  });

  test('replay "" does not mean the current folder', () => {
    expectUsage(edmkit(["replay", ""]), /^edmkit: "": an empty path/);
    expectUsage(edmkit(["conformance", "--fixtures", ""]), /--fixtures must name a folder/);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: fixture JSON, edited freely by the tests
type Json = Record<string, any>;

/** A copy of fixture `rel` (under fixtures/reference) with `edit` applied, as a file path. */
function mutated(rel: string, edit: (f: Json) => void): string {
  const f = JSON.parse(readFileSync(join(ROOT, "fixtures/reference", rel), "utf8"));
  edit(f);
  const p = join(tmp("mut"), "f.json");
  writeFileSync(p, JSON.stringify(f));
  return p;
}

function replayJson(file: string) {
  const r = edmkit(["replay", "--json", file], { timeout: 60_000 });
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : null };
}

describe("defect 13: a fixture asking for far more than it records is refused before computing", () => {
  test("k-diffusion reference.call.n, EDM num_steps, diffusers num_inference_steps", () => {
    const cases: [string, (f: Json) => void, RegExp][] = [
      [
        "k-diffusion/schedule__get_sigmas_vp__n12-defaults.json",
        (f) => {
          f.reference.call.n = 1e9;
        },
        /reference\.call\.n asks for 1000000000 but the fixture records 13 sigmas/,
      ],
    ];
    const edm = readdirSync(join(ROOT, "fixtures/reference/edm")).find((n) => n.startsWith("edm_sampler"));
    const dif = "euler--gmm1d-bimodal--linear-linspace-eps-20.json";
    if (edm)
      cases.push([
        `edm/${edm}`,
        (f) => {
          f.reference.call.num_steps = 1e9;
        },
        /num_steps asks for 1000000000/,
      ]);
    cases.push([
      `diffusers/${dif}`,
      (f) => {
        f.reference.call.set_timesteps = { ...f.reference.call.set_timesteps, num_inference_steps: 1e8 };
      },
      /num_inference_steps asks for 100000000/,
    ]);
    expect(cases).toHaveLength(3);
    for (const [rel, edit, message] of cases) {
      const t0 = performance.now();
      const r = replayJson(mutated(rel, edit));
      expect(r.status, rel).toBe(1);
      expect(r.json.results[0].status, rel).toBe("error");
      expect(r.json.results[0].message, rel).toMatch(message);
      expect(performance.now() - t0, rel).toBeLessThan(30_000);
    }
  });
});

describe("defects 18, 19, 20: fixtures check what they record", () => {
  const diffSched = readdirSync(join(ROOT, "fixtures/reference/diffusers/schedules"))[0];

  test("18: an empty diffusers schedule fixture (cases: []) is invalid", () => {
    const p = mutated(`diffusers/schedules/${diffSched}`, (f) => {
      f.cases = [];
    });
    expectUsage(edmkit(["replay", p]), /field `cases`: Too small/);
  });

  test("19: zeroed model_calls[].out fail the replay; a string step value is a schema error", () => {
    const zeroed = replayJson(
      mutated("k-diffusion/sample_euler__gmm1d-bimodal__karras12.json", (f) => {
        for (const c of f.model_calls) c.out = c.out.map(() => 0);
      }),
    );
    expect(zeroed.status).toBe(1);
    expect(zeroed.json.results[0].status).toBe("fail");
    expect(zeroed.json.results[0].firstDivergence.field).toBe("model_calls[0].out");
    const p = mutated("k-diffusion/sample_euler__gmm1d-bimodal__karras12.json", (f) => {
      f.steps[0].sigma = "80";
    });
    expectUsage(
      edmkit(["replay", p]),
      /field `steps\[0\]\.sigma`: expected a number or an array of numbers, got the string "80"/,
    );
  });

  test("20: a k-diffusion schedule entry named like an Object.prototype member is unsupported", () => {
    for (const entry of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      const r = replayJson(
        mutated("k-diffusion/schedule__get_sigmas_vp__n12-defaults.json", (f) => {
          f.reference.entry = entry;
        }),
      );
      expect(r.json.results[0].status, entry).toBe("unsupported");
    }
  });
});

describe("defects 12, 14, 16, 21, 22, 23: options", () => {
  const S = ["sample", "--sampler", "k-diffusion/sample_euler", "--model", "gmm1d-bimodal"];

  test("12: huge numbers exit 2 with the limit; the limits are in --help", () => {
    expectUsage(
      edmkit([...S, "--batch", "1e12"]),
      /--batch must be an integer from 1 to 1000000, got "1e12"/,
    );
    expectUsage(edmkit([...S, "--steps", "1e9"]), /--steps must be an integer from 1 to 10000/);
    expectUsage(
      edmkit([...S, "--bins", "1e7", "--plot", join(tmp("b"), "p.svg")]),
      /--bins must be an integer from 1 to 10000/,
    );
    expectUsage(
      edmkit(["train", "--dataset", "bimodal1d", "--hidden", "100000", "--out", join(tmp("h"), "m.onnx")]),
      /--hidden must be an integer from 1 to 4096/,
    );
    expectUsage(
      edmkit([...DIFFUSERS_ON_BIMODAL, "--timestep-spacing", "leading", "--steps", "2000"]),
      /--steps 2000 is more than the scheduler's num_train_timesteps \(1000\)/,
    );
    expect(edmkit(["sample", "--help"]).stdout).toMatch(/at most 1000000/);
    expect(edmkit(["train", "--help"]).stdout).toMatch(/at most 4096/);
  });

  test("14: --workers is capped at the task count (and the CPU count), and the run says so", () => {
    const out = join(tmp("w"), "r");
    const r = edmkit([
      "conformance",
      "--only",
      "sample_euler__gmm1d-bimodal__karras12",
      "--workers",
      "1000",
      "--out",
      out,
    ]);
    expect(r.stdout).toMatch(/conformance: 1 workers \(--workers 1000 capped at the 1 tasks and \d+ CPUs\)/);
    expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8")).environment.workers).toBe(1);
    expect(edmkit(["conformance", "--help"]).stdout).toMatch(
      /never more than\s+the number of tasks or of CPUs/,
    );
  });

  test("16: an unavailable --device exits non-zero with a clear line", () => {
    const r = edmkit([
      "conformance",
      "--only",
      "onnx",
      "--device",
      "cuda",
      "--workers",
      "1",
      "--out",
      join(tmp("d"), "r"),
    ]);
    if (r.status === 0) return; // a machine with CUDA
    expect(r.stderr).toMatch(/^edmkit: conformance: --device cuda is not available: /m);
    expect(r.status).toBe(1);
  });

  test("21: --kwargs may not name what the CLI supplies", () => {
    expectUsage(
      edmkit(sampleOn("k-diffusion/sample_euler_ancestral", "--kwargs", '{"noise_sampler":1}')),
      /--kwargs "noise_sampler" is supplied by the CLI/,
    );
    expectUsage(
      edmkit(sampleOn("edm/edm_sampler", "--kwargs", '{"num_steps":5}')),
      /--kwargs "num_steps" is supplied by --steps/,
    );
    expectUsage(
      edmkit([
        ...S.slice(0, 2),
        "k-diffusion/sample_euler",
        ...S.slice(3),
        "--churn",
        "1",
        "--kwargs",
        '{"s_churn":2}',
      ]),
      /--kwargs "s_churn" is supplied by --churn/,
    );
  });

  test("22: negative numbers are values (--seed -1, --rho -1); train takes negative seeds like sample", () => {
    const r = edmkit([...S, "--seed", "-1", "--batch", "2", "--steps", "2", "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).seed).toBe(-1);
    expectUsage(edmkit([...S, "--rho", "-1"]), /--rho must be a positive number, got "-1"/);
    const t = edmkit([
      "train",
      "--dataset",
      "bimodal1d",
      "--steps",
      "5",
      "--seed",
      "-3",
      "--json",
      "--out",
      join(tmp("s"), "m.onnx"),
    ]);
    expect(t.status).toBe(0);
    expect(JSON.parse(t.stdout).seed).toBe(-3);
  });

  test("23: a file's raw bytes never reach stderr (UTF-16, newlines)", () => {
    const d = tmp("bytes");
    writeFileSync(join(d, "u16.json"), Buffer.from('{"format": 1}', "utf16le"));
    writeFileSync(join(d, "nl.json"), "{\n\n\u001b[31mx");
    for (const f of ["u16.json", "nl.json"]) {
      const r = edmkit(["replay", join(d, f)]);
      expectUsage(r, /not valid JSON/);
      const control = [...r.stderr].filter((c) => c !== "\n" && c.charCodeAt(0) < 0x20);
      expect(control).toEqual([]);
    }
  });
});

describe("defects 27, 28, 29: the library API checks at construction / entry", () => {
  const spec = { kind: "gmm" as const, dim: 1, weights: [1], means: [[0]], stds: [0.5] };
  const x = tensor(Float64Array.from([0.5, -0.5]), [2, 1]);

  test("GaussianMixture: NaN or negative sigma refused; stds 0 at sigma 0 is the identity, not NaN", () => {
    const g = new GaussianMixture(spec);
    expect(() => g.denoiseSync(x, [NaN, 1])).toThrow(/gmm: sigma\[0\] must be a finite number >= 0, got NaN/);
    expect(() => g.denoiseSync(x, [1, -1])).toThrow(ArgumentError);
    expect(() => new GaussianMixture({ ...spec, stds: [NaN] })).toThrow(ArgumentError);
    expect(() => new GaussianMixture({ ...spec, means: [[NaN]] })).toThrow(/means\[0\]\[0\]/);
    const point = new GaussianMixture({ ...spec, stds: [0] });
    expect(Array.from(point.denoiseSync(x, [0, 0]).data)).toEqual([0.5, -0.5]);
    expect(() =>
      g.denoiseSync({ data: new Float64Array(1), shape: [2, 1], dtype: "float64" }, [1, 1]),
    ).toThrow(/gmm: x has 1 values but shape \[2, 1\]/);
  });

  test("DiscreteGmmModel: alphasCumprod empty or outside (0, 1], NaN timesteps", async () => {
    for (const alphasCumprod of [[], [0.5, 0], [1.5], [NaN]])
      expect(() => new DiscreteGmmModel({ gmm: spec, alphasCumprod }), JSON.stringify(alphasCumprod)).toThrow(
        ArgumentError,
      );
    const m = new DiscreteGmmModel({ gmm: spec, alphasCumprod: [0.9, 0.5, 0.1] });
    await expect(m.predict(x, Float64Array.from([NaN, 1]))).rejects.toThrow(
      /timestep\[0\] must be a finite number/,
    );
  });

  test("TorchGenerator.randn with an unknown dtype throws", () => {
    expect(() => new TorchGenerator(0).randn([2], "float16" as never)).toThrow(
      /dtype must be "float32" or "float64"/,
    );
  });

  test("29: trained_betas: [] is refused at construction", () => {
    for (const name of ["EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler"])
      expect(() => createScheduler(name as never, { trained_betas: [] }), name).toThrow(/trained_betas/);
  });
});
