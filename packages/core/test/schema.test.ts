import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { FixtureError, parseFixture } from "../src/index.js";
import { listFixtureFiles, loadFixture, loadFixtures } from "../src/node.js";
import { FIXTURES } from "./helpers.js";
import { readFileSync } from "node:fs";

const files = listFixtureFiles(`${FIXTURES}reference`);

describe("the schema accepts every bundled fixture", () => {
  test("there are fixtures for all three libraries", () => {
    for (const lib of ["k-diffusion", "diffusers", "edm"]) {
      expect(files.some((f) => f.includes(`/reference/${lib}/`))).toBe(true);
    }
  });
  test.each(files.map((f) => [f.slice(f.indexOf("reference/")), f]))("%s", (_n, f) => {
    const fx = loadFixture(f);
    expect(fx.format).toBe("edmkit-fixture/1");
  });
  test("loadFixtures walks a folder tree in sorted order", () => {
    const all = loadFixtures(`${FIXTURES}reference`);
    expect(all.map((l) => l.path)).toEqual(files);
  });
});

const base = JSON.parse(
  readFileSync(`${FIXTURES}reference/k-diffusion/sample_heun__gmm1d-bimodal__karras10.json`, "utf8"),
);
const sched = JSON.parse(
  readFileSync(`${FIXTURES}reference/diffusers/schedules/euler--sd-karras.json`, "utf8"),
);

// biome-ignore lint/suspicious/noExplicitAny: tests mutate arbitrary fields of a parsed fixture
type Mutable = any;

function broken(mutate: (f: Mutable) => void, from = base): unknown {
  const copy = structuredClone(from);
  mutate(copy);
  return copy;
}

function errorOf(value: unknown): FixtureError {
  try {
    parseFixture(value, "broken.json");
  } catch (e) {
    expect(e).toBeInstanceOf(FixtureError);
    return e as FixtureError;
  }
  throw new Error("the broken fixture was accepted");
}

describe("broken copies are refused with one message naming file and field", () => {
  const cases: [string, unknown, string, RegExp][] = [
    ["wrong format tag", broken((f) => (f.format = "edmkit-fixture/2")), "format", /edmkit-fixture\/1/],
    ["missing output", broken((f) => delete f.output), "output", /expected array/i],
    [
      "string where a number belongs",
      broken((f) => (f.model_calls[3].sigma = "80")),
      "model_calls[3].sigma",
      /number/,
    ],
    ["draw of the wrong size", broken((f) => f.noise.draws[2].pop()), "noise.draws[2]", /expected 16 values/],
    ["nfe disagrees with model_calls", broken((f) => (f.nfe = 3)), "nfe", /expected 19/],
    ["unknown dtype", broken((f) => (f.dtype = "float16")), "dtype", /float32|float64/],
    [
      "gmm mean of the wrong dim",
      broken((f) => f.denoiser.means[1].push(0)),
      "denoiser.means[1]",
      /expected 1 coordinates/,
    ],
    [
      "negative tolerance",
      broken((f) => (f.tolerance.abs = -1)),
      "tolerance.abs",
      />=|non-?negative|too small/i,
    ],
    [
      "model call without sigma or t",
      broken((f) => delete f.model_calls[0].sigma),
      "model_calls[0]",
      /sigma.*\bt\b/,
    ],
    [
      "schedule case with a string timestep",
      broken((f) => (f.cases[0].timesteps[0] = "x"), sched),
      "cases[0]",
      /./,
    ],
  ];
  test.each(cases)("%s", (_name, value, field, message) => {
    const e = errorOf(value);
    expect(e.file).toBe("broken.json");
    expect(e.field.startsWith(field)).toBe(true);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith("broken.json: ")).toBe(true);
  });

  test("not JSON, not an object, missing file: each one clear message", () => {
    const dir = mkdtempSync(join(tmpdir(), "edmkit-schema-"));
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(() => loadFixture(join(dir, "bad.json"))).toThrow(/bad\.json: not valid JSON/);
    expect(() => parseFixture([1, 2], "arr.json")).toThrow(/arr\.json: expected a JSON object/);
    expect(() => loadFixture(join(dir, "nope.json"))).toThrow(/nope\.json: cannot read file \(ENOENT\)/);
    expect(() => loadFixtures(join(dir, "missing-dir"))).toThrow(/no such file or folder/);
  });

  test("a folder with one broken file names that file", () => {
    const dir = mkdtempSync(join(tmpdir(), "edmkit-schema-"));
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "a.json"), JSON.stringify(base));
    writeFileSync(join(dir, "sub", "b.json"), JSON.stringify(broken((f) => (f.x_init = [1, 2]))));
    expect(() => loadFixtures(dir)).toThrow(/sub\/b\.json: field `x_init`: expected 16 values/);
  });
});
