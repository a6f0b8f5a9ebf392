// The fleet-wide build: one evaluator per chunk of hosts, chunks at once up to the evaluator slots, each
// chunk realised as soon as it is evaluated; every host reported ready as soon as its own outputs exist.
import { existsSync } from 'node:fs';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import { nixEvalCommand, resolveArgv, type BuildAttribute, type BuildStage } from '../plan/index.js';
import type { ToolCommands } from '../manifest/inventory.js';

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
}

/** Runs work under a bound on how much runs at once (the run's evaluator slots; see run/operate.ts). */
export type Limiter = <T>(work: () => Promise<T>) => Promise<T>;

export interface BuildCallbacks {
  /** A chunk's evaluator starts (it got one of the evaluator slots). */
  onStart(hosts: string[], chunk: number, chunks: number): void;
  onLine(hosts: string[], line: string): void;
  onBuilt(host: string, output: 'toplevel' | 'diskoScript', storePath: string): void;
  onFailed(host: string, failure: BuildFailure): void;
  /** Every output of a host is built: it may go on now, while other chunks still evaluate. */
  onReady(host: string, build: HostBuild): void;
}

export interface BuildOptions {
  /** Bounds the evaluators (`nix eval`) that run at once: `plan.build.evalJobs` of them. */
  evaluators: Limiter;
  signal?: AbortSignal;
}

/** What one evaluation said of each host: `{ host: { toplevel: { drv, out }, diskoScript?: … } }`. */
type Evaluated = Record<string, Partial<Record<'toplevel' | 'diskoScript', { drv: string; out: string }>>>;

function hostsOf(attributes: readonly BuildAttribute[]): string[] {
  return [...new Set(attributes.map((a) => a.host))];
}

function failureOf(result: ExecResult, fallback: string): BuildFailure {
  const tail = tailLines({ stdout: '', stderr: result.stderr });
  const error = tail.filter((l) => /error/i.test(l)).at(-1) ?? tail.at(-1) ?? fallback;
  return { reason: error.trim(), tail };
}

/**
 * Builds every chunk: one `nix eval` (one evaluator) for all its hosts, then one `nix build` of
 * the derivations. Chunks run concurrently, their evaluations bounded by `options.evaluators`;
 * each chunk is built as soon as it is evaluated, and each host is reported ready (`onReady`) as
 * soon as its outputs exist, while other chunks still evaluate. When an evaluation fails, each
 * host of the chunk is evaluated alone so the failure lands on the host it belongs to; when a
 * build fails, the hosts whose outputs exist go on.
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
  const result: BuildResult = { built: new Map(), failed: new Map(), evaluations: 0 };
  const fail = (host: string, failure: BuildFailure) => {
    result.failed.set(host, failure);
    callbacks.onFailed(host, failure);
  };

  /** One evaluator in one slot; `undefined` when the run was interrupted before it started. */
  const evaluate = (attributes: readonly BuildAttribute[], hosts: string[], onStart?: () => void): Promise<Evaluated | BuildFailure | undefined> =>
    options.evaluators(async () => {
      if (signal?.aborted) return undefined;
      onStart?.();
      const command = nixEvalCommand(commands, flake, attributes);
      result.evaluations++;
      const run = await exec({
        argv: resolveArgv(command.argv, {}),
        signal,
        onLine: (line, stream) => stream === 'stderr' && callbacks.onLine(hosts, line),
      });
      if (run.exitCode !== 0) return failureOf(run, 'evaluation failed');
      try {
        return JSON.parse(run.stdout) as Evaluated;
      } catch {
        return { reason: 'nix eval printed no JSON result', tail: tailLines(run) };
      }
    });

  const runChunk = async (chunk: BuildStage['chunks'][number], index: number): Promise<void> => {
    const hosts = hostsOf(chunk.attributes);
    const whole = await evaluate(chunk.attributes, hosts, () => callbacks.onStart(hosts, index + 1, stage.chunks.length));
    if (whole === undefined) return;

    let evaluated: Evaluated = {};
    if (!('reason' in whole)) evaluated = whole;
    else if (hosts.length === 1 || signal?.aborted) for (const host of hosts) fail(host, whole as BuildFailure);
    else {
      // Attribute the failure: one evaluator per host of the failed chunk (each in a slot of its own).
      const alone = await Promise.all(hosts.map((host) => evaluate(chunk.attributes.filter((a) => a.host === host), [host])));
      hosts.forEach((host, i) => {
        const answer = alone[i];
        if (answer === undefined) return;
        if ('reason' in answer) fail(host, answer as BuildFailure);
        else Object.assign(evaluated, answer);
      });
    }

    const wanted = chunk.attributes.filter((a) => evaluated[a.host]?.[a.output] !== undefined && !result.failed.has(a.host));
    if (wanted.length === 0 || signal?.aborted) return;
    const derivations = [...new Set(wanted.map((a) => `${evaluated[a.host]![a.output]!.drv}${stage.derivationSuffix}`))];
    const build = await exec({
      argv: resolveArgv(chunk.build.argv, { derivations }),
      env: chunk.build.env,
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
