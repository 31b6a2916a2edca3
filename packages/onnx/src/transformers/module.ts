/**
 * The one place @huggingface/transformers is loaded: a dynamic `import()`, so that nothing
 * of edmkit pulls the library (about 475 MB with its runtimes) in unless this entry point is
 * used. It is an optional peer dependency of @edmkit/onnx.
 */
export type TransformersModule = typeof import("@huggingface/transformers");

let loading: Promise<TransformersModule> | undefined;

/**
 * Import @huggingface/transformers once (later calls share the promise). A missing package
 * is an Error saying how to install it.
 */
export function loadTransformers(): Promise<TransformersModule> {
  loading ??= import("@huggingface/transformers").catch((e: unknown) => {
    loading = undefined; // let a later call retry (e.g. after installing)
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(
        "@edmkit/onnx/transformers: the optional peer dependency @huggingface/transformers (>= 3) is not installed; " +
          `install it next to @edmkit/onnx (npm install @huggingface/transformers) (${why})`,
      );
    }
    throw new Error(`@edmkit/onnx/transformers: cannot load @huggingface/transformers: ${why}`);
  });
  return loading;
}
