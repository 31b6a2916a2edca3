import { SimdArena, SimdKernel, simdIn, allocate } from "@edmkit/core";
import { useSimdThreads } from "@edmkit/core/node";
const COPY = new SimdKernel({ inputs: 1, params: 0, outputs: [simdIn(0)] });
const size = 2_000_000;
for (const th of [1, 2]) {
  await useSimdThreads(th);
  for (const dtype of ["float32", "float64"] as const) {
    const ar = SimdArena.create(dtype, size, 2, true)!;
    const a = ar.alloc()!,
      b = ar.alloc()!;
    a.fill(1.5);
    const pa = allocate(dtype, size).fill(1.5),
      pb = allocate(dtype, size);
    const t = (name: string, f: () => void) => {
      for (let i = 0; i < 3; i++) f();
      let best = 1e9;
      for (let r = 0; r < 30; r++) {
        const t0 = performance.now();
        f();
        best = Math.min(best, performance.now() - t0);
      }
      const el = dtype === "float32" ? 4 : 8;
      console.log(th, dtype, name, best.toFixed(3), "GB/s", ((2 * size * el) / best / 1e6).toFixed(1));
    };
    t("kernel copy", () => {
      COPY.ops[0] = b;
      COPY.ops[1] = a;
      COPY.run();
    });
    t("set arena", () => b.set(a));
    t("set plain", () => pb.set(pa));
  }
}
process.exit(0);
