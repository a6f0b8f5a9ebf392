// The Markdown summary that `fleet apply` appends to $GITHUB_STEP_SUMMARY in GitHub Actions.
import { appendFile } from 'node:fs/promises';
import type { Provenance } from '../plan/types.js';
import { FAILED_OUTCOMES, type HostOutcome } from '../run/events.js';
import { summarize } from './exit-codes.js';
import { formatDuration, outcomeDuration } from './format.js';
import { TAIL_LINES } from './summary-table.js';
import { diffSummary, formatDiffBlock } from './diff-text.js';

/** Escapes a value for one Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim();
}

/** Code spans that survive backticks inside the value. */
function code(text: string): string {
  const fence = text.includes('`') ? '`` ' : '`';
  const close = text.includes('`') ? ' ``' : '`';
  return `${fence}${cell(text)}${close}`;
}

/**
 * A Markdown summary of a run: a headline with the counts, a table with a plain-word status
 * column (no emoji), and a collapsed block with the tail of each failed host.
 */
export function formatGithubSummary(
  outcomes: readonly HostOutcome[],
  options: { title?: string; interrupted?: boolean; provenance?: Provenance } = {},
): string {
  const { counts, total } = summarize(outcomes);
  const parts = (
    [
      ['changed', counts.changed],
      ['unchanged', counts.unchanged],
      ['failed', counts.failed],
      ['rolled back', counts['rolled-back']],
      ['unreachable', counts.unreachable],
      ['skipped', counts.skipped],
    ] as const
  )
    .filter(([, n]) => n > 0)
    .map(([label, n]) => `${n} ${label}`);
  const lines: string[] = [];
  lines.push(`### ${options.title ?? 'fleet apply'}: ${total} host${total === 1 ? '' : 's'}${parts.length ? ` — ${parts.join(', ')}` : ''}`);
  const p = options.provenance;
  if (p) {
    const who = p.ci?.runUrl ? `[${cell(p.operator)}](${p.ci.runUrl.replace(/[()\s]/g, encodeURIComponent)})` : cell(p.operator);
    lines.push('', `Revision ${p.revision ? code(p.revision) : 'unknown'} by ${who}, fleet ${cell(p.fleetVersion)}; recorded in each changed host's deploy history.`);
  }
  if (options.interrupted) lines.push('', '**Interrupted** before every host finished.');
  lines.push('', '| Host | Status | Step | Time | Details |', '| --- | --- | --- | --- | --- |');
  for (const o of outcomes) {
    const showPath = o.storePath !== undefined && (o.kind === 'changed' || o.kind === 'unchanged');
    const details = [o.reason ? cell(o.reason) : '', showPath && o.storePath ? code(o.storePath) : '']
      .filter(Boolean)
      .join(' ');
    lines.push(
      `| ${cell(o.host)} | ${o.kind} | ${o.step} | ${formatDuration(outcomeDuration(o))} | ${details} |`,
    );
  }
  // What each deploy changes (fleet diff, --diff, --confirm): one collapsed block per host.
  for (const o of outcomes) {
    if (!o.diff) continue;
    lines.push('', `<details><summary>${escapeHtml(o.host)}: ${escapeHtml(diffSummary(o.diff))}</summary>`, '', ...codeBlock(formatDiffBlock(o.host, o.diff).join('\n')), '', '</details>');
  }
  for (const o of outcomes) {
    if (!FAILED_OUTCOMES.includes(o.kind) || o.tail.length === 0) continue;
    const tail = o.tail.slice(-TAIL_LINES).join('\n');
    const fence = '`'.repeat(Math.max(3, longestBacktickRun(tail) + 1));
    lines.push(
      '',
      `<details><summary>${escapeHtml(o.host)}: ${o.kind} at ${o.step}</summary>`,
      '',
      `${fence}text`,
      tail,
      fence,
      '',
      '</details>',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A fenced block that survives backticks in the text. */
function codeBlock(text: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1));
  return [`${fence}text`, text, fence];
}

function longestBacktickRun(text: string): number {
  return Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Appends a summary to the file GitHub Actions names in `$GITHUB_STEP_SUMMARY`
 * (the CLI reads the variable and passes the path). Adds a final newline if missing.
 */
export async function appendGithubSummary(path: string, text: string): Promise<void> {
  await appendFile(path, text.endsWith('\n') ? text : `${text}\n`, 'utf8');
}
