/** Worker thread: runs the tasks it is given, in order, and posts each result back. */
import { parentPort, workerData } from "node:worker_threads";
import { runTask, type SuiteContext } from "./tasks.js";

const { ids, ctx } = workerData as { ids: string[]; ctx: SuiteContext };
for (const id of ids) parentPort!.postMessage(await runTask(id, ctx));
