// One benchmark run of a command: its output, exit code and wall time, killed if it outlasts its bound.
import { spawn } from 'node:child_process';

export interface ChildRun {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  /** What the command wrote on fd 3 (`fd3: true`), e.g. bash's `times`. */
  fd3: string;
  wallMs: number;
  pid: number | undefined;
}

/** Runs `argv` (no shell of its own) and waits for it; SIGKILL after `timeoutMs`. */
export async function runChild(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number, options: { fd3?: boolean } = {}): Promise<ChildRun> {
  const start = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe', ...(options.fd3 ? ['pipe' as const] : [])] });
  let output = '';
  let fd3 = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  (child.stdio[3] as NodeJS.ReadableStream | null | undefined)?.on('data', (d: Buffer) => (fd3 += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolveCode, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolveCode(c));
  });
  clearTimeout(timer);
  return { code, output, fd3, wallMs: performance.now() - start, pid: child.pid };
}
