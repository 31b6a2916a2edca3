/**
 * Scheduler configs: a diffusers `scheduler_config.json` object, loaded the way diffusers'
 * `SchedulerClass.from_config(config, **overrides)` loads it (`ConfigMixin.extract_init_dict`):
 *
 * - the keys the class's `__init__` takes are read (overrides win), missing ones get the
 *   class's defaults; values are type-checked here with zod (diffusers does not check);
 * - `_class_name` may name another scheduler (SD 1.5 ships a PNDMScheduler config, SD 2 a
 *   DDIMScheduler one): that is allowed, exactly as in diffusers; the keys only the other
 *   class knows are ignored. `_class_name` must be a string (or a list), as diffusers asks;
 * - every other key (`_diffusers_version`, `skip_prk_steps`, ...) is ignored for the
 *   behaviour but kept in `config`, as diffusers keeps it (`register_to_config` of the
 *   "hidden" keys); `_class_name` is rewritten to the class being built, and the ignored
 *   non-private keys are listed in `ignoredKeys`;
 * - enumerated values (`timestep_spacing`, `prediction_type`, ...) are checked where
 *   diffusers checks them (set_timesteps / step), so errors surface at the same call.
 *
 * One deliberate difference: a camelCase spelling of a known key (`useKarrasSigmas`) is an
 * error with a hint, not a silently ignored key; configs are snake_case.
 */
import { ArgumentError } from "@edmkit/core";
import { z } from "zod";

const bool = z.boolean();
/** Optional[bool] in diffusers' signature: JSON null reads as false. */
const optBool = z
  .boolean()
  .nullable()
  .transform((v) => v ?? false);
const num = z.number();

const common = {
  num_train_timesteps: z.number().int().positive().default(1000),
  beta_start: num.default(0.0001),
  beta_end: num.default(0.02),
  beta_schedule: z.string().default("linear"),
  trained_betas: z.array(num).min(1).nullable().default(null),
  prediction_type: z.string().default("epsilon"),
  timestep_spacing: z.string().default("linspace"),
  steps_offset: z.number().int().default(0),
};

/** `EulerDiscreteScheduler.__init__` parameters and defaults. */
export const eulerDiscreteConfigSchema = z.object({
  ...common,
  interpolation_type: z.string().default("linear"),
  use_karras_sigmas: optBool.default(false),
  use_exponential_sigmas: optBool.default(false),
  use_beta_sigmas: optBool.default(false),
  sigma_min: num.nullable().default(null),
  sigma_max: num.nullable().default(null),
  timestep_type: z.string().default("discrete"),
  rescale_betas_zero_snr: bool.default(false),
  final_sigmas_type: z.string().default("zero"),
});

/** `HeunDiscreteScheduler.__init__` parameters and defaults (note beta_start/end). */
export const heunDiscreteConfigSchema = z.object({
  ...common,
  beta_start: num.default(0.00085),
  beta_end: num.default(0.012),
  use_karras_sigmas: optBool.default(false),
  use_exponential_sigmas: optBool.default(false),
  use_beta_sigmas: optBool.default(false),
  clip_sample: bool.default(false),
  clip_sample_range: num.default(1.0),
});

/** `EulerAncestralDiscreteScheduler.__init__` parameters and defaults. */
export const eulerAncestralDiscreteConfigSchema = z.object({
  ...common,
  rescale_betas_zero_snr: bool.default(false),
});

export type EulerDiscreteConfig = z.output<typeof eulerDiscreteConfigSchema>;
export type HeunDiscreteConfig = z.output<typeof heunDiscreteConfigSchema>;
export type EulerAncestralDiscreteConfig = z.output<typeof eulerAncestralDiscreteConfigSchema>;

export type EulerDiscreteConfigInput = z.input<typeof eulerDiscreteConfigSchema>;
export type HeunDiscreteConfigInput = z.input<typeof heunDiscreteConfigSchema>;
export type EulerAncestralDiscreteConfigInput = z.input<typeof eulerAncestralDiscreteConfigSchema>;

/** A scheduler_config.json object: known keys typed, anything else allowed (and ignored). */
export type SchedulerConfigJson<T> = Partial<T> & { _class_name?: string | string[]; [key: string]: unknown };

export interface ResolvedConfig<T> {
  /** The `__init__` arguments the scheduler runs with (defaults filled in). */
  init: T;
  /** What diffusers' `scheduler.config` holds: init arguments plus the kept extra keys. */
  config: Readonly<Record<string, unknown>>;
  /** Non-private keys that were present but mean nothing to this class. */
  ignoredKeys: string[];
}

function camelToSnake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/**
 * Resolve `input` (a scheduler_config.json object or plain constructor arguments) and
 * `overrides` (from_config keyword arguments) for `className` with `schema`.
 */
export function resolveConfig<S extends z.ZodObject>(
  className: string,
  schema: S,
  input: unknown,
  overrides: unknown = {},
): ResolvedConfig<z.output<S>> {
  const where = `${className} config`;
  if (input === undefined || input === null) input = {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new ArgumentError(
      `${where}: expected a scheduler_config.json object, got ${Array.isArray(input) ? "an array" : typeof input}`,
    );
  }
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new ArgumentError(`${where}: overrides must be an object of config keys`);
  }
  const src = input as Record<string, unknown>;
  const over = overrides as Record<string, unknown>;
  const expected = new Set(Object.keys(schema.shape));

  const cls = src._class_name;
  if (
    cls !== undefined &&
    typeof cls !== "string" &&
    !(Array.isArray(cls) && cls.every((c) => typeof c === "string"))
  ) {
    throw new ArgumentError(
      `${where}: _class_name must be a string (or a list of strings), got ${JSON.stringify(cls)}`,
    );
  }
  for (const k of [...Object.keys(src), ...Object.keys(over)]) {
    const snake = camelToSnake(k);
    if (
      !expected.has(k) &&
      /[A-Z]/.test(k) &&
      !k.startsWith("_") &&
      (KNOWN_KEYS.has(snake) || expected.has(snake))
    ) {
      throw new ArgumentError(
        `${where}: unknown key "${k}"; did you mean "${camelToSnake(k)}"? (configs use diffusers' snake_case keys)`,
      );
    }
  }
  for (const k of Object.keys(over)) {
    if (!expected.has(k)) {
      throw new ArgumentError(
        `${where}: override "${k}" is not a parameter of ${className} (expected one of ${[...expected].join(", ")})`,
      );
    }
  }

  const picked: Record<string, unknown> = {};
  for (const k of expected) {
    if (k in over && over[k] !== undefined) picked[k] = over[k];
    else if (k in src && src[k] !== undefined) picked[k] = src[k];
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = formatPath(issue.path);
    const got = issue.path.length ? valueAt(picked, issue.path) : picked;
    throw new ArgumentError(`${where}: \`${key}\`: ${issue.message} (got ${JSON.stringify(got)})`);
  }
  const init = parsed.data as z.output<S>;

  const config: Record<string, unknown> = { ...(init as Record<string, unknown>) };
  const ignoredKeys: string[] = [];
  for (const [k, v] of Object.entries(src)) {
    if (expected.has(k)) continue;
    config[k] = k === "_class_name" ? className : v;
    if (!k.startsWith("_")) ignoredKeys.push(k);
  }
  return { init, config: Object.freeze(config), ignoredKeys };
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = obj;
  for (const p of path) v = v == null ? undefined : (v as Record<PropertyKey, unknown>)[p];
  return v;
}

/** Every init key of the three ported classes (for the camelCase hint). */
const KNOWN_KEYS = new Set([
  ...Object.keys(eulerDiscreteConfigSchema.shape),
  ...Object.keys(heunDiscreteConfigSchema.shape),
  ...Object.keys(eulerAncestralDiscreteConfigSchema.shape),
]);
