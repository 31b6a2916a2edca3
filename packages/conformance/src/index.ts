/**
 * @edmkit/conformance: fixture replay across every port, the conformance suite and its
 * divergence report, and the `edmkit` CLI. ONNX denoisers are in @edmkit/onnx.
 */
export {
  ports,
  replayOne,
  summarize,
  collectFixtureFiles,
  loadAll,
  type Port,
  type ReplayEntry,
  type ReplaySummary,
} from "./replay.js";
export { UsageError } from "./errors.js";
export { writeFileAtomic } from "@edmkit/core/node";
export { openReportDir, REPORT_MARKER, type ReportDir, writeReportDir } from "./report-dir.js";
export {
  type AccuracyResult,
  accuracySchema,
  ancestralSchema,
  type CauseId,
  causeIds,
  causeIdSchema,
  type CauseResult,
  causeSchema,
  equivalenceGroupSchema,
  figuresSchema,
  fixtureResultSchema,
  type Impl,
  implSchema,
  onnxSchema,
  type PairResult,
  pairSchema,
  type QuirkResult,
  quirkSchema,
  type Report,
  reportSchema,
} from "./report/schema.js";
export { renderMarkdown } from "./report/render-markdown.js";
export { renderHtml } from "./report/render-html.js";
export { encodeGif } from "./graphics/gif.js";
export { trajectoryAnimation } from "./report/gif.js";
export { listTasks, runTask, type SuiteContext, type TaskResult } from "./conformance/tasks.js";
export { type TaskKind, taskKind, taskResultSchema } from "./conformance/task-results.js";
export { findRunner, type RunnerEntry, runners } from "./runners/table.js";
export { runPool } from "./conformance/pool.js";
export { assembleReport } from "./conformance/assemble.js";
export { runScenarios, SCENARIOS, type ScenarioDef, type ScenarioOutput } from "./conformance/scenarios.js";
export { songAncestralVE, songAncestralVP, ancestralStds } from "./conformance/song2021.js";
export { CAUSES } from "./conformance/causes.js";
