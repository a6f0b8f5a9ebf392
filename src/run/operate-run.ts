// The one runner of the operating commands (status, check, exec, generations, history, ssh here;
// rollback, reboot and install's host work in operate-change.ts): every host's verbs built the same way (one-shot ssh, one set
// of defaults), run through forEachHost with one interrupt policy, progress as events, and typed
// per-host results. Arguments, formatting and exit codes are the cli's.
import { HostError } from '../errors.js';
import { execProcess, type Exec } from '../exec/index.js';
import {
  describeOutOfPlace,
  evaluateWantedSystems,
  HostUnreachable,
  OperatingVerbs,
  SecretReader,
  statusVerdict,
  type CommandRun,
  type GenerationList,
  type HealthCheckResult,
  type HostHistory,
  type HostSecrets,
  type HostStatus,
  type HostVitals,
  type StatusProbe,
  type WantedSystems,
} from '../backends/index.js';
import { fleetCheckPlan, oneShotSsh, type HostPlan, type Plan } from '../plan/index.js';
import type { HostOutcome, OperatePhase } from './events.js';
import { forEachHost } from './operate.js';
import { prepareRunFiles } from './run-plan.js';

/** The defaults of the operating commands, in one place (the cli's flags override them). */
export const OPERATE_DEFAULTS = {
  /** fleet rollback: seconds to wait for another run's deploy lock on a host. */
  lockWaitSeconds: 30,
  /** fleet reboot: seconds a host has to come back with a new boot id. */
  rebootWaitSeconds: 300,
} as const;

/** Why a host that never started ended so (the first Ctrl-C came before its turn). */
export const NOT_STARTED = 'interrupted before it started';

/**
 * Per-host progress of an operating command; the cli passes a view (live tree, plain lines, or
 * nothing), tests a recorder. `done` comes once per host, started or not, with its typed result.
 */
export interface OperateEvents<T> {
  start(host: string, step: OperatePhase, title: string): void;
  line(host: string, step: OperatePhase, text: string): void;
  done(host: string, step: OperatePhase, outcome: HostOutcome, result: T): void;
}

export interface OperateDeps<T = unknown> {
  /** The process port (default: real processes). */
  exec?: Exec;
  /** Aborted on the first Ctrl-C: no host starts any more, running commands get SIGINT. */
  signal: AbortSignal;
  events?: Partial<OperateEvents<T>>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The results of one operating command, in host order. */
export interface OperateResult<T> {
  hosts: T[];
  /** The run was interrupted (Ctrl-C): hosts not started ended as such. */
  interrupted: boolean;
}

/** What a host's work gets: its verbs, and `start` to say its step began (the live view's line). */
interface HostTurn {
  verbs: OperatingVerbs;
  start(title: string): void;
}

/** One operating command's work on each host, and how each result reads as an outcome. */
interface HostWork<T> {
  step: OperatePhase;
  run(host: HostPlan, turn: HostTurn): Promise<T>;
  /** The result of a host that never started (interrupted). */
  notStarted(host: HostPlan): T;
  /** The result of a host whose work threw (a verb's HostError, or anything else). */
  failed(host: HostPlan, error: unknown): T;
  /** The outcome the progress view shows; `base` holds the host, its mode, step and times. */
  outcome(result: T, base: HostOutcome): HostOutcome;
}

export const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The hosts as every operating command reaches them: one-shot ssh (no master outlives the command). */
export function oneShot(host: HostPlan): HostPlan {
  return host.ssh ? { ...host, ssh: oneShotSsh(host.ssh) } : host;
}

export function verbsOf<T>(host: HostPlan, step: OperatePhase, deps: OperateDeps<T>): OperatingVerbs {
  return new OperatingVerbs(host, {
    exec: deps.exec ?? execProcess,
    signal: deps.signal,
    now: deps.now ?? Date.now,
    sleep: deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    onLine: (_step, line) => deps.events?.line?.(host.name, step, line),
  });
}

/** The runner: the work on every selected host, `plan.parallel` at once, one interrupt policy. */
export async function operate<T>(plan: Plan, work: HostWork<T>, deps: OperateDeps<T>): Promise<OperateResult<T>> {
  prepareRunFiles(plan);
  const now = deps.now ?? Date.now;
  const hosts = plan.hosts.map(oneShot);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const startedAt = new Map<string, number>();
  const results = await forEachHost<HostPlan, T>(
    hosts,
    (host) => {
      startedAt.set(host.name, now());
      const turn: HostTurn = { verbs: verbsOf(host, work.step, deps), start: (title) => deps.events?.start?.(host.name, work.step, title) };
      return work.run(host, turn);
    },
    {
      parallel: plan.parallel,
      signal: deps.signal,
      onSkipped: (name) => work.notStarted(byName.get(name)!),
      onError: (host, error) => work.failed(host, error),
      onDone: (name, result) => {
        const host = byName.get(name)!;
        const at = now();
        const base: HostOutcome = { host: name, kind: 'skipped', mode: host.mode, step: work.step, reason: NOT_STARTED, tail: [], startedAt: startedAt.get(name) ?? at, finishedAt: at, steps: [] };
        // A host that never started ends the same for every command: skipped, interrupted.
        deps.events?.done?.(name, work.step, startedAt.has(name) ? work.outcome(result, base) : base, result);
      },
    },
  );
  return { hosts: results, interrupted: deps.signal.aborted };
}

/** An outcome from ok-or-not: ok ends `okKind`, else failed. */
export function ended(base: HostOutcome, ok: boolean, okKind: 'changed' | 'unchanged', reason: string, summary = reason): HostOutcome {
  return { ...base, kind: ok ? okKind : 'failed', reason, ...(ok ? { summary } : {}) };
}

// ------------------------------------------------------------------------------------------------
// fleet status

/** A host's status probe: what it runs and boots, its secrets, or why it could not be probed. */
export type StatusAnswer = (StatusProbe & { secrets?: HostSecrets }) | { error: string; unreachable: boolean };

/**
 * The wanted system of every host: from the evaluation cache where it answered (the plan's
 * `build.cached`), else evaluated here (and kept in the cache).
 */
async function wantedSystems(plan: Plan, exec: Exec, signal?: AbortSignal): Promise<WantedSystems> {
  // A specialisation's own system is not in the evaluation cache: such a host is evaluated.
  const specialisations = new Map(plan.hosts.flatMap((h) => (h.specialisation ? [[h.name, h.specialisation] as const] : [])));
  const cached = new Map((plan.build.cached ?? []).flatMap((c) => (c.outputs.toplevel && !specialisations.has(c.host) ? [[c.host, c.outputs.toplevel.out] as const] : [])));
  const evaluate = plan.hosts.map((h) => h.name).filter((name) => !cached.has(name));
  const evaluated = await evaluateWantedSystems(plan.commands, plan.build.evalFlake ?? plan.flake, evaluate, exec, signal, { impure: plan.build.impure, cache: plan.build.evalCache }, specialisations);
  for (const [host, path] of cached) evaluated.paths.set(host, path);
  return evaluated;
}

/**
 * Every selected host's status: the wanted systems evaluated here while each host is probed (with
 * the history record of its live system and, with secrets, the digest check against the sources).
 */
export async function statusOfHosts(plan: Plan, deps: OperateDeps<StatusAnswer>): Promise<OperateResult<HostStatus>> {
  const exec = deps.exec ?? execProcess;
  const reader = new SecretReader(exec);
  try {
    const [wanted, probes] = await Promise.all([
      wantedSystems(plan, exec, deps.signal),
      operate<StatusAnswer>(
        plan,
        {
          step: 'status',
          async run(host, { verbs, start }) {
            start('probe what it runs and boots');
            const secrets = 'never' in host.secrets ? [] : host.secrets.secrets;
            const contents =
              secrets.length > 0
                ? reader.readAll(host.name, 'status', secrets, deps.signal).then((c) => ({ contents: c }), (e: unknown) => ({ error: message(e) }))
                : undefined;
            const probe = await verbs.statusProbe(secrets.map((s) => s.destination));
            const read = await contents;
            if (!read) return probe;
            if ('error' in read) return { ...probe, secrets: { state: 'unknown', problems: [read.error] } };
            const out = describeOutOfPlace(secrets, verbs.secretStates(secrets, probe.facts.secrets, read.contents));
            return { ...probe, secrets: out.length === 0 ? { state: 'in-place', problems: [] } : { state: 'missing', problems: out } };
          },
          notStarted: () => ({ error: 'interrupted', unreachable: false }),
          failed: (_host, error) => ({ error: message(error), unreachable: error instanceof HostUnreachable }),
          outcome: (answer, base) => ended(base, !('error' in answer), 'unchanged', 'error' in answer ? answer.error : 'probed'),
        },
        deps,
      ),
    ]);
    const statuses = plan.hosts.map((host, i): HostStatus => {
      const probe = probes.hosts[i]!;
      const path = wanted.paths.get(host.name) ?? '';
      const base = { host: host.name, live: '', bootDefault: '', booted: '', wanted: path, detail: '' };
      if ('error' in probe) return { ...base, verdict: probe.unreachable ? 'unreachable' : 'error', detail: probe.error };
      const facts = probe.facts;
      const seen = { live: facts.current, bootDefault: facts.profile, booted: facts.booted, generation: facts.generation, ...(probe.record ? { liveRecord: probe.record } : {}) };
      if (!path) {
        const verdict = statusVerdict(facts, '', host.mode) === 'not-installed' ? 'not-installed' : 'error';
        return { ...base, ...seen, verdict, detail: `cannot evaluate the wanted system: ${wanted.errors.get(host.name) ?? 'unknown error'}` };
      }
      const verdict = statusVerdict(facts, path, host.mode, wanted.live.get(host.name));
      const detail = verdict === 'not-installed' ? 'not NixOS (no /etc/NIXOS, no /run/current-system)' : '';
      return { ...base, ...seen, verdict, detail, ...(probe.secrets && verdict !== 'not-installed' ? { secrets: probe.secrets } : {}) };
    });
    // Interrupted while the wanted systems were still being evaluated counts too.
    return { hosts: statuses, interrupted: deps.signal.aborted };
  } finally {
    reader.dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet check

/** One host's result in `fleet check`. */
export interface CheckResult {
  host: string;
  healthy: boolean;
  vitals?: HostVitals;
  checks: HealthCheckResult[];
  /** Everything that makes it unhealthy, one sentence each. */
  problems: string[];
}

/** Every selected host's vitals, then its manifest health checks. */
export function checkHosts(plan: Plan, deps: OperateDeps<CheckResult>): Promise<OperateResult<CheckResult>> {
  return operate<CheckResult>(
    plan,
    {
      step: 'check',
      async run(host, { verbs, start }) {
        // The commands `fleet plan --for check` shows.
        const { check } = fleetCheckPlan(host);
        start(`vitals${check.healthChecks.length > 0 ? ` and ${check.healthChecks.length} health check(s)` : ''}`);
        const { vitals, problems } = await verbs.vitals(check.vitals);
        const checks = await verbs.healthChecks(check.healthChecks);
        for (const c of checks) if (!c.ok) problems.push(`health check "${c.name}" failed: ${c.detail}`);
        return { host: host.name, healthy: problems.length === 0, vitals, checks, problems };
      },
      notStarted: (host) => ({ host: host.name, healthy: false, checks: [], problems: ['interrupted before it was checked'] }),
      failed: (host, error) => ({ host: host.name, healthy: false, checks: [], problems: [message(error)] }),
      outcome: (r, base) => ended(base, r.healthy, 'unchanged', r.healthy ? 'healthy' : `UNHEALTHY: ${r.problems.join('; ')}`),
    },
    deps,
  );
}

// ------------------------------------------------------------------------------------------------
// fleet exec

/** One host's run of the user's command. */
export interface ExecHostResult extends CommandRun {
  host: string;
}

/** How a host's command ended, in a few words (`exit 0`, `ssh failed (255)`, `did not finish`). */
export function execStatus(r: Pick<ExecHostResult, 'exitCode' | 'sshFailed'>): string {
  return r.sshFailed ? 'ssh failed (255)' : r.exitCode === null ? 'did not finish' : `exit ${r.exitCode}`;
}

/** The user's command on every selected host; `timeoutSeconds` kills a host's command. */
export function execOnHosts(plan: Plan, command: readonly string[], timeoutSeconds: number | undefined, deps: OperateDeps<ExecHostResult>): Promise<OperateResult<ExecHostResult>> {
  const none = (host: string, line: string): ExecHostResult => ({ host, exitCode: null, sshFailed: false, stdout: '', stderr: '', output: [line] });
  return operate<ExecHostResult>(
    plan,
    {
      step: 'exec',
      async run(host, { verbs, start }) {
        start(command.join(' '));
        return { host: host.name, ...(await verbs.runCommand(command, timeoutSeconds)) };
      },
      notStarted: (host) => none(host.name, 'not started: interrupted'),
      failed: (host, error) => none(host.name, String(error)),
      outcome: (r, base) => ended(base, r.exitCode === 0, 'changed', execStatus(r)),
    },
    deps,
  );
}

// ------------------------------------------------------------------------------------------------
// fleet generations, fleet history, fleet ssh (one host each)

export type GenerationsAnswer = { list: GenerationList } | { error: string; tail: string[] };
export type HistoryAnswer = { history: HostHistory } | { error: string; tail: string[] };
type Unread = { error: string; tail: string[] };

/**
 * What one selected host answers to a verb that reads it (as status reads what it runs and
 * boots), under `key`; or why it could not be read.
 */
async function readOneHost<K extends string, V>(plan: Plan, deps: OperateDeps<Record<K, V> | Unread>, key: K, read: (verbs: OperatingVerbs) => Promise<V>, done: string): Promise<Record<K, V> | Unread> {
  type Answer = Record<K, V> | Unread;
  const has = (r: Answer): r is Record<K, V> => key in r;
  const result = await operate<Answer>(
    plan,
    {
      step: 'status',
      run: async (_host, { verbs }) => ({ [key]: await read(verbs) }) as Record<K, V>,
      notStarted: () => ({ error: NOT_STARTED, tail: [] }),
      failed: (_host, error) => ({ error: message(error), tail: error instanceof HostError ? error.tail : [] }),
      outcome: (r, base) => ended(base, has(r), 'unchanged', has(r) ? done : (r as Unread).error),
    },
    deps,
  );
  return result.hosts[0] ?? { error: 'no host selected', tail: [] };
}

/** The one selected host's system generations, or why they could not be listed. */
export function generationsOf(plan: Plan, deps: OperateDeps<GenerationsAnswer>): Promise<GenerationsAnswer> {
  return readOneHost(plan, deps, 'list', (verbs) => verbs.generations(), 'listed');
}

/** The one selected host's deploy history, or why it could not be read. */
export function historyOf(plan: Plan, deps: OperateDeps<HistoryAnswer>): Promise<HistoryAnswer> {
  return readOneHost(plan, deps, 'history', (verbs) => verbs.history(), 'read');
}

/** `fleet ssh`: a shell or one command on the host, on the user's terminal; ssh's exit code. */
export function openShell(plan: Plan, host: HostPlan, command: readonly string[], deps: OperateDeps): Promise<number> {
  prepareRunFiles(plan);
  return verbsOf(oneShot(host), 'exec', deps).interactive(command);
}
