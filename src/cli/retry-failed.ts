// `fleet apply --retry-failed [FILE]`: every apply keeps its JSON report at .fleet/last-run.json
// beside the manifest; a retry selects exactly the hosts that did not end changed or unchanged there.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { resolveManifestPath } from '../manifest/index.js';
import { runPathsFor, type Selection } from '../plan/index.js';
import { REPORT_VERSION, type JsonReport } from '../report/index.js';

/** The report of the last apply, in the manifest's state directory (`.fleet/`). */
export const LAST_RUN_FILE = 'last-run.json';

export function lastRunPath(stateDir: string): string {
  return join(stateDir, LAST_RUN_FILE);
}

/**
 * Keeps a run's report as the last run: written to a temporary file beside it, synced, then
 * renamed, so a reader (the next --retry-failed) never sees half a report.
 */
export function keepLastRun(stateDir: string, reportText: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = lastRunPath(stateDir);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${reportText}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** What `--retry-failed` selects: the hosts to run again, or why there are none. */
export type RetryPlan = { hosts: { name: string; outcome: string }[]; from: string; startedAt: string } | { nothing: string };

const DONE = new Set(['changed', 'unchanged']);

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/** Reads a report and checks it is one this fleet wrote for this manifest; a one-line error otherwise. */
export function readRetryReport(path: string, manifestPath: string, named = false): Pick<JsonReport, 'manifest' | 'startedAt' | 'hosts'> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UsageError(
      missing ? `no report to retry from: ${path} does not exist` : `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
      missing
        ? named
          ? '--retry-failed FILE names a report (a --report file); host names do not go beside it: the report selects the hosts'
          : 'run fleet apply first (every run keeps its report there), or name a report: --retry-failed FILE'
        : undefined,
    );
  }
  let report: Partial<JsonReport> & { reportVersion?: unknown };
  try {
    report = JSON.parse(text) as typeof report;
  } catch {
    throw new UsageError(`${path} is not a fleet report (not JSON)`);
  }
  if (typeof report !== 'object' || report === null) throw new UsageError(`${path} is not a fleet report`);
  if (report.reportVersion !== REPORT_VERSION) {
    throw new UsageError(`${path} is a report of version ${JSON.stringify(report.reportVersion ?? null)}; this fleet reads version ${REPORT_VERSION}`, 'run fleet apply again to write a current report');
  }
  const hosts = report.hosts;
  if (typeof report.manifest !== 'string' || !Array.isArray(hosts) || !hosts.every((h) => typeof h?.host === 'string' && typeof h?.outcome === 'string')) {
    throw new UsageError(`${path} is not a fleet report (no manifest or hosts)`);
  }
  if (!samePath(report.manifest, manifestPath)) {
    throw new UsageError(
      `${path} is the report of another manifest (${report.manifest}), not of ${manifestPath}`,
      `retry with that manifest (-f ${report.manifest}), or name a report of this one`,
    );
  }
  return { manifest: report.manifest, startedAt: typeof report.startedAt === 'string' ? report.startedAt : '?', hosts };
}

/** The hosts of a report that did not end changed or unchanged, in its order; a host named twice, once. */
export function hostsToRetry(report: Pick<JsonReport, 'hosts'>): { name: string; outcome: string }[] {
  const retry = new Map<string, string>();
  for (const h of report.hosts) if (!DONE.has(h.outcome) && !retry.has(h.host)) retry.set(h.host, h.outcome);
  return [...retry].map(([name, outcome]) => ({ name, outcome }));
}

/**
 * Resolves `--retry-failed [FILE]`: FILE, or the manifest's last-run report. Host selectors are
 * refused beside it: the report selects.
 */
export function planRetry(args: { file?: string; report: string; selection: Selection }, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RetryPlan {
  const given = [...args.selection.only, ...args.selection.tags, ...args.selection.exclude];
  if (given.length > 0) {
    throw new UsageError('--retry-failed selects the hosts itself (those that failed in the report)', 'leave out host names, --only, --tag and --exclude');
  }
  const manifestPath = resolveManifestPath(args.file, env, cwd);
  const path = args.report !== '' ? resolve(cwd, args.report) : lastRunPath(runPathsFor(manifestPath, tmpdir()).stateDir);
  const report = readRetryReport(path, manifestPath, args.report !== '');
  const hosts = hostsToRetry(report);
  if (hosts.length === 0) {
    return { nothing: `nothing to retry: every host of the run of ${report.startedAt} ended changed or unchanged (${path})` };
  }
  return { hosts, from: path, startedAt: report.startedAt };
}

/** The one line saying what a retry selected. */
export function describeRetry(plan: Extract<RetryPlan, { hosts: unknown }>): string {
  const n = plan.hosts.length;
  return `retrying ${n} host${n === 1 ? '' : 's'} that did not end changed or unchanged in the run of ${plan.startedAt}: ${plan.hosts.map((h) => `${h.name} (${h.outcome})`).join(', ')}`;
}

/**
 * The selection of exactly the hosts to retry: names as the report has them, compared exactly
 * with the manifest's (a `lab*` or `@all` there is an unknown host, never a glob or a tag).
 */
export function retrySelection(plan: Extract<RetryPlan, { hosts: unknown }>): Selection {
  return { only: [], tags: [], exclude: [], exactNames: { names: plan.hosts.map((h) => h.name), source: plan.from } };
}
