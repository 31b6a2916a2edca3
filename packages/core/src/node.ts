/**
 * @edmkit/core/node: the parts of core that need Node's file system — loading fixture files
 * and folders and data sets, and atomic file output. The main entry (`@edmkit/core`) imports no `node:`
 * module, so it bundles for a browser; import this entry only where Node runs.
 */
export {
  listFixtureFiles,
  type LoadedFixture,
  loadFixture,
  loadFixtures,
  MAX_FIXTURE_BYTES,
} from "./fixtures/load.js";
export { checkWritableFile, makeParents, type StagedFile, stageFile, writeFileAtomic } from "./atomic.js";
export { attachDataset, findFixtureAsset, loadDataset } from "./datasets/load.js";
export { useSimdThreads } from "./simd-threads-node.js";
export { type CopyTime, copyTime, divisionTime } from "./bandwidth.js";
