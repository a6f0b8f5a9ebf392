// Small display helpers shared by the summary, the GitHub summary and the renderers.
import { formatBytes } from '../backends/closure-diff.js';
import type { HostOutcome, OutcomeKind } from '../run/events.js';

/**
 * A duration for people: `0.4s`, `12.3s`, `4m07s`, `1h02m`.
 * @param ms milliseconds; negative or non-finite values print as `0.0s`.
 */
export function formatDuration(ms: number): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (safe < 60_000) return `${(Math.floor(safe / 100) / 10).toFixed(1)}s`;
  const totalSeconds = Math.floor(safe / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}

/** `/nix/store/<32-char hash>-name` with the hash elided: `/nix/store/…-name`. Other strings unchanged. */
export function shortStorePath(path: string): string {
  return path.replace(/\/nix\/store\/[0-9a-df-np-sv-z]{32}-/g, '/nix/store/…-');
}

/** How long a host took, in milliseconds. */
export function outcomeDuration(outcome: HostOutcome): number {
  return outcome.finishedAt - outcome.startedAt;
}

/** Whether the host ended changed by a bootstrap (installed) rather than a deploy. */
function wasInstalled(outcome: HostOutcome): boolean {
  return outcome.steps.some((s) => s.step === 'bootstrap' && s.status === 'done');
}

/**
 * What happened to a host, in a few words, without its name, store path or time:
 * `deployed switch`, `installed`, `unchanged`, `FAILED at deploy: …`, `rolled back: …`,
 * `unreachable: …`, `skipped: …`.
 */
export function describeOutcome(outcome: HostOutcome): string {
  const why = outcome.reason ? `: ${outcome.reason}` : '';
  const kind: OutcomeKind = outcome.kind;
  switch (kind) {
    case 'changed':
      if (outcome.summary) return outcome.summary;
      return wasInstalled(outcome) ? `installed (${outcome.mode})` : `deployed ${outcome.mode}`;
    case 'unchanged':
      return outcome.summary ?? 'unchanged';
    case 'failed':
      return `FAILED at ${outcome.step}${why}`;
    case 'rolled-back':
      return `rolled back${why}`;
    case 'unreachable':
      return `unreachable${why}`;
    case 'skipped':
      return `skipped${why}`;
    default: {
      const never: never = kind;
      throw new Error(`unknown outcome kind ${String(never)}`);
    }
  }
}

/** What the closure copies sent to a host from this machine, for the summary: `24.1 MB (3 paths)`, or `-`. */
export function formatUpload(upload: { paths: number; bytes: number } | undefined): string {
  if (!upload) return '-';
  return `${formatBytes(upload.bytes)} (${upload.paths} path${upload.paths === 1 ? '' : 's'})`;
}
