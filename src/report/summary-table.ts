// The end-of-run table (host, outcome, step, time, uploaded when a copy ran, reason) and the tail of each failed host.
import { FAILED_OUTCOMES, type HostOutcome } from '../run/events.js';
import { formatDuration, formatUpload, outcomeDuration } from './format.js';

/** At most this many lines of a failing command are shown per host. */
export const TAIL_LINES = 20;

/**
 * Lays rows out in columns separated by two spaces; the last column is not padded and
 * trailing spaces are trimmed.
 */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The summary printed after a run: a header and one aligned row per host
 * (`HOST  OUTCOME  STEP  TIME  REASON`), then for each failed host a block with the last
 * lines of its failing command. No colour; the caller decides.
 */
export function formatSummaryTable(outcomes: readonly HostOutcome[]): string[] {
  // UPLOADED (what the closure copies sent from this machine) only when some copy ran.
  const uploads = outcomes.some((o) => o.uploaded);
  const rows: string[][] = [['HOST', 'OUTCOME', 'STEP', 'TIME', ...(uploads ? ['UPLOADED'] : []), 'REASON']];
  for (const o of outcomes) {
    rows.push([o.host, o.kind, o.step, formatDuration(outcomeDuration(o)), ...(uploads ? [formatUpload(o.uploaded)] : []), oneLine(o.reason)]);
  }
  const lines = alignColumns(rows);
  for (const o of outcomes) {
    if (!FAILED_OUTCOMES.includes(o.kind) || (o.tail.length === 0 && !o.hint)) continue;
    const tail = o.tail.slice(-TAIL_LINES);
    lines.push('');
    if (tail.length > 0) {
      lines.push(`${o.host}: ${o.kind} at ${o.step} — last ${tail.length} line${tail.length === 1 ? '' : 's'}:`);
      for (const line of tail) lines.push(`  │ ${line.trimEnd()}`);
      if (o.hint) lines.push(`  hint: ${oneLine(o.hint)}`);
    } else {
      lines.push(`${o.host}: ${o.kind} at ${o.step} — hint: ${oneLine(o.hint ?? '')}`);
    }
  }
  return lines;
}

/** Collapses newlines so one value stays on one row. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
