/**
 * The runner table: every sampler of every port under one name (`k-diffusion/sample_*`,
 * `edm/<solver>`, `edm/<NVlabs sampler>`, `diffusers/<SchedulerClass>`) with what it takes to
 * run it. Built from the ports' own registries and signatures, so a sampler a port adds
 * appears here (and in `edmkit sample`) without a copy of its signature (a diffusers
 * scheduler once the port states its signature).
 */
import {
  isSignedScheduler,
  type SchedulerName,
  type SchedulerSignature,
  type SignedSchedulerName,
  schedulerSignature,
  schedulers,
} from "@edmkit/diffusers";
import { samplerKeywords, samplers as nvlabsSamplers, type Solver, solvers } from "@edmkit/edm";
import { type SamplerName as KSamplerName, type Signature, samplerSignatures } from "@edmkit/k-diffusion";

export type NvlabsSamplerName = keyof typeof nvlabsSamplers;

/** A k-diffusion sampler: its signature, how its noise levels are given and its noise kwarg. */
export interface KDiffusionEntry {
  name: string;
  family: "k-diffusion";
  sampler: KSamplerName;
  signature: Signature;
  /** `sigmas`: a schedule; `range`: sigma_min, sigma_max and n (dpm_fast); `adaptive`: the range only. */
  grid: "sigmas" | "range" | "adaptive";
  /** The keyword that takes a NoiseSource (`noise` or `noise_sampler`), or null. */
  noiseKwarg: "noise" | "noise_sampler" | null;
}

/** The general EDM sampler (Algorithm 1/2) with one solver. */
export interface EdmEntry {
  name: string;
  family: "edm";
  solver: Solver;
}

/** NVlabs' edm_sampler / ablation_sampler, with their keyword arguments. */
export interface NvlabsEntry {
  name: string;
  family: "nvlabs";
  sampler: NvlabsSamplerName;
  keywords: readonly string[];
}

/** A diffusers scheduler driven by the pipeline loop. */
export interface DiffusersEntry {
  name: string;
  family: "diffusers";
  scheduler: SignedSchedulerName;
  signature: SchedulerSignature;
}

export type RunnerEntry = KDiffusionEntry | EdmEntry | NvlabsEntry | DiffusersEntry;

function kEntry(sampler: KSamplerName): KDiffusionEntry {
  const signature: Signature = samplerSignatures[sampler];
  const params = signature.params;
  return {
    name: `k-diffusion/${sampler}`,
    family: "k-diffusion",
    sampler,
    signature,
    grid: params.includes("sigmas") ? "sigmas" : params.includes("n") ? "range" : "adaptive",
    noiseKwarg: signature.kwargs.includes("noise")
      ? "noise"
      : signature.kwargs.includes("noise_sampler")
        ? "noise_sampler"
        : null,
  };
}

function build(): RunnerEntry[] {
  return [
    ...(Object.keys(samplerSignatures) as KSamplerName[]).map(kEntry),
    ...solvers.map((solver): EdmEntry => ({ name: `edm/${solver}`, family: "edm", solver })),
    ...(Object.keys(nvlabsSamplers) as NvlabsSamplerName[]).map(
      (sampler): NvlabsEntry => ({
        name: `edm/${sampler}`,
        family: "nvlabs",
        sampler,
        keywords: samplerKeywords[sampler],
      }),
    ),
    // The diffusers schedulers whose signature the port states (Euler, Heun, Euler ancestral).
    // Its other schedulers (DDIM, DDPM, LMS, KDPM2, DPM-Solver, the EDM and flow-matching ones)
    // have their own step options or model kinds and are replayed from fixtures only; they join
    // here (and `edmkit sample`) once the port states their signatures.
    ...(Object.keys(schedulers) as SchedulerName[]).filter(isSignedScheduler).map(
      (scheduler): DiffusersEntry => ({
        name: `diffusers/${scheduler}`,
        family: "diffusers",
        scheduler,
        signature: schedulerSignature(scheduler),
      }),
    ),
  ];
}

/** Every runner, in order: k-diffusion, EDM, NVlabs, diffusers. */
export const runners: readonly RunnerEntry[] = build();

const byName = new Map(runners.map((r) => [r.name, r]));

/** The runner called `name`, or undefined. */
export function findRunner(name: string): RunnerEntry | undefined {
  return byName.get(name);
}

type EntryOf<F extends RunnerEntry["family"]> = Extract<RunnerEntry, { family: F }>;

/** The runner called `name`, which must exist and be of `family` (for names fixed in code). */
export function runner<F extends RunnerEntry["family"]>(family: F, name: string): EntryOf<F> {
  const r = byName.get(name);
  if (!r || r.family !== family) throw new Error(`no ${family} runner "${name}"`);
  return r as EntryOf<F>;
}

/** The sigma schedules a diffusers scheduler offers (its `use_<name>_sigmas` config keys). */
export function diffusersSchedules(entry: DiffusersEntry): string[] {
  return entry.signature.config.flatMap((k) => /^use_(\w+)_sigmas$/.exec(k)?.[1] ?? []);
}
