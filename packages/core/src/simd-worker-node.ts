/**
 * The script of a SIMD worker thread under Node (`worker_threads`), spawned by `useSimdThreads`.
 */
import { parentPort } from "node:worker_threads";
import { serveSimdWorker } from "./simd-worker.js";

const port = parentPort;
if (port !== null) serveSimdWorker((handler) => port.on("message", handler));
