import { tensor } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import { deliverOutput, ShapeCache } from "../src/run-buffers.js";

interface Entry {
  key: string;
  busy: boolean;
}
const make = (_: readonly number[], key: string): Entry => ({ key, busy: false });

describe("ShapeCache", () => {
  it("keeps one entry per shape and hands it back while idle", () => {
    const c = new ShapeCache<Entry>(2);
    const a = c.acquire([2, 3], make);
    expect(c.acquire([2, 3], make)).toBe(a);
    expect(c.acquire([3, 2], make)).not.toBe(a);
  });

  it("gives an overlapping call fresh buffers that are not kept", () => {
    const c = new ShapeCache<Entry>(2);
    const a = c.acquire([4], make);
    a.busy = true;
    const b = c.acquire([4], make);
    expect(b).not.toBe(a);
    a.busy = false;
    expect(c.acquire([4], make)).toBe(a);
  });

  it("drops the least recently used idle shape when full, never a busy one", () => {
    const c = new ShapeCache<Entry>(2);
    const a = c.acquire([1], make);
    const b = c.acquire([2], make);
    c.acquire([1], make); // [1] is now the most recent
    c.acquire([3], make); // drops [2]
    expect(c.acquire([1], make)).toBe(a);
    expect(c.acquire([2], make)).not.toBe(b);
    const d = c.acquire([2], make); // kept again; [3] was dropped for it
    d.busy = true;
    c.acquire([1], make);
    c.acquire([5], make); // [2] is busy: [1] goes although [2] is older
    expect(c.acquire([2], make)).not.toBe(d);
    d.busy = false;
    expect(c.acquire([2], make)).toBe(d);
  });
});

describe("deliverOutput", () => {
  const x32 = tensor(new Float32Array(3), [3]);
  it("copies into out when given", () => {
    const out = tensor(new Float64Array(3), [3]);
    const r = deliverOutput(new Float32Array([0.1, 2, 3]), x32, out, true);
    expect(r).toBe(out);
    expect(out.data[0]).toBe(Math.fround(0.1));
  });
  it("hands over a fresh array of x's dtype, copies otherwise", () => {
    const fresh = new Float32Array([1, 2, 3]);
    expect(deliverOutput(fresh, x32, undefined, true).data).toBe(fresh);
    expect(deliverOutput(fresh, x32, undefined, false).data).not.toBe(fresh);
    const wide = deliverOutput(new Float64Array([0.1, 0, 0]), x32, undefined, true);
    expect(wide.data).toBeInstanceOf(Float32Array);
    expect(wide.data[0]).toBe(Math.fround(0.1));
    expect(wide.shape).toEqual([3]);
  });
});
