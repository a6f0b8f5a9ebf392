// The only place fleet spawns processes: argv in, {exitCode, stdout, stderr} out, through zx.
import { appendFileSync } from 'node:fs';
import { $, type ProcessPromise } from 'zx';
import type { Exec, ExecRequest, ExecResult } from './types.js';

export type { Exec, ExecRequest, ExecResult } from './types.js';

/** Milliseconds between SIGINT and SIGKILL when a run is cancelled. */
export const KILL_GRACE_MS = 3000;

/** Replace every secret with `***` (longest first, so overlapping secrets redact fully). */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets || secrets.length === 0) return text;
  let out = text;
  for (const secret of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***');
  }
  return out;
}

/** Splits a byte stream into complete lines and hands each to `onLine`. */
function lineSplitter(emit: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk;
      const parts = pending.split(/\r?\n|\r/);
      pending = parts.pop() ?? '';
      for (const part of parts) emit(part);
    },
    flush() {
      if (pending.length > 0) emit(pending);
      pending = '';
    },
  };
}

/**
 * With FLEET_TRACE_EXEC=<file>, every process fleet starts is appended there as one JSON line
 * (argv, the extra environment, cwd; never stdin): lets a test prove that no secret reaches an
 * argv or an environment.
 */
function trace(request: ExecRequest): void {
  const file = process.env.FLEET_TRACE_EXEC;
  if (!file) return;
  const entry = { time: new Date().toISOString(), argv: request.argv, env: request.env ?? {}, cwd: request.cwd ?? null };
  try {
    appendFileSync(file, `${JSON.stringify(entry)}\n`);
  } catch {
    // Tracing is a diagnostic: it never changes what runs.
  }
}

/**
 * Runs one process. zx quotes every argv word with its own tested quoting function, so no
 * caller ever builds a shell line; a non-zero exit is returned, never thrown.
 */
export const execProcess: Exec = async (request: ExecRequest): Promise<ExecResult> => {
  if (request.argv.length === 0) throw new Error('execProcess: empty argv');
  trace(request);
  const shell = $({
    nothrow: true,
    quiet: true,
    verbose: false,
    preferLocal: false,
    cwd: request.cwd,
    env: { ...process.env, ...request.env },
    input: request.inheritStdio ? undefined : request.stdin,
    ...(request.inheritStdio ? { stdio: 'inherit' as const } : {}),
  });
  const child: ProcessPromise = shell`${[...request.argv]}`;

  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  const kill = (signal: NodeJS.Signals) => {
    child.kill(signal).catch(() => undefined);
  };
  if (request.timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        kill('SIGTERM');
        timers.push(setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS));
      }, request.timeoutMs),
    );
  }
  const onAbort = () => {
    kill('SIGINT');
    timers.push(setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS));
  };
  if (request.signal) {
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
  }

  const { onLine, secrets } = request;
  if (onLine && !request.inheritStdio) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = lineSplitter((line) => onLine(redact(line, secrets), stream));
      const readable = child[stream];
      readable.on('data', (chunk: Buffer | string) => splitter.push(chunk.toString()));
      readable.on('end', () => splitter.flush());
    }
  }

  try {
    const output = await child;
    return {
      exitCode: output.exitCode,
      signal: output.signal,
      stdout: redact(output.stdout, secrets),
      stderr: redact(output.stderr, secrets),
      timedOut,
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
};

/** Last `count` non-empty lines of a process's output, for error reports. */
export function tailLines(result: Pick<ExecResult, 'stdout' | 'stderr'>, count = 20): string[] {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim().length > 0);
  return lines.slice(-count);
}
