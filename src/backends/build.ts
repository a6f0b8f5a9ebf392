// The fleet-wide build: one evaluator per chunk of hosts, then one realisation; failures pinned on their hosts.
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

export interface BuildCallbacks {
  onStart(hosts: string[], chunk: number, chunks: number): void;
  onLine(hosts: string[], line: string): void;
  onBuilt(host: string, output: 'toplevel' | 'diskoScript', storePath: string): void;
  onFailed(host: string, failure: BuildFailure): void;
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
 * the derivations. When the evaluation fails, each host is evaluated alone so the failure lands on
 * the host it belongs to; when a build fails, the hosts whose outputs exist go on.
 */
export async function runBuildStage(
  stage: BuildStage,
  commands: ToolCommands,
  flake: string,
  exec: Exec,
  callbacks: BuildCallbacks,
  signal?: AbortSignal,
): Promise<BuildResult> {
  const result: BuildResult = { built: new Map(), failed: new Map(), evaluations: 0 };
  const fail = (host: string, failure: BuildFailure) => {
    result.failed.set(host, failure);
    callbacks.onFailed(host, failure);
  };

  const evaluate = async (attributes: readonly BuildAttribute[], hosts: string[]): Promise<Evaluated | BuildFailure> => {
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
  };

  for (const [index, chunk] of stage.chunks.entries()) {
    if (signal?.aborted) break;
    const hosts = hostsOf(chunk.attributes);
    callbacks.onStart(hosts, index + 1, stage.chunks.length);

    let evaluated: Evaluated = {};
    const whole = await evaluate(chunk.attributes, hosts);
    if (!('reason' in whole)) evaluated = whole;
    else if (hosts.length === 1 || signal?.aborted) for (const host of hosts) fail(host, whole as BuildFailure);
    else {
      // Attribute the failure: one evaluator per host of the failed chunk.
      for (const host of hosts) {
        if (signal?.aborted) break;
        const alone = await evaluate(chunk.attributes.filter((a) => a.host === host), [host]);
        if ('reason' in alone) fail(host, alone as BuildFailure);
        else Object.assign(evaluated, alone);
      }
    }

    const wanted = chunk.attributes.filter((a) => evaluated[a.host]?.[a.output] !== undefined && !result.failed.has(a.host));
    if (wanted.length === 0 || signal?.aborted) continue;
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
    }
  }
  return result;
}
