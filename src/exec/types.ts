// The process port: what every module except exec/ sees of running a process.
import type { Readable } from 'node:stream';

/** How to run one process. `argv[0]` is the program; nothing is ever passed through a shell. */
export interface ExecRequest {
  argv: readonly string[];
  /** Extra environment on top of the parent's. */
  env?: Readonly<Record<string, string>>;
  /** Written to the process's stdin, then stdin is closed (a stream: when it ends). Never logged. */
  stdin?: string | Buffer | Readable;
  cwd?: string;
  /** Kill (SIGTERM, then SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Kill (SIGTERM, then SIGKILL) once the process has printed nothing for this many milliseconds. */
  idleTimeoutMs?: number;
  /** Cancels the process: SIGINT, then SIGKILL after a grace period. */
  signal?: AbortSignal;
  /** Called with each complete line of stdout/stderr as it arrives (already redacted). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Secret values, as bytes, to replace with `***` in every line passed to onLine and in the result:
   * each value, its base64 and each line of a multi-line value (see exec/redact.ts). The values
   * stay the caller's to overwrite; what the process printed is overwritten once it is redacted.
   */
  secrets?: readonly Buffer[];
  /**
   * Connect the process to fleet's own stdin, stdout and stderr (an interactive `fleet ssh`);
   * nothing is captured then: `stdout`/`stderr` come back empty and `onLine` is not called.
   */
  inheritStdio?: boolean;
  /**
   * Nothing connected to stdin, stdout or stderr: for a process that leaves a daemon behind (ssh -f),
   * which must not hold fleet's pipes. Nothing is captured; `onLine` is not called.
   */
  noStdio?: boolean;
  /**
   * Return stdout only as the bytes it was (`stdoutBytes`), never decoded to a string (`stdout` is
   * then empty): for a secret, which need not be text and must stay overwritable.
   */
  binaryStdout?: boolean;
}

/** What a finished process left. Non-zero exit is data here, not an exception. */
export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when timeoutMs ran out. */
  timedOut: boolean;
  /** True when idleTimeoutMs ran out: the process made no progress. */
  stalled?: boolean;
  /** stdout as bytes, with `binaryStdout` (never redacted: for content that is the point of the call). */
  stdoutBytes?: Buffer;
  /** The process could not be started: the system's error code (`ENOENT`: no such program). Exit code 127 then. */
  notStarted?: string;
}

/** The one way to run a process; injectable for unit tests. */
export type Exec = (request: ExecRequest) => Promise<ExecResult>;
