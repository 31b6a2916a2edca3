import { cpSync, mkdtempSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { edmkit, FIXTURES } from "./cli-helpers.js";

const files0 = () => `${FIXTURES}reference/k-diffusion/sample_heun__gmm1d-bimodal__karras10.json`;

describe("edmkit replay", () => {
  test("--json prints one object with results and summary, exit 0 when all pass", () => {
    const files = [
      `${FIXTURES}reference/k-diffusion/sample_heun__gmm1d-bimodal__karras10.json`,
      `${FIXTURES}reference/edm/edm_sampler__gmm1d-bimodal__steps10.json`,
      `${FIXTURES}reference/diffusers/euler--gmm1d-bimodal--linear-linspace-eps-20.json`,
    ];
    const r = edmkit(["replay", "--json", ...files]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ passed: 3, failed: 0, unsupported: 0 });
    expect(out.results.map((x: { library: string }) => x.library)).toEqual([
      "k-diffusion",
      "edm",
      "diffusers",
    ]);
    out.results.forEach((x: Record<string, number & number[]>, i: number) => {
      expect(Object.keys(x)).toEqual([
        "id",
        "library",
        "entry",
        "status",
        "maxAbsError",
        "callInputMaxAbsError",
        "callInputMaxAbs",
        "firstDivergence",
      ]);
      expect(x.maxAbsError).toBeLessThan(1e-9);
      expect(x.callInputMaxAbsError).toBeLessThan(1e-9);
      expect(x.callInputMaxAbs).toHaveLength(JSON.parse(readFileSync(files[i], "utf8")).nfe);
    });
    expect(r.status).toBe(0);
  });

  test("--model recorded answers every model call with the recording: float32 runs are bit-exact", () => {
    const r = edmkit([
      "replay",
      "--json",
      "--model",
      "recorded",
      `${FIXTURES}reference/k-diffusion/sample_heun__gmm1d-bimodal__karras10-churn-window-f32.json`,
      `${FIXTURES}reference/diffusers/euler--gmm1d-bimodal--f32-sd-linspace-v-12.json`,
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ passed: 2, failed: 0, unsupported: 0 });
    for (const x of out.results) {
      expect(x.maxAbsError).toBe(0);
      expect(x.callInputMaxAbsError).toBe(0);
    }
    expect(edmkit(["replay", "--model", "guessed", files0()]).stderr).toMatch(
      /--model must be "exact" or "recorded"/,
    );
  });

  test("a folder it has never seen, in the same format, replays without code changes", () => {
    const dir = mkdtempSync(join(tmpdir(), "edmkit-unseen-"));
    mkdirSync(join(dir, "nested", "deeper"), { recursive: true });
    cpSync(
      `${FIXTURES}reference/k-diffusion/sample_lms__gmm2d-ring8__exp12-order2.json`,
      join(dir, "nested", "a.json"),
    );
    cpSync(
      `${FIXTURES}reference/edm/ablation_sampler__gmm2d-ring8__ve-euler-14.json`,
      join(dir, "nested", "deeper", "b.json"),
    );
    const r = edmkit(["replay", dir]);
    expect(r.stdout).toMatch(/2 passed, 0 failed, 0 unsupported/);
    expect(r.status).toBe(0);
  });

  test("a tampered recording fails with its first diverging model call, exit 1", () => {
    const f = JSON.parse(
      readFileSync(`${FIXTURES}reference/k-diffusion/sample_euler__gmm1d-bimodal__karras12.json`, "utf8"),
    );
    f.model_calls[4].x[3] += 1e-6; // the port cannot reproduce this input
    const dir = mkdtempSync(join(tmpdir(), "edmkit-tampered-"));
    writeFileSync(join(dir, "t.json"), JSON.stringify(f));
    const r = edmkit(["replay", "--json", dir]);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ passed: 0, failed: 1, unsupported: 0 });
    expect(out.results[0].firstDivergence.modelCall).toBe(4);
    expect(out.results[0].firstDivergence.maxAbs).toBeGreaterThan(5e-7);
    expect(r.status).toBe(1);
    // a looser tolerance makes it pass
    expect(edmkit(["replay", "--json", "--tolerance-scale", "1e4", dir]).status).toBe(0);
  });

  test("an unknown library is reported as unsupported, exit 1", () => {
    const f = JSON.parse(
      readFileSync(`${FIXTURES}reference/k-diffusion/sample_euler__gmm1d-bimodal__karras12.json`, "utf8"),
    );
    f.reference.library = "comfyui";
    const dir = mkdtempSync(join(tmpdir(), "edmkit-unknown-"));
    writeFileSync(join(dir, "u.json"), JSON.stringify(f));
    const r = edmkit(["replay", "--json", dir]);
    expect(JSON.parse(r.stdout).summary).toEqual({ passed: 0, failed: 0, unsupported: 1 });
    expect(r.status).toBe(1);
  });

  test("one malformed fixture in a folder: listed as invalid, the rest replayed, exit 2 at the end", () => {
    const dir = mkdtempSync(join(tmpdir(), "edmkit-mixed-"));
    writeFileSync(
      join(dir, "good.json"),
      readFileSync(`${FIXTURES}reference/k-diffusion/sample_euler__gmm1d-bimodal__karras12.json`),
    );
    writeFileSync(join(dir, "broken.json"), JSON.stringify({ format: "edmkit-fixture/1", id: "x" }));
    const r = edmkit(["replay", dir]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/k-diffusion\/sample_euler\/gmm1d-bimodal\/karras12\s+pass/);
    expect(r.stdout).toMatch(/broken\.json\s+invalid\s+.*field `reference`/);
    expect(r.stdout).toMatch(/1 passed, 0 failed, 0 unsupported, 1 invalid \(2 fixtures\)/);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^edmkit: replay: invalid fixture: .*broken\.json/),
    ]);
    const j = edmkit(["replay", "--json", dir]);
    expect(j.status).toBe(2);
    const out = JSON.parse(j.stdout);
    expect(out.summary).toEqual({ passed: 1, failed: 0, unsupported: 0, invalid: 1 });
    expect(out.results.map((x: { status: string }) => x.status).sort()).toEqual(["invalid", "pass"]);
  });

  test("conformance --fixtures with one malformed file: listed as invalid, the rest replayed, report written, exit 2", () => {
    const root = mkdtempSync(join(tmpdir(), "edmkit-confmixed-"));
    const ref = join(root, "reference");
    mkdirSync(ref);
    for (const name of ["sample_euler__gmm1d-bimodal__karras12", "sample_dpmpp_2m__gmm1d-bimodal__karras12"])
      writeFileSync(join(ref, `${name}.json`), readFileSync(`${FIXTURES}reference/k-diffusion/${name}.json`));
    // the same fixture with its `shape` removed, and one with a step moved by 1e-3
    const f = JSON.parse(
      readFileSync(`${FIXTURES}reference/k-diffusion/sample_euler__gmm1d-bimodal__karras12.json`, "utf8"),
    );
    const noShape = { ...f, id: "x/no-shape" };
    delete noShape.shape;
    writeFileSync(join(ref, "no-shape.json"), JSON.stringify(noShape));
    const moved = structuredClone(f);
    moved.id = "x/moved-step";
    moved.steps[3].x[1] += 1e-3;
    writeFileSync(join(ref, "moved.json"), JSON.stringify(moved));
    const out = join(root, "out");
    const r = edmkit([
      "conformance",
      "--fixtures",
      root,
      "--only",
      "fixture:",
      "--workers",
      "1",
      "--out",
      out,
    ]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/fixtures: 2 passed, 1 failed, 0 unsupported, 1 invalid/);
    expect(r.stdout).toMatch(/PROBLEM: fixture .*no-shape\.json invalid: .*no-shape\.json: field `shape`/);
    // a failure outside the model calls names its first failed check, never "(step ?)"
    expect(r.stdout).toMatch(/PROBLEM: fixture x\/moved-step fail: steps: first at steps\[3\]\.x/);
    expect(r.stdout).not.toMatch(/step \?/);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^edmkit: conformance: invalid fixture: .*no-shape\.json: field `shape`/),
    ]);
    const rep = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(rep.fixtures.summary).toEqual({ passed: 2, failed: 1, unsupported: 0, invalid: 1 });
    const bad = rep.fixtures.results.find((x: { status: string }) => x.status === "invalid");
    expect(bad.file).toMatch(/no-shape\.json$/);
    expect(bad.message).toMatch(/field `shape`/);
    const html = readFileSync(join(out, "index.html"), "utf8");
    expect(html).toMatch(/<span class="badge bad">invalid<\/span>/);
    expect(html).toMatch(/1 invalid \(the file did not parse or validate; not replayed\)/);
  });

  test("bad input: one clear line on stderr, exit 2, no stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "edmkit-bad-"));
    writeFileSync(join(dir, "broken.json"), JSON.stringify({ format: "edmkit-fixture/1", id: "x" }));
    const cases: [string[], RegExp][] = [
      [["replay", join(dir, "missing")], /no such file or folder/],
      [["replay", dir], /broken\.json: field `reference`/],
      [["replay", "--tolerance-scale=-1", dir], /--tolerance-scale must be a positive number/],
      [["replay", "--frobnicate", dir], /unknown option --frobnicate/],
      [["nonsense"], /unknown command "nonsense"/],
    ];
    for (const [args, msg] of cases) {
      const r = edmkit(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
    }
  });
});
