import { defineConfig } from "vitest/config";

// "@edmkit/source" resolves workspace packages to their TypeScript sources, so tests run
// without building the packages they depend on.
const conditions = ["@edmkit/source", "import", "node", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 120_000 },
});
