// The only place fleet spawns processes: argv in, {exitCode, stdout, stderr} out. Processes are
// spawned directly (node:child_process, no shell in between): zx always starts one through a shell,
// which costs a bash per call on the deploy path and adds a layer of quoting nobody needs.
import { spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { redactBytes, redactionPatterns, redactText } from './redact.js';
import type { Exec, ExecRequest, ExecResult } from './types.js';

export type { Exec, ExecRequest, ExecResult } from './types.js';
export { MIN_MASKED_BYTES, redactBytes, redactionPatterns, redactText, type Redactions } from './redact.js';

/** Milliseconds between SIGINT and SIGKILL when a run is cancelled. */
export const KILL_GRACE_MS = 3000;

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

/** Direct children of a process, from /proc (Linux); none where /proc cannot tell. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    // Any thread may have started a child (nix is threaded): each thread lists its own.
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // No /proc here (or the process is gone): only the process itself is signalled.
  }
  return children;
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Where `program` is on `path`, found once per run: see {@link lookUpProgram}. */
const programPaths = new Map<string, string | null | undefined>();

/**
 * The one PATH search of fleet, as execvp goes: the executable file `program` names on `path`, or
 * null when it certainly is not there (no such file in any directory; for a name with a `/`, not an
 * executable file), or undefined when only the child can tell (a relative entry of `path`, which
 * means the child's own working directory, comes before any match; or no PATH at all).
 */
export function lookUpProgram(program: string, path: string | undefined): string | null | undefined {
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) return executable(program) ? program : null;
  if (!path) return undefined;
  const key = `${program}\0${path}`;
  if (programPaths.has(key)) return programPaths.get(key);
  let found: string | null | undefined = null;
  for (const dir of path.split(':')) {
    if (!dir.startsWith('/')) {
      found = undefined;
      break;
    }
    const candidate = join(dir, program);
    if (executable(candidate)) {
      found = candidate;
      break;
    }
  }
  programPaths.set(key, found);
  return found;
}

/** True only when `program` is certainly not there to run (see {@link lookUpProgram}). */
export function programIsMissing(program: string, path: string | undefined): boolean {
  return lookUpProgram(program, path) === null;
}

function onPath(program: string, path: string | undefined): string {
  return program.includes('/') ? program : (lookUpProgram(program, path) ?? program);
}

/**
 * Runs one process from its argv, with no shell in between; a non-zero exit is returned, never
 * thrown. A program that cannot be started answers as a shell would: exit 127 and the reason.
 */
export const execProcess: Exec = (request: ExecRequest): Promise<ExecResult> => {
  if (request.argv.length === 0) throw new Error('execProcess: empty argv');
  trace(request);
  const [program, ...args] = request.argv as [string, ...string[]];
  return new Promise<ExecResult>((resolve) => {
    const env = { ...process.env, ...request.env };
    // The program's path is looked up once: the child then does not try each PATH entry while
    // this process (which waits for its exec) stands still; argv[0] stays the name given.
    const child = spawn(onPath(program, env.PATH), args, {
      argv0: program,
      cwd: request.cwd,
      env,
      stdio: request.inheritStdio ? 'inherit' : request.noStdio ? 'ignore' : ['pipe', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let spawnError: Error | undefined;
    const timers: NodeJS.Timeout[] = [];
    let killed = false;
    /**
     * Signals the process; `andChildren` too its own children (nix's ssh), which hold our pipes and
     * would outlive it: for a timeout. An interrupt goes to the process alone, as a terminal's Ctrl-C
     * reaches each tool: the tool decides how to stop its own.
     */
    const kill = (signal: NodeJS.Signals, andChildren = false) => {
      killed = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (andChildren && child.pid !== undefined) for (const pid of childrenOf(child.pid)) signalProcess(pid, signal);
      child.kill(signal);
    };
    if (request.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          kill('SIGTERM', true);
          timers.push(setTimeout(() => kill('SIGKILL', true), KILL_GRACE_MS));
        }, request.timeoutMs),
      );
    }
    let stalled = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const idle = request.idleTimeoutMs;
    const progressed = () => {
      if (idle === undefined || stalled) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        stalled = true;
        kill('SIGTERM', true);
        timers.push(setTimeout(() => kill('SIGKILL', true), KILL_GRACE_MS));
      }, idle);
    };
    progressed();
    const onAbort = () => {
      kill('SIGINT');
      timers.push(setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS));
    };
    if (request.signal) {
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
    }

    const captured = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const { onLine } = request;
    const redactions = redactionPatterns(request.secrets ?? []);
    const masked = redactions.patterns;
    if (!request.inheritStdio && !request.noStdio) {
      for (const stream of ['stdout', 'stderr'] as const) {
        const readable = child[stream];
        if (!readable) continue;
        const splitter = onLine ? lineSplitter((line) => onLine(redactText(line, masked), stream)) : undefined;
        readable.on('data', (chunk: Buffer) => {
          progressed();
          captured[stream].push(chunk);
          splitter?.push(chunk.toString());
        });
        readable.on('end', () => splitter?.flush());
      }
      const stdin = child.stdin;
      if (stdin) {
        // A target that closes its end early (ssh failed) must not crash fleet with EPIPE.
        stdin.on('error', () => undefined);
        const input = request.stdin;
        if (input === undefined) stdin.end();
        else if (input instanceof Readable) input.pipe(stdin);
        else stdin.end(input);
      }
    }

    child.on('exit', () => {
      // A process fleet killed is done when it exits: a grandchild that escaped the signal must not
      // keep the run waiting on the pipes it inherited.
      if (!killed) return;
      child.stdout?.destroy();
      child.stderr?.destroy();
    });
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      for (const timer of timers) clearTimeout(timer);
      clearTimeout(idleTimer);
      request.signal?.removeEventListener('abort', onAbort);
      // A secret's bytes stay bytes (binaryStdout); other output is decoded once it is redacted.
      const stdoutBytes = request.binaryStdout ? Buffer.concat(captured.stdout) : undefined;
      const stdout = stdoutBytes ? '' : redactBytes(Buffer.concat(captured.stdout), masked).toString();
      let stderr = redactBytes(Buffer.concat(captured.stderr), masked).toString();
      if (masked.length > 0 || stdoutBytes) {
        // What the process printed may hold a secret (a tool echoing it): overwritten, as the copies are.
        for (const chunk of [...captured.stdout, ...captured.stderr]) chunk.fill(0);
        redactions.dispose();
      }
      if (spawnError && child.pid === undefined) {
        stderr += `${program}: ${spawnError.message}\n`;
        resolve({ exitCode: 127, signal: null, stdout, stderr, timedOut, notStarted: (spawnError as NodeJS.ErrnoException).code ?? 'unknown' });
        return;
      }
      resolve({ exitCode: code, signal, stdout, stderr, timedOut, ...(stalled ? { stalled } : {}), ...(stdoutBytes ? { stdoutBytes } : {}) });
    });
  });
};

/** Last `count` non-empty lines of a process's output, for error reports. */
export function tailLines(result: Pick<ExecResult, 'stdout' | 'stderr'>, count = 20): string[] {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim().length > 0);
  return lines.slice(-count);
}
