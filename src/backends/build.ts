// The fleet-wide build: one `nix build --json` per chunk of hosts, failures pinned on their hosts.
import { tailLines, type Exec } from '../exec/index.js';
import { nixBuildCommand, resolveArgv, type BuildChunk, type BuildStage } from '../plan/index.js';
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
  /** How many `nix build` invocations (evaluators) ran. */
  evaluations: number;
}

export interface BuildCallbacks {
  onStart(hosts: string[], chunk: number, chunks: number): void;
  onLine(hosts: string[], line: string): void;
  onBuilt(host: string, output: 'toplevel' | 'diskoScript', storePath: string): void;
  onFailed(host: string, failure: BuildFailure): void;
}

interface NixBuildJson {
  drvPath?: string;
  outputs?: Record<string, string>;
}

function hostsOf(chunk: BuildChunk): string[] {
  return [...new Set(chunk.attributes.map((a) => a.host))];
}

async function runChunk(
  chunk: BuildChunk,
  exec: Exec,
  signal: AbortSignal | undefined,
  onLine: (line: string) => void,
): Promise<{ ok: true; paths: string[] } | { ok: false; failure: BuildFailure }> {
  const result = await exec({
    argv: resolveArgv(chunk.command.argv, {}),
    env: chunk.command.env,
    signal,
    onLine: (line, stream) => {
      if (stream === 'stderr') onLine(line);
    },
  });
  if (result.exitCode !== 0) {
    const tail = tailLines({ stdout: '', stderr: result.stderr });
    const error = tail.filter((l) => /error/i.test(l)).at(-1) ?? tail.at(-1) ?? 'nix build failed';
    return { ok: false, failure: { reason: error.trim(), tail } };
  }
  let parsed: NixBuildJson[];
  try {
    parsed = JSON.parse(result.stdout) as NixBuildJson[];
  } catch {
    return { ok: false, failure: { reason: 'nix build printed no JSON result', tail: tailLines(result) } };
  }
  const paths = parsed.map((entry) => entry.outputs?.out ?? '');
  if (paths.length !== chunk.attributes.length || paths.some((p) => !p.startsWith('/'))) {
    return { ok: false, failure: { reason: 'nix build returned an unexpected result', tail: tailLines(result) } };
  }
  return { ok: true, paths };
}

/**
 * Builds every chunk in one evaluator each. When a chunk fails, its hosts are built one at a
 * time so the failure lands on the host(s) it belongs to and the others go on.
 */
export async function runBuildStage(
  stage: BuildStage,
  commands: ToolCommands,
  exec: Exec,
  callbacks: BuildCallbacks,
  signal?: AbortSignal,
): Promise<BuildResult> {
  const result: BuildResult = { built: new Map(), failed: new Map(), evaluations: 0 };
  const record = (chunk: BuildChunk, paths: string[]) => {
    chunk.attributes.forEach((attribute, i) => {
      const path = paths[i] as string;
      const entry = result.built.get(attribute.host) ?? { toplevel: '' };
      if (attribute.output === 'toplevel') entry.toplevel = path;
      else entry.diskoScript = path;
      result.built.set(attribute.host, entry);
      callbacks.onBuilt(attribute.host, attribute.output, path);
    });
  };

  for (const [index, chunk] of stage.chunks.entries()) {
    if (signal?.aborted) break;
    const hosts = hostsOf(chunk);
    callbacks.onStart(hosts, index + 1, stage.chunks.length);
    result.evaluations++;
    const outcome = await runChunk(chunk, exec, signal, (line) => callbacks.onLine(hosts, line));
    if (outcome.ok) {
      record(chunk, outcome.paths);
      continue;
    }
    if (hosts.length === 1 || signal?.aborted) {
      for (const host of hosts) {
        result.failed.set(host, outcome.failure);
        callbacks.onFailed(host, outcome.failure);
      }
      continue;
    }
    // Attribute the failure: one evaluator per host of the failed chunk.
    for (const host of hosts) {
      if (signal?.aborted) break;
      const attributes = chunk.attributes.filter((a) => a.host === host);
      const single: BuildChunk = {
        attributes,
        buildHost: chunk.buildHost,
        buildHostKeys: chunk.buildHostKeys,
        command: { ...nixBuildCommand(commands, attributes, chunk.buildHost), env: chunk.command.env },
      };
      result.evaluations++;
      const retry = await runChunk(single, exec, signal, (line) => callbacks.onLine([host], line));
      if (retry.ok) record(single, retry.paths);
      else {
        result.failed.set(host, retry.failure);
        callbacks.onFailed(host, retry.failure);
      }
    }
  }
  return result;
}
