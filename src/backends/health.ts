// fleet check: a host's load, uptime, failed units, free space, and its manifest health checks.
import { HealthCheckFailed } from '../errors.js';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import type { HealthCheck } from '../manifest/inventory.js';
import { resolveArgv, type PlannedHealthCheck } from '../plan/index.js';
import type { SshSettings } from '../ssh/index.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';

/** Raised by `healthCheck` (errors.ts); re-exported where backends' callers look for it. */
export { HealthCheckFailed } from '../errors.js';

/** Free and total space of one mount, in KiB. */
export interface DiskSpace {
  mount: string;
  freeKiB: number;
  sizeKiB: number;
}

/** What CHECK_SCRIPT reported. */
export interface HostVitals {
  /** 1, 5 and 15 minute load averages as printed. */
  load: string;
  uptimeSeconds?: number;
  systemd: boolean;
  /** Failed systemd units; undefined without systemd ("n/a"). */
  failedUnits?: string[];
  disks: DiskSpace[];
}

/** Parses CHECK_SCRIPT's `key=value` lines; undefined when the answer is cut off. */
export function parseVitals(stdout: string): HostVitals | undefined {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (values.get('end') !== 'ok') return undefined;
  const failed = values.get('failed') ?? '';
  const disks: DiskSpace[] = [];
  for (const [key, value] of values) {
    if (!key.startsWith('df:')) continue;
    const [free, size] = value.split(' ').map((n) => Number.parseInt(n, 10));
    if (Number.isFinite(free) && Number.isFinite(size)) disks.push({ mount: key.slice(3), freeKiB: free as number, sizeKiB: size as number });
  }
  const uptime = Number.parseInt(values.get('uptime') ?? '', 10);
  return {
    load: values.get('load') ?? '',
    uptimeSeconds: Number.isFinite(uptime) ? uptime : undefined,
    systemd: values.get('systemd') === 'yes',
    failedUnits: failed === 'n/a' ? undefined : failed.split(/\s+/).filter(Boolean),
    disks,
  };
}

/** Below this share of free space a mount counts as a problem. */
export const MIN_FREE_FRACTION = 0.05;

/** Problems in a host's vitals, one sentence each (empty: healthy). */
export function vitalsProblems(vitals: HostVitals, minFree = MIN_FREE_FRACTION): string[] {
  const problems: string[] = [];
  if (vitals.failedUnits && vitals.failedUnits.length > 0) problems.push(`failed units: ${vitals.failedUnits.join(', ')}`);
  const seen = new Set<string>();
  for (const disk of vitals.disks) {
    if (disk.sizeKiB <= 0 || seen.has(disk.mount)) continue;
    seen.add(disk.mount);
    if (disk.freeKiB / disk.sizeKiB < minFree) {
      problems.push(`${disk.mount} is almost full (${Math.round((disk.freeKiB / disk.sizeKiB) * 100)}% free)`);
    }
  }
  return problems;
}

/** One health check's result. */
export interface HealthCheckResult {
  name: string;
  ok: boolean;
  exitCode: number | null;
  /** A short reason when it failed ("exit 1", "timed out after 5s", "ssh failed: …"). */
  detail: string;
  /** Last lines of its output. */
  output: string[];
  durationMs: number;
}

/** How long fleet waits locally for one check: its own timeout on the target, plus ssh's. */
export function healthCheckBudgetMs(ssh: SshSettings | undefined, check: HealthCheck): number {
  return check.timeout * 1000 + ((ssh?.connectTimeout ?? 0) + 10) * 1000;
}

/** "ok", or why a check's run failed: "exit 1", "timed out after 5s", ssh's own reason, "killed by …". */
export function healthCheckDetail(run: ExecResult, check: HealthCheck, overSsh: boolean): string {
  if (run.exitCode === 0) return 'ok';
  if (run.exitCode === 124 || run.timedOut) return `timed out after ${check.timeout}s`;
  if (overSsh && run.exitCode === SSH_FAILED) return describeSshFailure(run.stderr);
  return run.exitCode === null ? `killed by ${run.signal}` : `exit ${run.exitCode}`;
}

/**
 * One planned health check on the target, bounded by its own timeout (on the target with
 * `timeout`, and locally as a backstop): the one path of `fleet check` and of apply's verify.
 */
export async function runHealthCheck(
  ssh: SshSettings | undefined,
  planned: PlannedHealthCheck,
  exec: Exec,
  options: { signal?: AbortSignal; now?: () => number; env?: Record<string, string>; onLine?: (line: string) => void } = {},
): Promise<{ result: HealthCheckResult; tail: string[] }> {
  const now = options.now ?? Date.now;
  const { check, command } = planned;
  const started = now();
  const run = await exec({
    argv: resolveArgv(command.argv, {}),
    env: command.env,
    timeoutMs: healthCheckBudgetMs(ssh, check),
    signal: options.signal,
    onLine: options.onLine ? (line) => line.trim() && options.onLine?.(line) : undefined,
  });
  const detail = healthCheckDetail(run, check, Boolean(ssh));
  const result = { name: check.name, ok: run.exitCode === 0, exitCode: run.exitCode, detail, output: tailLines(run, 10), durationMs: now() - started };
  return { result, tail: tailLines(run) };
}

/** A failed check as the typed failure of apply's verify (the new system stays live). */
export function healthCheckFailure(host: string, result: HealthCheckResult, tail: string[]): HealthCheckFailed {
  return new HealthCheckFailed(host, result.name, result.detail, tail, `fix it and deploy again, or return to the previous generation: fleet rollback ${host}`);
}

/** Runs a host's planned health checks on the target, one after the other (`fleet check`). */
export async function runHealthChecks(
  ssh: SshSettings | undefined,
  checks: readonly PlannedHealthCheck[],
  exec: Exec,
  options: { signal?: AbortSignal; now?: () => number } = {},
): Promise<HealthCheckResult[]> {
  const results: HealthCheckResult[] = [];
  for (const planned of checks) results.push((await runHealthCheck(ssh, planned, exec, options)).result);
  return results;
}
