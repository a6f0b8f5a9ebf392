// The read-only operating commands: status, check, exec, ssh, generations — selection, output, exit code.
import { UsageError } from '../errors.js';
import { execProcess, type Exec } from '../exec/index.js';
import {
  describeOutOfPlace,
  describeSshFailure,
  evaluateWantedSystems,
  newDigestKey,
  SecretReader,
  secretStates,
  listGenerations,
  parseHistoryLines,
  parseProbe,
  parseVitals,
  prefixedLines,
  runHealthChecks,
  SSH_FAILED,
  statusExitCode,
  statusVerdict,
  vitalsProblems,
  type HistoryRecord,
  type HostSecrets,
  type HostStatus,
  type ProbeFacts,
} from '../backends/index.js';
import { checkCommand, execCommand, interactiveSshCommand, oneShotSsh, statusProbeCommand, resolveArgv, userCommandArgv, type HostPlan, type Plan, type Selection } from '../plan/index.js';
import { forEachHost, prepareRunFiles, worstExitCode } from '../run/index.js';
import { interruptSignal } from './interrupt.js';
import { formatCheckTable, formatExecBlock, formatGenerations, formatStatusTable, type HostCheck } from '../ui/index.js';
import { planFromArgs } from './context.js';
import { EXIT } from './exit.js';
import { hostProgress, progress } from './host-progress.js';
import type { CommandResult } from './result.js';

/** What every operating command takes from the command line. */
export interface OperateArgs {
  file?: string;
  selection: Selection;
  parallel?: number;
  json: boolean;
}

/** The selected hosts with their pinned ssh settings, and the run files (known_hosts) written. */
export async function operateTargets(args: Pick<OperateArgs, 'file' | 'selection' | 'parallel'>): Promise<{ plan: Plan; hosts: HostPlan[] }> {
  const { plan } = await planFromArgs({ file: args.file, selection: args.selection, parallel: args.parallel, activates: false });
  prepareRunFiles(plan);
  // One-shot commands share no connection, so no ssh master outlives the command.
  const hosts = plan.hosts.map((h) => (h.ssh ? { ...h, ssh: oneShotSsh(h.ssh) } : h));
  return { plan, hosts };
}

export { interruptSignal } from './interrupt.js';


function json(value: unknown): string[] {
  return [JSON.stringify(value, null, 2)];
}

// ------------------------------------------------------------------------------------------------
// fleet status

type ProbeAnswer = { facts: ProbeFacts; secrets?: HostSecrets; record?: HistoryRecord } | { error: string; unreachable: boolean };

/**
 * Probes a host (with the history record of its live system); the facts, or why it could not be reached. With secrets, the same probe answers
 * their keyed digests (a fresh digest key), compared with the sources read here: the digest check.
 */
async function probeHost(host: HostPlan, exec: Exec, signal: AbortSignal, reader: SecretReader): Promise<ProbeAnswer> {
  const secrets = 'never' in host.secrets ? [] : host.secrets.secrets;
  const digestKey = newDigestKey();
  const command = statusProbeCommand(host.ssh, { closure: false, keyDir: '/etc/ssh', keyNames: [], secrets: secrets.map((s) => s.destination) });
  const contents =
    secrets.length > 0 ? reader.readAll(host.name, 'status', secrets, signal).then((c) => ({ contents: c }), (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) })) : undefined;
  const run = await exec({ argv: resolveArgv(command.argv, { digestKey }), timeoutMs: ((host.ssh?.connectTimeout ?? 0) + 30) * 1000, signal });
  const read = await contents;
  if (run.exitCode !== 0) {
    const why = host.ssh && run.exitCode === SSH_FAILED ? describeSshFailure(run.stderr) : run.timedOut ? 'no answer' : `probe failed (exit ${run.exitCode ?? run.signal})`;
    return { error: why, unreachable: run.exitCode === SSH_FAILED || run.timedOut };
  }
  try {
    const facts = parseProbe(run.stdout, host.name);
    const record = parseHistoryLines(prefixedLines(run.stdout, 'history')).records.filter((r) => r.system === facts.current).at(-1);
    const known = record ? { record } : {};
    if (!read) return { facts, ...known };
    if ('error' in read) return { facts, ...known, secrets: { state: 'unknown', problems: [read.error] } };
    const out = describeOutOfPlace(secrets, secretStates(secrets, facts.secrets, read.contents, digestKey));
    return { facts, ...known, secrets: out.length === 0 ? { state: 'in-place', problems: [] } : { state: 'missing', problems: out } };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), unreachable: false };
  }
}

export async function runStatus(args: OperateArgs & { plain?: boolean }, exec: Exec = execProcess): Promise<CommandResult> {
  const { plan, hosts } = await operateTargets(args);
  const { signal, dispose } = interruptSignal();
  // A live tree on a terminal only: in CI and with --plain, status prints just its table.
  const view = hostProgress(plan, hosts, args);
  const reader = new SecretReader(exec);
  try {
    const [wanted, probes] = await Promise.all([
      evaluateWantedSystems(plan.commands, plan.flake, hosts.map((h) => h.name), exec, signal),
      forEachHost<HostPlan, ProbeAnswer>(
        hosts,
        (h) => {
          if (view.live) view.start(h.name, 'status', 'probe what it runs and boots');
          return probeHost(h, exec, signal, reader);
        },
        {
          parallel: plan.parallel,
          signal,
          onSkipped: () => ({ error: 'interrupted', unreachable: false }),
          onError: (_h, error) => ({ error: error instanceof Error ? error.message : String(error), unreachable: false }),
          onDone: (host, answer) => view.finish(host, 'status', { ok: !('error' in answer), okKind: 'unchanged', reason: 'error' in answer ? answer.error : 'probed' }),
        },
      ),
    ]).finally(() => view.close());
    const statuses = hosts.map((host, i): HostStatus => {
      const probe = probes[i]!;
      const path = wanted.paths.get(host.name) ?? '';
      const base = { host: host.name, live: '', bootDefault: '', booted: '', wanted: path, detail: '' };
      if ('error' in probe) {
        return { ...base, verdict: probe.unreachable ? 'unreachable' : 'error', detail: probe.error };
      }
      const facts = probe.facts;
      const seen = { live: facts.current, bootDefault: facts.profile, booted: facts.booted, generation: facts.generation, ...(probe.record ? { liveRecord: probe.record } : {}) };
      const evalError = wanted.errors.get(host.name);
      if (!path) {
        const verdict = statusVerdict(facts, '', host.mode) === 'not-installed' ? 'not-installed' : 'error';
        return { ...base, ...seen, verdict, detail: `cannot evaluate the wanted system: ${evalError ?? 'unknown error'}` };
      }
      const verdict = statusVerdict(facts, path, host.mode);
      const detail = verdict === 'not-installed' ? 'not NixOS (no /etc/NIXOS, no /run/current-system)' : '';
      return { ...base, ...seen, verdict, detail, ...(probe.secrets && verdict !== 'not-installed' ? { secrets: probe.secrets } : {}) };
    });
    const exitCode = signal.aborted
      ? EXIT.interrupted
      : statusExitCode(statuses.map((s) => s.verdict), { ok: EXIT.ok, failure: EXIT.hostFailure, outOfSync: EXIT.outOfSync }, statuses.map((s) => s.secrets?.state));
    if (args.json) return { exitCode, stdout: json({ command: 'status', exitCode, hosts: statuses }) };
    return { exitCode, stdout: formatStatusTable(statuses) };
  } finally {
    reader.dispose();
    dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet check

async function checkHost(host: HostPlan, exec: Exec, signal: AbortSignal): Promise<HostCheck> {
  const run = await exec({ argv: checkCommand(host.ssh), timeoutMs: ((host.ssh?.connectTimeout ?? 0) + 30) * 1000, signal });
  if (run.exitCode !== 0) {
    const why = host.ssh && run.exitCode === SSH_FAILED ? `cannot reach the host: ${describeSshFailure(run.stderr)}` : `the check script failed (exit ${run.exitCode ?? run.signal})`;
    return { host: host.name, healthy: false, checks: [], problems: [why] };
  }
  const vitals = parseVitals(run.stdout);
  if (!vitals) return { host: host.name, healthy: false, checks: [], problems: ['the check script gave an incomplete answer'] };
  const problems = vitalsProblems(vitals);
  const checks = await runHealthChecks(host.ssh, host.healthChecks.map((c) => c.check), exec, { signal });
  for (const c of checks) if (!c.ok) problems.push(`health check "${c.name}" failed: ${c.detail}`);
  return { host: host.name, healthy: problems.length === 0, vitals, checks, problems };
}

export async function runCheck(args: OperateArgs & { plain?: boolean }, exec: Exec = execProcess): Promise<CommandResult> {
  const { plan, hosts } = await operateTargets(args);
  const { signal, dispose } = interruptSignal();
  // A live tree on a terminal only: in CI and with --plain, check prints just its table.
  const view = hostProgress(plan, hosts, args);
  try {
    const results = await forEachHost(
      hosts,
      (h) => {
        if (view.live) view.start(h.name, 'check', `vitals${h.healthChecks.length > 0 ? ` and ${h.healthChecks.length} health check(s)` : ''}`);
        return checkHost(h, exec, signal);
      },
      {
        parallel: plan.parallel,
        signal,
        onSkipped: (host) => ({ host, healthy: false, checks: [], problems: ['interrupted before it was checked'] }),
        onError: (h, error) => ({ host: h.name, healthy: false, checks: [], problems: [error instanceof Error ? error.message : String(error)] }),
        onDone: (host, r) => view.finish(host, 'check', { ok: r.healthy, okKind: 'unchanged', reason: r.healthy ? 'healthy' : `UNHEALTHY: ${r.problems.join('; ')}` }),
      },
    ).finally(() => view.close());
    const exitCode = signal.aborted ? EXIT.interrupted : results.every((r) => r.healthy) ? EXIT.ok : EXIT.hostFailure;
    if (args.json) return { exitCode, stdout: json({ command: 'check', exitCode, hosts: results }) };
    return { exitCode, stdout: formatCheckTable(results) };
  } finally {
    dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet exec

interface ExecHostResult {
  host: string;
  /** null when the command did not finish (killed, timed out). */
  exitCode: number | null;
  /** ssh itself failed (exit 255 with ssh's own message). */
  sshFailed: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr lines as they arrived. */
  output: string[];
}

export async function runExec(args: OperateArgs & { command: string[]; timeout?: number; plain?: boolean }, exec: Exec = execProcess): Promise<CommandResult> {
  if (args.command.length === 0) throw new UsageError('no command to run', 'put it after --, e.g. fleet exec -- uptime');
  const { plan, hosts } = await operateTargets(args);
  const { signal, dispose } = interruptSignal();
  const say = progress(args.json);
  // On a terminal each host's output runs live in the tree, and the grouped blocks follow it;
  // in CI a host's block is printed when it finishes.
  const view = hostProgress(plan, hosts, args);
  const title = args.command.join(' ');
  const statusOf = (r: ExecHostResult) => (r.sshFailed ? 'ssh failed (255)' : r.exitCode === null ? 'did not finish' : `exit ${r.exitCode}`);
  let results: ExecHostResult[];
  try {
    results = await forEachHost(
      hosts,
      async (host): Promise<ExecHostResult> => {
        const output: string[] = [];
        if (view.live) view.start(host.name, 'exec', title);
        const argv = host.ssh ? execCommand(host.ssh, args.command) : userCommandArgv(args.command);
        const run = await exec({
          argv,
          signal,
          timeoutMs: args.timeout ? args.timeout * 1000 : undefined,
          onLine: (line) => {
            output.push(line);
            if (view.live) view.line(host.name, 'exec', line);
          },
        });
        // ssh's own reason is already among the lines (its stderr).
        const sshFailed = Boolean(host.ssh) && run.exitCode === SSH_FAILED;
        return { host: host.name, exitCode: run.exitCode, sshFailed, stdout: run.stdout, stderr: run.stderr, output };
      },
      {
        parallel: plan.parallel,
        signal,
        onSkipped: (host) => ({ host, exitCode: null, sshFailed: false, stdout: '', stderr: '', output: ['not started: interrupted'] }),
        onError: (h, error) => ({ host: h.name, exitCode: null, sshFailed: false, stdout: '', stderr: '', output: [String(error)] }),
        onDone: (host, r) => {
          const status = statusOf(r);
          view.finish(host, 'exec', { ok: r.exitCode === 0, reason: status });
          if (!view.live) for (const line of formatExecBlock(host, r.output, status)) say(line);
        },
      },
    );
  } finally {
    dispose();
    await view.close();
  }
  if (view.live) for (const r of results) for (const line of ['', ...formatExecBlock(r.host, r.output, statusOf(r))]) say(line);
  const exitCode = signal.aborted ? EXIT.interrupted : worstExitCode(results.map((r) => r.exitCode));
  if (args.json) {
    return {
      exitCode,
      stdout: json({ command: 'exec', argv: args.command, exitCode, hosts: results.map(({ output: _o, ...r }) => r) }),
    };
  }
  const failed = results.filter((r) => r.exitCode !== 0);
  return { exitCode, stdout: [failed.length === 0 ? `${results.length} host(s): all exit 0` : `${failed.length} of ${results.length} host(s) exited non-zero: ${failed.map((r) => `${r.host} (${r.exitCode ?? 'none'})`).join(', ')}`] };
}

// ------------------------------------------------------------------------------------------------
// fleet ssh

/** The one host a single-host command names. */
export async function singleHost(file: string | undefined, name: string): Promise<{ plan: Plan; host: HostPlan }> {
  if (/[*?@,]/.test(name)) throw new UsageError(`name one host (got ${name})`);
  const { plan, hosts } = await operateTargets({ file, selection: { only: [name], tags: [], exclude: [] } });
  return { plan, host: hosts[0]! };
}

export async function runSsh(args: { file?: string; host: string; command: string[] }, exec: Exec = execProcess): Promise<CommandResult> {
  const { host } = await singleHost(args.file, args.host);
  if (!host.ssh) throw new UsageError(`${host.name} is the local machine: there is nothing to ssh into`);
  // Ctrl-C belongs to the remote side while ssh runs; fleet only waits for ssh to end.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    const run = await exec({ argv: interactiveSshCommand(host.ssh, args.command), inheritStdio: true });
    return { exitCode: run.exitCode ?? 255 };
  } finally {
    process.off('SIGINT', ignore);
  }
}

// ------------------------------------------------------------------------------------------------
// fleet generations

export async function runGenerations(args: { file?: string; host: string; json: boolean }, exec: Exec = execProcess): Promise<CommandResult> {
  const { host } = await singleHost(args.file, args.host);
  const list = await listGenerations(host.ssh, exec);
  if ('error' in list) {
    const lines = [`fleet: ${host.name}: ${list.error}`, ...list.tail.map((l) => `  │ ${l}`)];
    process.stderr.write(`${lines.join('\n')}\n`);
    return { exitCode: EXIT.hostFailure };
  }
  if (args.json) return { exitCode: EXIT.ok, stdout: json({ command: 'generations', host: host.name, ...list }) };
  return { exitCode: EXIT.ok, stdout: formatGenerations(host.name, list) };
}
