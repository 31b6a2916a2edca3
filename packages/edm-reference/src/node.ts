/**
 * @edmkit/edm/node: the parts of @edmkit/edm that need Node's file system — saving and
 * loading the weight files of `ToyMlpDenoiser`. The main entry (`@edmkit/edm`) imports no
 * `node:` module, so it bundles for a browser.
 */
export { loadWeights, saveWeights } from "./training/weights-file.js";
