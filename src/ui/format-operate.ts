// Plain-text tables of the operating commands (status, check, generations, exec blocks) and their
// plans (`fleet plan --for reboot|check`). Pure.
import { describeOperator, type GenerationList, type HealthCheckResult, type HistoryRecord, type HostStatus, type HostVitals } from '../backends/index.js';
import { alignColumns, shortStorePath } from '../report/index.js';
import { describeSecretSource } from '../plan/build-plan.js';
import type { PlannedCommand } from '../plan/types.js';
import type { FleetRebootPlan } from '../plan/reboot-commands.js';
import type { FleetCheckPlan } from '../plan/check-commands.js';
import { formatCommand } from './format-plan.js';

const VERDICT_WORDS: Record<HostStatus['verdict'], string> = {
  'up-to-date': 'up-to-date',
  outdated: 'outdated',
  'pending-reboot': 'pending reboot',
  unreachable: 'unreachable',
  'not-installed': 'not installed',
  error: 'error',
};

export function verdictWords(verdict: HostStatus['verdict']): string {
  return VERDICT_WORDS[verdict];
}

/** The `fleet status` table: one row per host, store paths shortened, then the details. */
export function formatStatusTable(statuses: readonly HostStatus[]): string[] {
  const short = (p: string) => (p ? shortStorePath(p) : '-');
  const rows = [['HOST', 'STATUS', 'LIVE', 'BOOT DEFAULT', 'WANTED', 'LIVE REVISION', 'BY']];
  const secretWords = { 'in-place': '', missing: ', secrets missing', unknown: ', secrets unknown' } as const;
  for (const s of statuses) {
    const r = s.liveRecord;
    const status = `${verdictWords(s.verdict)}${s.secrets ? secretWords[s.secrets.state] : ''}`;
    rows.push([s.host, status, short(s.live), short(s.bootDefault), short(s.wanted), shortRevision(r?.revision), r ? describeOperator(r) : '-']);
  }
  const lines = alignColumns(rows);
  for (const s of statuses) if (s.detail) lines.push(`${s.host}: ${s.detail}`);
  for (const s of statuses) {
    if (s.secrets?.state === 'missing') lines.push(`${s.host}: secrets missing: ${s.secrets.problems.join('; ')} (fleet push-secrets ${s.host})`);
    if (s.secrets?.state === 'unknown') lines.push(`${s.host}: secrets unknown: ${s.secrets.problems.join('; ')}`);
  }
  return lines;
}

/** `3d 04:05` style uptime. */
export function formatUptime(seconds: number | undefined): string {
  if (seconds === undefined) return '?';
  const days = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const clock = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  return days > 0 ? `${days}d ${clock}` : clock;
}

function formatKiB(kib: number): string {
  if (kib >= 1024 * 1024) return `${(kib / 1024 / 1024).toFixed(1)}G`;
  if (kib >= 1024) return `${(kib / 1024).toFixed(0)}M`;
  return `${kib}K`;
}

/** One host's result in `fleet check`. */
export interface HostCheck {
  host: string;
  healthy: boolean;
  vitals?: HostVitals;
  checks: HealthCheckResult[];
  /** Everything that makes it unhealthy, one sentence each. */
  problems: string[];
}

/** The `fleet check` table, then each unhealthy host's problems and failing checks' output. */
export function formatCheckTable(results: readonly HostCheck[]): string[] {
  const rows = [['HOST', 'HEALTH', 'LOAD', 'UPTIME', 'FAILED UNITS', 'FREE /', 'FREE /nix', 'CHECKS']];
  for (const r of results) {
    const v = r.vitals;
    const disk = (mount: string) => {
      const d = v?.disks.find((x) => x.mount === mount);
      return d ? `${formatKiB(d.freeKiB)} (${d.sizeKiB > 0 ? Math.round((d.freeKiB / d.sizeKiB) * 100) : 0}%)` : '-';
    };
    const units = !v ? '-' : v.failedUnits === undefined ? 'n/a' : String(v.failedUnits.length);
    const passed = r.checks.filter((c) => c.ok).length;
    rows.push([
      r.host,
      r.healthy ? 'healthy' : 'UNHEALTHY',
      v?.load || '-',
      v ? formatUptime(v.uptimeSeconds) : '-',
      units,
      disk('/'),
      disk('/nix'),
      r.checks.length === 0 ? '-' : `${passed}/${r.checks.length} ok`,
    ]);
  }
  const lines = alignColumns(rows);
  for (const r of results) {
    if (r.healthy) continue;
    lines.push('');
    for (const problem of r.problems) lines.push(`${r.host}: ${problem}`);
    for (const c of r.checks.filter((x) => !x.ok)) for (const out of c.output) lines.push(`  │ ${out}`);
  }
  return lines;
}

/**
 * The `fleet generations` table, newest last, with live/boot/booted markers and, where the deploy
 * history knows it, the revision and who deployed it (`-` for a generation fleet did not record).
 */
export function formatGenerations(host: string, list: GenerationList): string[] {
  const rows = [['GEN', 'DATE', 'REVISION', 'BY', 'SYSTEM', '']];
  for (const g of list.generations) {
    const marks = [g.live ? 'live' : '', g.bootDefault ? 'boot default' : '', g.booted ? 'booted' : ''].filter(Boolean).join(', ');
    rows.push([String(g.generation), g.date || '?', shortRevision(g.record?.revision), g.record ? describeOperator(g.record) : '-', g.storePath || '?', marks ? `(${marks})` : '']);
  }
  const lines = [`${host}:`, ...alignColumns(rows).map((l) => `  ${l}`)];
  if (list.live && !list.generations.some((g) => g.live)) {
    const by = list.liveRecord ? ` (${list.liveRecord.mode} by ${describeOperator(list.liveRecord)}, revision ${shortRevision(list.liveRecord.revision)})` : '';
    lines.push(`  live system ${list.live} is no generation of the profile${by}`);
  }
  return lines;
}

/** One host's block of `fleet exec` output: every line prefixed `[host] `, then its exit status. */
export function formatExecBlock(host: string, output: readonly string[], status: string): string[] {
  return [...output.map((line) => `[${host}] ${line}`), `[${host}] ${status}`];
}

/** A revision for tables: 12 hex digits, keeping `-dirty`; `-` when unknown. */
export function shortRevision(revision: string | null | undefined): string {
  if (!revision) return '-';
  const dirty = revision.endsWith('-dirty');
  const commit = dirty ? revision.slice(0, -'-dirty'.length) : revision;
  return `${/^[0-9a-f]{13,}$/.test(commit) ? commit.slice(0, 12) : commit}${dirty ? '-dirty' : ''}`;
}

/** `2026-11-30 18:00:01Z`: the record's UTC time to the second. */
function recordTime(time: string): string {
  return time.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** The `fleet history` table: newest first, one line per recorded deploy, install or rollback, with its outcome. */
export function formatHistory(host: string, records: readonly HistoryRecord[], unreadable: number): string[] {
  if (records.length === 0 && unreadable === 0) return [`${host}: no deploy recorded by fleet yet`];
  const rows = [['TIME', 'ACTION', 'MODE', 'GEN', 'REVISION', 'BY', 'SYSTEM', 'OUTCOME']];
  for (const r of [...records].reverse()) {
    // A record from before fleet recorded every activation was written only for a verified change.
    rows.push([recordTime(r.time), r.action, r.mode, r.generation === null ? '-' : String(r.generation), shortRevision(r.revision), describeOperator(r), shortStorePath(r.system), r.outcome ?? 'verified']);
  }
  const lines = [`${host}:`, ...alignColumns(rows).map((l) => `  ${l}`)];
  if (unreadable > 0) lines.push(`  ${unreadable} line(s) of the history are no record fleet wrote; left out`);
  return lines;
}

function planCommandLine(command: PlannedCommand, note = ''): string {
  return `    ${command.purpose}: $ ${formatCommand(command)}${note}`;
}

/**
 * `fleet plan --for reboot`: per host, the reboot's commands and its bound, then, for a host with
 * secrets, their restore (names, sources and destinations: never a value); or why it never reboots.
 */
export function formatRebootPlan(hosts: readonly FleetRebootPlan[]): string[] {
  const lines = ['fleet reboot: each host rebooted, then waited for until it answers with a new boot id on its boot default'];
  for (const host of hosts) {
    if ('never' in host) {
      lines.push(`${host.host}  never (${host.never})`);
      continue;
    }
    const r = host.reboot;
    lines.push(
      host.host,
      `  reboot  ${r.guard}`,
      planCommandLine(r.before),
      planCommandLine(r.reboot),
      planCommandLine(r.wait, `  (polled until ${r.waitSeconds}s after the reboot; <connectTimeout> at most ${r.connectTimeoutSeconds}s, never past that)`),
    );
    const restore = r.restoreSecrets;
    if (!restore) {
      lines.push('  secrets  never (no secrets)');
      continue;
    }
    lines.push(`  secrets  ${restore.upload.guard}`);
    for (const secret of restore.upload.secrets) {
      lines.push(`    ${secret.name} → ${secret.destination}  ${secret.owner}:${secret.group} ${secret.mode}, ${secret.upload}, from ${describeSecretSource(secret.source)}`);
    }
    for (const command of [restore.digests, restore.upload.beforeActivation?.push, restore.upload.afterActivation?.push]) if (command) lines.push(planCommandLine(command));
  }
  return lines;
}

/** `fleet plan --for check`: per host, the vitals script, then each health check with its bound. */
export function formatCheckPlan(hosts: readonly FleetCheckPlan[]): string[] {
  const lines = ["fleet check: each host's vitals (load, uptime, failed units, free space on / and /nix), then its health checks"];
  for (const { host, check } of hosts) {
    lines.push(host, planCommandLine(check.vitals));
    if (check.healthChecks.length === 0) lines.push('    health checks: none');
    for (const { check: c, command } of check.healthChecks) lines.push(planCommandLine(command, `  (within ${c.timeout}s)`));
  }
  return lines;
}
