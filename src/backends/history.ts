// The deploy history on each host: the record fleet appends for every deploy, install or rollback
// it made, with its outcome, its one-line JSON form, and reading it back (fleet history, generations, status).
import { tailLines, type Exec } from '../exec/index.js';
import { resolveArgv, type CiRun, type PlannedCommand, type Provenance } from '../plan/index.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';

/** What changed the host. */
export type HistoryAction = 'deploy' | 'install' | 'rollback';

/**
 * One line of `/nix/var/fleet/history.jsonl`. Holds names, paths, a commit and a link: never key
 * material, tokens or the environment.
 */
export interface HistoryRecord {
  recordVersion: 1;
  /** ISO 8601, from the deploying machine's clock. */
  time: string;
  /** The host's name in the manifest. */
  host: string;
  action: HistoryAction;
  mode: 'switch' | 'boot' | 'test';
  /** The system it now runs (switch, test) or boots (boot). */
  system: string;
  /** Its generation of the system profile; null when it is none (test mode) or unknown. */
  generation: number | null;
  /**
   * How the change ended: `verified`, or what went wrong after it was made (`health check 'x'
   * failed`, `lost ssh: the watchdog rolls back`, `failed: …`); for the watchdog's own rollback,
   * `by the watchdog: …`. Absent in records written before fleet recorded every activation.
   */
  outcome?: string;
  operator: string;
  ci: CiRun | null;
  revision: string | null;
  fleetVersion: string;
}

/** The record for one host, in the field order it is written with. */
export function historyRecord(
  provenance: Provenance,
  fields: { time: number; host: string; action: HistoryAction; mode: HistoryRecord['mode']; system: string; generation: number | null; outcome?: string },
): HistoryRecord {
  return {
    recordVersion: 1,
    time: new Date(fields.time).toISOString(),
    host: fields.host,
    action: fields.action,
    mode: fields.mode,
    system: fields.system,
    generation: fields.generation,
    outcome: fields.outcome ?? 'verified',
    operator: provenance.operator,
    ci: provenance.ci,
    revision: provenance.revision,
    fleetVersion: provenance.fleetVersion,
  };
}

/**
 * The record as one line: compact JSON (fleet status finds a system's record by its exact
 * `"system":"<path>"`), never containing a newline.
 */
export function historyLine(record: HistoryRecord): string {
  return JSON.stringify(record);
}

/** Whether a parsed value is a record fleet wrote (fields and types), so a stray line never passes. */
function isRecord(value: unknown): value is HistoryRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    r.recordVersion === 1 &&
    typeof r.time === 'string' &&
    typeof r.host === 'string' &&
    (r.action === 'deploy' || r.action === 'install' || r.action === 'rollback') &&
    typeof r.mode === 'string' &&
    typeof r.system === 'string' &&
    (r.generation === null || typeof r.generation === 'number') &&
    (r.outcome === undefined || typeof r.outcome === 'string') &&
    typeof r.operator === 'string' &&
    (r.revision === null || typeof r.revision === 'string') &&
    typeof r.fleetVersion === 'string'
  );
}

/** Parses history lines (oldest first, as written); lines that are no record are counted, not guessed at. */
export function parseHistoryLines(lines: readonly string[]): { records: HistoryRecord[]; unreadable: number } {
  const records: HistoryRecord[] = [];
  let unreadable = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isRecord(value)) records.push(value);
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { records, unreadable };
}

/** The values of `<prefix>=` lines of a script's answer. */
export function prefixedLines(stdout: string, prefix: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`${prefix}=`))
    .map((l) => l.slice(prefix.length + 1));
}

/** The newest record of each system, by store path. */
export function latestBySystem(records: readonly HistoryRecord[]): Map<string, HistoryRecord> {
  const latest = new Map<string, HistoryRecord>();
  for (const r of records) latest.set(r.system, r);
  return latest;
}

/** Who deployed, for tables: the operator, and the CI system when there was one. */
export function describeOperator(record: Pick<HistoryRecord, 'operator' | 'ci'>): string {
  return record.ci ? `${record.operator} (${record.ci.system})` : record.operator;
}

/** How writing a history record went. */
export type HistoryWrite = { written: true; record: HistoryRecord } | { written: false; reason: string };

/** Seconds an append may take (it waits up to 30 s for the history's own lock). */
export const HISTORY_TIMEOUT_MS = 60_000;

/** Runs the planned append with the record; never throws: a failed write is reported, not raised. */
export async function appendHistory(
  command: PlannedCommand,
  record: HistoryRecord,
  exec: Exec,
  options: { sshTarget: boolean; onLine?: (line: string) => void } = { sshTarget: true },
): Promise<HistoryWrite> {
  try {
    const result = await exec({
      argv: resolveArgv(command.argv, { historyRecord: historyLine(record) }),
      env: command.env,
      timeoutMs: HISTORY_TIMEOUT_MS,
      onLine: (line, stream) => {
        if (stream === 'stderr' && line.trim()) options.onLine?.(line);
      },
    });
    if (result.exitCode === 0 && /^recorded$/m.test(result.stdout)) return { written: true, record };
    if (result.timedOut) return { written: false, reason: 'no answer in time (timed out)' };
    if (options.sshTarget && result.exitCode === SSH_FAILED) return { written: false, reason: describeSshFailure(result.stderr) };
    const last = tailLines({ stdout: '', stderr: result.stderr }).at(-1);
    return { written: false, reason: `exit ${result.exitCode ?? result.signal}${last ? `: ${last}` : ''}` };
  } catch (error) {
    return { written: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Has a held lock session append the record (see HeldLock.appendHistory); never throws. */
export async function appendHistoryOverLock(
  append: (file: string, line: string) => Promise<string | null>,
  file: string,
  record: HistoryRecord,
): Promise<HistoryWrite> {
  const failure = await append(file, historyLine(record)).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
  return failure === null ? { written: true, record } : { written: false, reason: failure };
}

/** A host's deploy history as read back: oldest first, as written. */
export interface HostHistory {
  records: HistoryRecord[];
  /** Lines that are no record fleet wrote (edited by hand, cut off). */
  unreadable: number;
}

/** Reads a host's history over one connection (HISTORY_SCRIPT); an error says why not. */
export async function readHistory(
  argv: readonly string[],
  exec: Exec,
  options: { sshTarget: boolean; signal?: AbortSignal },
): Promise<HostHistory | { error: string; unreachable: boolean; tail: string[] }> {
  const run = await exec({ argv, timeoutMs: 60_000, signal: options.signal });
  if (run.exitCode !== 0 || !/^end=ok$/m.test(run.stdout)) {
    const unreachable = options.sshTarget && run.exitCode === SSH_FAILED;
    return {
      error: unreachable ? `cannot reach the host: ${describeSshFailure(run.stderr)}` : run.exitCode === 0 ? 'the history listing was cut off' : `reading the history failed (exit ${run.exitCode ?? run.signal})`,
      unreachable,
      tail: tailLines(run),
    };
  }
  return parseHistoryLines(prefixedLines(run.stdout, 'record'));
}
