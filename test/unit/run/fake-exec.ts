// A fake process port for executor tests: it recognises each command a plan holds by its argv
// (never by `purpose`), answers as the real tool or remote script would, and records every call.
import type { Readable } from 'node:stream';
import type { Exec, ExecRequest, ExecResult } from '../../../src/exec/index.js';

/** What a recorded command is, read from its argv. */
export type CommandKind =
  | 'eval'
  | 'build'
  | 'copy'
  | 'lock'
  | 'probe'
  | 'arm'
  | 'activate'
  /** The bash flavour's live activation: arms the watchdog, then activates, in one call. */
  | 'armed-activate'
  | 'confirm'
  | 'push-keys'
  | 'push-secrets'
  | 'install'
  /** The diff script: both closures listed on the target. */
  | 'diff'
  | 'control'
  /** The shared master opened while the build runs (ssh -f -N). */
  | 'open'
  /** The append to the host's deploy history. */
  | 'history'
  /** `ssh -G`: ssh's effective configuration, read for the fresh connection's key exchange. */
  | 'config'
  /** The operating commands' remote scripts (status probe, vitals, generations, rollback, reboot). */
  | 'status'
  | 'check'
  | 'generations'
  | 'rollback'
  | 'reboot'
  /** A manifest health check (`timeout <seconds> <command>` on the target). */
  | 'health'
  /** cache.push: nix copy to the cache (any store URL but a host's ssh://), and its signing. */
  | 'cache-push'
  | 'sign'
  /** The NAR sizes of what a copy sent (nix path-info --json). */
  | 'path-info'
  | 'unknown';

export interface Call {
  kind: CommandKind;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** ssh with connection sharing off: a brand-new connection. */
  fresh: boolean;
  /** What a held lock session was asked to append to the history (`!<file>`, then the record). */
  appended?: { file: string; record: string }[];
}

/** An answer: what the process prints and how it exits. */
export interface Reply {
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  /** Killed for its timeout (timeoutMs), or for printing nothing too long (idleTimeoutMs). */
  timedOut?: boolean;
  stalled?: boolean;
}

export type Responder = (request: ExecRequest, call: Call, calls: readonly Call[]) => Reply | Promise<Reply>;

/** The remote command line of an ssh argv: the words after `-- <destination>`. */
function remoteLine(argv: readonly string[]): string {
  const end = argv.indexOf('--');
  return end < 0 ? '' : argv.slice(end + 2).join(' ');
}

/** The remote script's `$0` name, the word after its body (`sh -c '<script>' fleet-lock …`). */
function scriptName(line: string, name: string): boolean {
  return new RegExp(`(^|[\\s'])${name}(\\s|$)`).test(line);
}

export function classify(argv: readonly string[]): CommandKind {
  const [program] = argv;
  if (program === 'nix') {
    if (argv.includes('eval')) return 'eval';
    if (argv.includes('build')) return 'build';
    if (argv.includes('sign')) return 'sign';
    if (argv.includes('path-info')) return 'path-info';
    if (argv.includes('copy')) return argv[argv.indexOf('--to') + 1]?.startsWith('ssh://') ? 'copy' : 'cache-push';
    return 'unknown';
  }
  if (program === 'nixos-rebuild') return 'activate';
  if (program === 'nixos-anywhere') return 'install';
  if (program !== 'ssh') return 'unknown';
  if (argv.includes('-O')) return 'control';
  if (argv[1] === '-G' || argv.includes('-G')) return 'config';
  if (argv.includes('-N')) return 'open';
  const line = remoteLine(argv);
  if (scriptName(line, 'fleet-lock')) return 'lock';
  if (scriptName(line, 'fleet-probe')) return 'probe';
  // Before fleet-arm: this one's line holds the arming script, run as `sh -c "$1" fleet-arm`.
  if (scriptName(line, 'fleet-armed-activate')) return 'armed-activate';
  if (scriptName(line, 'fleet-arm')) return 'arm';
  if (scriptName(line, 'fleet-activate')) return 'activate';
  if (scriptName(line, 'fleet-confirm')) return 'confirm';
  if (scriptName(line, 'fleet-push-keys')) return 'push-keys';
  if (scriptName(line, 'fleet-history')) return 'history';
  if (scriptName(line, 'fleet-push-secrets')) return 'push-secrets';
  if (scriptName(line, 'fleet-diff')) return 'diff';
  if (scriptName(line, 'fleet-status')) return 'status';
  if (scriptName(line, 'fleet-check')) return 'check';
  if (scriptName(line, 'fleet-generations')) return 'generations';
  if (scriptName(line, 'fleet-rollback')) return 'rollback';
  if (scriptName(line, 'fleet-reboot')) return 'reboot';
  if (line.startsWith('timeout ')) return 'health';
  return 'unknown';
}

export interface Facts {
  nixos?: boolean;
  current?: string;
  profile?: string;
  generation?: number;
  closure?: 'present' | 'absent';
  /** The probe's `secret:<i>=` answers, in order. */
  secrets?: string[];
}

/** The probe's answer (see PROBE_FUNCTION in src/plan/remote-scripts.ts). */
export function probeAnswer(facts: Facts): string {
  const lines = [
    `nixos=${facts.nixos === false ? 'no' : 'yes'}`,
    `current=${facts.current ?? ''}`,
    `profile=${facts.profile ?? ''}`,
    `generation=${facts.generation ?? ''}`,
    'systemd=no',
    'bootId=x',
    ...(facts.closure ? [`closure=${facts.closure}`] : []),
    ...(facts.secrets ?? []).map((answer, i) => `secret:${i}=${answer}`),
    'end=ok',
  ];
  return `${lines.join('\n')}\n`;
}

/** ssh's own failure to connect (exit 255). */
export const CONNECTION_REFUSED: Reply = { exitCode: 255, stderr: 'ssh: connect to host web-1.example.org port 22: Connection refused\n' };

export interface FakeOptions {
  /** The built outputs per host: what `nix eval` answers (each `out` must exist on disk). */
  outputs: Record<string, { toplevel: string; diskoScript?: string }>;
  /** Answers by kind; a kind without one exits 0 with no output (lock and probe: see defaults). */
  respond?: Partial<Record<CommandKind, Responder>>;
  /** What a held lock session answers to `?<store path>` on its stdin (default: absent). */
  closureOnTarget?: (storePath: string) => 'present' | 'absent';
  /** What a held lock session answers to a history append: null when written, else why not (default: written). */
  historyOnTarget?: (file: string, record: string) => string | null;
}

export interface FakeExec {
  exec: Exec;
  calls: Call[];
  kinds(): CommandKind[];
  of(kind: CommandKind): Call[];
}

/** Waits for a held session's stdin to end; `onLine` gets each line written to it meanwhile. */
function streamEnded(stdin: Readable, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    if (stdin.readableEnded) return resolve();
    let text = '';
    stdin.on('data', (chunk: Buffer | string) => {
      // Heartbeat dots come between lines, as the lock script reads them: byte by byte.
      text += String(chunk).replace(/^\.+/, '');
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
        onLine?.(text.slice(0, end));
        text = text.slice(end + 1).replace(/^\.+/, '');
      }
    });
    stdin.on('end', () => resolve());
  });
}

export function fakeExec(options: FakeOptions): FakeExec {
  const calls: Call[] = [];
  const defaults: Partial<Record<CommandKind, Responder>> = {
    eval: async () => {
      // Evaluating takes a while (a real one: seconds): what starts beside it, as the early lock
      // sessions after their `ssh -G`, starts before it answers.
      await new Promise((resolve) => setImmediate(resolve));
      // As fleet's --apply function answers: a list of { host, v } (see evalApplyFunction).
      const answer = Object.entries(options.outputs).map(([host, outputs]) => {
        const v: Record<string, { drv: string; out: string }> = { toplevel: { drv: `/nix/store/aaaa-${host}.drv`, out: outputs.toplevel } };
        if (outputs.diskoScript) v.diskoScript = { drv: `/nix/store/bbbb-${host}-disko.drv`, out: outputs.diskoScript };
        return { host, v };
      });
      return { stdout: JSON.stringify(answer) };
    },
    // A lock session takes the lock at once; the target runs an older system.
    lock: () => ({ stdout: `locked\n${probeAnswer({ current: '/nix/store/old', profile: '/nix/store/old', generation: 3 })}` }),
    arm: () => ({ stdout: 'armed=3\nprevious=/nix/store/old\n' }),
    'armed-activate': () => ({ stdout: 'armed=3\nprevious=/nix/store/old\n' }),
    history: () => ({ stdout: 'recorded\n' }),
  };

  const exec: Exec = async (request: ExecRequest): Promise<ExecResult> => {
    const call: Call = {
      kind: classify(request.argv),
      argv: [...request.argv],
      ...(request.env ? { env: request.env } : {}),
      fresh: request.argv[0] === 'ssh' && request.argv.includes('ControlMaster=no') && !request.argv.includes('-G'),
    };
    calls.push(call);
    const responder = options.respond?.[call.kind] ?? defaults[call.kind];
    const reply: Reply = responder ? await responder(request, call, calls) : {};
    const stdout = reply.stdout ?? '';
    const stderr = reply.stderr ?? '';
    for (const line of stdout.split('\n').filter(Boolean)) request.onLine?.(line, 'stdout');
    for (const line of stderr.split('\n').filter(Boolean)) request.onLine?.(line, 'stderr');
    const exitCode = reply.exitCode === undefined ? 0 : reply.exitCode;
    // A held session (the lock) lives until fleet closes its stdin.
    if (exitCode === 0 && request.stdin && typeof request.stdin === 'object' && 'on' in request.stdin) {
      // The lock script answers closure questions (`?<path>`) and appends history records (`!<file>`,
      // then the record) while it holds the lock.
      let historyFile: string | undefined;
      const ask =
        call.kind === 'lock'
          ? (line: string) => {
              if (historyFile !== undefined) {
                (call.appended ??= []).push({ file: historyFile, record: line });
                const failure = options.historyOnTarget?.(historyFile, line) ?? null;
                historyFile = undefined;
                request.onLine?.(failure === null ? 'history=recorded' : `history=failed ${failure}`, 'stdout');
              } else if (line.startsWith('!')) historyFile = line.slice(1);
              else if (line.startsWith('?')) request.onLine?.(`closure=${options.closureOnTarget?.(line.slice(1)) ?? 'absent'}`, 'stdout');
            }
          : undefined;
      await streamEnded(request.stdin as Readable, ask);
    }
    const killed = reply.timedOut || reply.stalled ? 'SIGTERM' : null;
    return { exitCode, signal: killed, stdout, stderr, timedOut: reply.timedOut ?? false, ...(reply.stalled ? { stalled: true } : {}) };
  };

  return {
    exec,
    calls,
    // `ssh -G` reads this machine's ssh configuration; it touches no host, so sequences leave it out.
    kinds: () => calls.filter((c) => c.kind !== 'config').map((c) => c.kind),
    of: (kind) => calls.filter((c) => c.kind === kind),
  };
}
