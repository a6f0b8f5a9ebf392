// The fleet-wide build: one evaluator per chunk of hosts, chunks at once up to the evaluator slots, each
// chunk realised as soon as it is evaluated; every host reported ready as soon as its own outputs exist.
import { existsSync } from 'node:fs';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import { EVALUATED_MARK, nixEvalCommand, resolveArgv, type BuildAttribute, type BuildStage, type TargetBuild } from '../plan/index.js';
import type { ToolCommands } from '../manifest/inventory.js';
import { keepEvaluation } from './eval-cache.js';

/** Built store paths of one host. */
export interface HostBuild {
  toplevel: string;
  diskoScript?: string;
}

export interface BuildFailure {
  reason: string;
  tail: string[];
}

export interface BuildResult {
  built: Map<string, HostBuild>;
  failed: Map<string, BuildFailure>;
  /** How many evaluators (`nix eval` calls) ran. */
  evaluations: number;
  /** Hosts an evaluator answered. */
  evaluatedHosts: number;
  /** Hosts the evaluation cache answered (not evaluated). */
  cachedHosts: number;
}

/** Runs work under a bound on how much runs at once (the run's evaluator slots; see run/operate.ts). */
export type Limiter = <T>(work: () => Promise<T>) => Promise<T>;

export interface BuildCallbacks {
  /** The hosts the evaluation cache answered (before any evaluator starts); `evaluating` hosts are left to evaluate. */
  onCached?(hosts: string[], evaluating: number): void;
  /** A chunk's evaluator starts (it got one of the evaluator slots). */
  onStart(hosts: string[], chunk: number, chunks: number): void;
  onLine(hosts: string[], line: string): void;
  onBuilt(host: string, output: 'toplevel' | 'diskoScript', storePath: string): void;
  onFailed(host: string, failure: BuildFailure): void;
  /**
   * A host's outputs are known (evaluated), not yet built: what does not need them locally (the
   * lock, the probe, an unchanged host's whole sequence) may start now.
   */
  onEvaluated?(host: string, outputs: HostBuild): void;
  /** Every output of a host is built: it may go on now, while other chunks still evaluate. */
  onReady(host: string, build: HostBuild): void;
}

export interface BuildOptions {
  /** Bounds the evaluators (`nix eval`) that run at once: `plan.build.evalJobs` of them. */
  evaluators: Limiter;
  signal?: AbortSignal;
  /** A fresh out-link for each `nix build` (RunResults.nextLink): what it builds stays rooted for the run. */
  resultLink?: () => string;
}

/** What one evaluation said of each host: `{ host: { toplevel: { drv, out }, diskoScript?: … } }`. */
export type Evaluated = Record<string, Partial<Record<'toplevel' | 'diskoScript' | 'specialisation', { drv: string; out: string }>>>;

function hostsOf(attributes: readonly BuildAttribute[]): string[] {
  return [...new Set(attributes.map((a) => a.host))];
}

/** The evaluator's JSON answer (`[{ host, v }, …]`, see evalApplyFunction) by host. */
export function evaluatedFrom(stdout: string): Evaluated | undefined {
  try {
    const list = JSON.parse(stdout) as unknown;
    if (!Array.isArray(list)) return undefined;
    const evaluated: Evaluated = {};
    for (const entry of list as { host?: unknown; v?: unknown }[]) {
      if (typeof entry?.host === 'string' && typeof entry.v === 'object' && entry.v !== null) evaluated[entry.host] = entry.v as Evaluated[string];
    }
    return evaluated;
  } catch {
    return undefined;
  }
}

/** A host's result as the evaluator traced it: `trace: fleet-evaluated {"host":…,"v":…}`. */
function tracedResult(line: string): { host: string; v: Evaluated[string] } | undefined {
  const at = line.indexOf(EVALUATED_MARK);
  if (at < 0 || !line.startsWith('trace: ')) return undefined;
  try {
    const parsed = JSON.parse(line.slice(at + EVALUATED_MARK.length)) as { host?: unknown; v?: unknown };
    if (typeof parsed.host !== 'string' || typeof parsed.v !== 'object' || parsed.v === null) return undefined;
    return { host: parsed.host, v: parsed.v as Evaluated[string] };
  } catch {
    return undefined;
  }
}

/** Nix's default build-poll-interval: how long a build that finds a derivation locked waits, idle, before it looks again. */
export const NIX_BUILD_POLL_MS = 5000;

/**
 * Work in batches: what is added while a batch runs makes up the next one, which starts once no
 * batch is running, or once every running batch has run for `overlapAfterMs`. `settled()`
 * resolves when nothing is left to run.
 */
function batches<T>(run: (batch: T[]) => Promise<void>, overlapAfterMs: number): { add(...items: T[]): void; settled(): Promise<void> } {
  let pending: T[] = [];
  /** Each running batch, with when it started. */
  const running = new Map<Promise<void>, number>();
  let failure: { error: unknown } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    if (pending.length === 0 || failure) return;
    const now = Date.now();
    const youngest = Math.max(-Infinity, ...running.values());
    if (now - youngest < overlapAfterMs) {
      timer ??= setTimeout(() => {
        timer = undefined;
        next();
      }, youngest + overlapAfterMs - now);
      return;
    }
    const batch = pending;
    pending = [];
    const done = run(batch).catch((error: unknown) => {
      failure ??= { error };
    });
    running.set(done, now);
    void done.finally(() => {
      running.delete(done);
      next();
    });
  };
  return {
    add(...items) {
      pending.push(...items);
      next();
    },
    async settled() {
      while (running.size > 0) await Promise.race(running.keys());
      clearTimeout(timer);
      if (failure) throw failure.error;
    },
  };
}

/** What an evaluator said besides its traced results: its warnings and errors. */
export function evaluatorMessages(stderr: string): string {
  return stderr.split('\n').filter((line) => !(line.startsWith('trace: ') && line.includes(EVALUATED_MARK))).join('\n');
}

function failureOf(result: ExecResult, fallback: string): BuildFailure {
  const tail = tailLines({ stdout: '', stderr: evaluatorMessages(result.stderr) });
  const error = tail.filter((l) => /error/i.test(l)).at(-1) ?? tail.at(-1) ?? fallback;
  return { reason: error.trim(), tail };
}

type Chunk = BuildStage['chunks'][number];

/** One host's evaluated outputs, with the attributes of its chunk they answer. */
interface Evaluation {
  attributes: BuildAttribute[];
  outputs: Evaluated[string];
}

/**
 * Builds every chunk: one `nix eval` (one evaluator) for all its hosts, whose derivations are
 * built as they are evaluated (one `nix build` at a time per build host, see queueOf). Chunks run
 * concurrently, their evaluations bounded by `options.evaluators`; each host is reported ready
 * (`onReady`) as soon as its outputs exist, while other chunks still evaluate. When an evaluation
 * fails, each host of the chunk is evaluated alone so the failure lands on the host it belongs to;
 * when a build fails, the hosts whose outputs exist go on.
 */
export async function runBuildStage(
  stage: BuildStage,
  commands: ToolCommands,
  flake: string,
  exec: Exec,
  callbacks: BuildCallbacks,
  options: BuildOptions,
): Promise<BuildResult> {
  const { signal } = options;
  const result: BuildResult = { built: new Map(), failed: new Map(), evaluations: 0, evaluatedHosts: 0, cachedHosts: 0 };
  const fail = (host: string, failure: BuildFailure) => {
    result.failed.set(host, failure);
    callbacks.onFailed(host, failure);
  };
  const evaluatedHosts = new Set<string>();
  const evalFlake = stage.evalFlake ?? flake;

  // Hosts the evaluation cache answered: their outputs were valid in the store when the run was
  // planned, so they are ready now, built, with no evaluator.
  const cached = stage.cached ?? [];
  if (stage.evalCache?.use) callbacks.onCached?.(cached.map((c) => c.host), new Set(stage.chunks.flatMap((c) => hostsOf(c.attributes))).size);
  // Rooted for the run like a built system, so that a garbage collection while the run lasts (a
  // rollout's pause) cannot take what a later host copies.
  const { resultLink } = options;
  if (resultLink) {
    const paths = cached.flatMap(({ outputs }) => Object.values(outputs).flatMap((o) => (o && existsSync(o.out) ? [o.out] : [])));
    if (paths.length > 0) await exec({ argv: resolveArgv(stage.results.rootCached.argv, { resultLink: resultLink(), cachedOutputs: paths }), signal });
  }
  for (const { host, outputs } of cached) {
    const gone = Object.values(outputs).find((o) => o && !existsSync(o.out));
    if (!outputs.toplevel || gone) {
      const what = gone?.out ?? 'its toplevel';
      fail(host, { reason: `${what} (from the evaluation cache) left the store after the run was planned (garbage-collected?): run again to evaluate it anew`, tail: [] });
      continue;
    }
    const entry: HostBuild = { toplevel: outputs.toplevel.out, ...(outputs.diskoScript ? { diskoScript: outputs.diskoScript.out } : {}) };
    result.cachedHosts++;
    callbacks.onEvaluated?.(host, entry);
    result.built.set(host, entry);
    callbacks.onReady(host, entry);
  }

  /**
   * One evaluator in one slot; `undefined` when the run was interrupted before it started. Each
   * host's result is handed to `onEvaluated` as soon as the evaluator traces it (see
   * evalApplyFunction), long before the evaluator ends; hosts it never traced come from its JSON.
   */
  const evaluate = (
    attributes: readonly BuildAttribute[],
    hosts: string[],
    onEvaluated: (results: [host: string, outputs: Evaluated[string]][]) => void,
    onStart?: () => void,
  ): Promise<Evaluated | BuildFailure | undefined> =>
    options.evaluators(async () => {
      if (signal?.aborted) return undefined;
      onStart?.();
      const command = nixEvalCommand(commands, evalFlake, attributes, stage.impure);
      result.evaluations++;
      const streamed = new Set<string>();
      const run = await exec({
        argv: resolveArgv(command.argv, {}),
        signal,
        onLine: (line, stream) => {
          if (stream !== 'stderr') return;
          const traced = tracedResult(line);
          if (traced && hosts.includes(traced.host) && !streamed.has(traced.host)) {
            streamed.add(traced.host);
            onEvaluated([[traced.host, traced.v]]);
          } else if (!traced) callbacks.onLine(hosts, line);
        },
      });
      if (run.exitCode !== 0) return { ...failureOf(run, 'evaluation failed'), streamed };
      const evaluated = evaluatedFrom(run.stdout);
      if (evaluated === undefined) return { reason: 'nix eval printed no JSON result', tail: tailLines(run), streamed };
      onEvaluated(hosts.filter((host) => !streamed.has(host) && evaluated[host]).map((host) => [host, evaluated[host]!]));
      return evaluated;
    });

  /**
   * One `nix build` at a time per build host, each taking every host evaluated since the last
   * began, whichever chunk it came from. Two builds at once in one store contend for the
   * derivations their systems share (NixOS systems share most of their closures): Nix makes the
   * one that finds a derivation locked wait, idle, and look again only every build-poll-interval
   * (5 s). One build of many derivations schedules them itself, in parallel. A build that has run
   * that long already is a real one (compiling): the next starts beside it then, as a wait of up
   * to 5 s costs less than waiting for it to end.
   */
  const buildQueues = new Map<string, ReturnType<typeof batches<Evaluation>>>();
  const queueOf = (chunk: Chunk) => {
    const key = JSON.stringify([chunk.build.argv, chunk.build.env ?? {}]);
    let queue = buildQueues.get(key);
    if (!queue) buildQueues.set(key, (queue = batches<Evaluation>((batch) => buildHosts(chunk.build, batch), NIX_BUILD_POLL_MS)));
    return queue;
  };

  const runChunk = async (chunk: Chunk, index: number): Promise<void> => {
    const hosts = hostsOf(chunk.attributes);
    const builds = queueOf(chunk);
    const onTarget = new Map((chunk.targetBuilds ?? []).map((t) => [t.host, t]));
    const targetBuilds: Promise<void>[] = [];
    const evaluated = (results: [string, Evaluated[string]][]) => {
      if (signal?.aborted || results.length === 0) return;
      for (const [host, outputs] of results) {
        evaluatedHosts.add(host);
        result.evaluatedHosts = evaluatedHosts.size;
        keepEvaluation(stage.evalCache, chunk.attributes.filter((a) => a.host === host), outputs);
        if (!outputs.toplevel) continue;
        callbacks.onEvaluated?.(host, { toplevel: outputs.toplevel.out, ...(outputs.diskoScript ? { diskoScript: outputs.diskoScript.out } : {}) });
      }
      const here = results.filter(([host]) => !onTarget.has(host));
      for (const [host, outputs] of results) {
        const target = onTarget.get(host);
        if (target) targetBuilds.push(buildOnTarget(target, outputs));
      }
      if (here.length > 0) builds.add(...here.map(([host, outputs]) => ({ attributes: chunk.attributes.filter((a) => a.host === host), outputs })));
    };
    const whole = await evaluate(chunk.attributes, hosts, evaluated, () => callbacks.onStart(hosts, index + 1, stage.chunks.length));
    if (whole !== undefined && 'reason' in whole) {
      const failure = whole as BuildFailure & { streamed?: Set<string> };
      // The evaluator stopped at a host; those it traced before are fine and already building.
      const rest = hosts.filter((host) => !failure.streamed?.has(host));
      const { reason, tail } = failure;
      if (rest.length === 1 || signal?.aborted) for (const host of rest) fail(host, { reason, tail });
      else {
        // Attribute the failure: one evaluator per host left (each in a slot of its own).
        const alone = await Promise.all(rest.map((host) => evaluate(chunk.attributes.filter((a) => a.host === host), [host], evaluated)));
        rest.forEach((host, i) => {
          const answer = alone[i];
          if (answer !== undefined && 'reason' in answer) fail(host, { reason: (answer as BuildFailure).reason, tail: (answer as BuildFailure).tail });
        });
      }
    }
    await Promise.all(targetBuilds);
    await builds.settled();
  };

  /**
   * `buildHost: target`: the host's derivations go to its target, which realises them with its
   * own substituters and builders; the result stays there (nothing comes back here).
   */
  const buildOnTarget = async (target: TargetBuild, outputs: Evaluated[string]): Promise<void> => {
    const { host } = target;
    const toplevel = outputs.toplevel;
    if (!toplevel || signal?.aborted || result.failed.has(host)) return;
    const lines = (line: string) => callbacks.onLine([host], line);
    const derivations = [toplevel.drv];
    const copy = await exec({ argv: resolveArgv(target.copyDerivations.argv, { derivations }), env: target.copyDerivations.env, signal, onLine: lines });
    if (copy.exitCode !== 0) return fail(host, failureOf(copy, 'copying the derivations to the target failed'));
    const realise = await exec({ argv: resolveArgv(target.realise.argv, { derivations }), signal, onLine: (line, stream) => stream === 'stderr' && lines(line) });
    if (realise.exitCode !== 0) return fail(host, failureOf(realise, 'the build on the target failed'));
    if (!realise.stdout.split('\n').includes(toplevel.out)) {
      return fail(host, { reason: `the build on the target did not print ${toplevel.out}`, tail: tailLines(realise) });
    }
    const entry: HostBuild = { toplevel: toplevel.out };
    callbacks.onBuilt(host, 'toplevel', toplevel.out);
    result.built.set(host, entry);
    callbacks.onReady(host, entry);
  };

  /** Realises the evaluated outputs of some hosts (of one build host); each host is ready once its outputs exist. */
  const buildHosts = async (command: Chunk['build'], batch: Evaluation[]): Promise<void> => {
    const evaluated: Evaluated = {};
    for (const { attributes, outputs } of batch) for (const a of attributes) evaluated[a.host] = outputs;
    const wanted = batch.flatMap(({ attributes }) => attributes).filter((a) => evaluated[a.host]?.[a.output] !== undefined && !result.failed.has(a.host));
    if (wanted.length === 0 || signal?.aborted) return;
    const derivations = [...new Set(wanted.map((a) => `${evaluated[a.host]![a.output]!.drv}${stage.derivationSuffix}`))];
    const resultLink = options.resultLink?.() ?? `${stage.results.dir}/build`;
    const build = await exec({
      argv: resolveArgv(command.argv, { derivations, resultLink }),
      env: command.env,
      signal,
      onLine: (line, stream) => stream === 'stderr' && callbacks.onLine(hostsOf(wanted), line),
    });
    const buildFailure = build.exitCode === 0 ? undefined : failureOf(build, 'nix build failed');
    for (const host of hostsOf(wanted)) {
      const outputs = wanted.filter((a) => a.host === host);
      // Output paths come from the evaluation; --keep-going built whatever could be built.
      const missing = outputs.filter((a) => !existsSync(evaluated[host]![a.output]!.out));
      if (missing.length > 0) {
        fail(host, buildFailure ?? { reason: `nix build did not produce ${missing.map((a) => a.output).join(', ')}`, tail: tailLines(build) });
        continue;
      }
      const entry: HostBuild = { toplevel: '' };
      for (const a of outputs) {
        const out = evaluated[host]![a.output]!.out;
        // The build stage builds toplevels and disko scripts only (a specialisation is in its toplevel).
        if (a.output === 'specialisation') continue;
        if (a.output === 'toplevel') entry.toplevel = out;
        else entry.diskoScript = out;
        callbacks.onBuilt(host, a.output, out);
      }
      result.built.set(host, entry);
      callbacks.onReady(host, entry);
    }
  };

  // Every chunk runs to its end before the stage does, even when one of them throws.
  const settled = await Promise.allSettled(stage.chunks.map((chunk, index) => runChunk(chunk, index)));
  const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (thrown) throw thrown.reason;
  return result;
}
