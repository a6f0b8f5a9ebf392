// A host's closure diff as text (fleet diff, apply --diff and --confirm, the step summary): one
// line per changed, added or removed package, then the closure's size change, as nvd shows it.
import { diffSummary, formatByteDelta, formatBytes, formatVersions } from '../backends/closure-diff.js';
import type { ClosureDiff, PackageChange } from '../run/events.js';
import { alignColumns } from './summary-table.js';
import { shortStorePath } from './format.js';

export { diffSummary, formatByteDelta, formatBytes, formatVersions };

/**
 * The lines of a diff, without the host: `changed  lab-tool  1.0 → 1.1  +8.0 KiB`, then
 * `closure  3 → 4 paths (2 added, 1 removed), 14.6 KiB → 22.7 KiB (+8.1 KiB)`. Empty when there
 * is nothing to list (no changes, not installed).
 */
export function formatDiffLines(diff: ClosureDiff): string[] {
  if (diff.kind !== 'changes') return [];
  const row = (word: string, p: PackageChange, text: string) => [word, p.name, text, formatByteDelta(p.sizeDelta)];
  const rows = [
    ...diff.changed.map((p) => row('changed', p, `${formatVersions(p.from)} → ${formatVersions(p.to)}`)),
    ...diff.added.map((p) => row('added', p, formatVersions(p.to))),
    ...diff.removed.map((p) => row('removed', p, formatVersions(p.from))),
  ];
  const c = diff.closure;
  const closure =
    `closure  ${c.fromPaths} → ${c.toPaths} paths (${c.pathsAdded} added, ${c.pathsRemoved} removed), ` +
    `${formatBytes(c.fromBytes)} → ${formatBytes(c.toBytes)} (${formatByteDelta(c.toBytes - c.fromBytes)})`;
  return [...(rows.length > 0 ? alignColumns(rows) : []), closure];
}

/** The diff of one host: `web-1: <summary>` and its lines, indented; with the systems compared. */
export function formatDiffBlock(host: string, diff: ClosureDiff): string[] {
  const head =
    diff.kind === 'same'
      ? `${host}: no changes (runs ${shortStorePath(diff.system)})`
      : diff.kind === 'not-installed'
        ? `${host}: ${diffSummary(diff)} (${shortStorePath(diff.to)})`
        : `${host}: ${shortStorePath(diff.from)} → ${shortStorePath(diff.to)}`;
  return [head, ...formatDiffLines(diff).map((line) => `  ${line}`)];
}
