// The compact terminal view of a run: the frame for a terminal of a given size (a header with the
// counts, a line per running host, failed hosts kept in view) and the final lines, drawn from the
// state of live-state.ts. Pure: the live reporter draws it, tests read it.
import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';
import { describeOutcome, formatDuration } from '../report/index.js';
import { FAILED_OUTCOMES } from '../run/events.js';
import type { LiveBuild, LiveHost, LiveState } from './live-state.js';
import type { Paint } from './paint.js';
import { evalCacheText } from './plain-reporter.js';

/** The size a frame is drawn for. */
export interface FrameSize {
  columns: number;
  rows: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Host names longer than this are not padded further (the line is cut at the width anyway). */
const NAME_COLUMN_MAX = 24;
/** The longest step name (`push-keys`, `bootstrap`), so the elapsed column lines up. */
const STEP_COLUMN = 9;

/** The counts of the header: `running` are the hosts drawn (or counted) as running lines. */
export interface LiveCounts {
  total: number;
  done: number;
  failed: number;
  running: number;
  waiting: number;
}

function isFailed(host: LiveHost): boolean {
  return host.outcome ? FAILED_OUTCOMES.includes(host.outcome.kind) : host.failure !== undefined;
}

export function liveCounts(state: LiveState): LiveCounts {
  const counts: LiveCounts = { total: state.hosts.size, done: 0, failed: 0, running: 0, waiting: 0 };
  for (const host of state.hosts.values()) {
    // A host that failed is counted as failed from its failing step on (it may still be closing its
    // connection, or waiting for its rollback), and as done once it has its outcome.
    if (isFailed(host)) counts.failed += 1;
    if (host.outcome) counts.done += 1;
    else if (host.startedAt > 0 && !isFailed(host)) counts.running += 1;
    else if (host.startedAt === 0) counts.waiting += 1;
  }
  return counts;
}

/** Seconds while a step runs: `7s`, then `1m05s`. */
export function elapsed(ms: number): string {
  return ms < 60_000 ? `${Math.floor(Math.max(0, ms) / 1000)}s` : formatDuration(ms);
}

/** `12/40 done · 1 failed · 3 running · 24 waiting` */
export function headerText(counts: LiveCounts): string {
  const parts = [`${counts.done}/${counts.total} done`, `${counts.failed} failed`, `${counts.running} running`];
  if (counts.waiting > 0) parts.push(`${counts.waiting} waiting`);
  return parts.join(' · ');
}

/** Splits text into what a terminal draws as one character (made on the first line that needs cutting). */
let graphemes: Intl.Segmenter | undefined;

/**
 * One line of a terminal: escape sequences and control characters out (a tool's `\r` progress or
 * colours would move the cursor), cut to `width` columns with `…` when cut. Widths are the
 * terminal's (string-width: a CJK character or an emoji takes two columns).
 */
export function fitLine(text: string, width: number): string {
  if (width <= 0) return '';
  // eslint-disable-next-line no-control-regex
  const clean = stripVTControlCharacters(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  if (stringWidth(clean) <= width) return clean;
  let kept = '';
  let used = 0;
  for (const { segment } of (graphemes ??= new Intl.Segmenter()).segment(clean)) {
    const columns = stringWidth(segment);
    if (used + columns > width - 1) break;
    kept += segment;
    used += columns;
  }
  return `${kept}…`;
}

/** The chunks evaluating: `chunk 2/3: a, b`, or with several at once `chunks 2, 3 of 3` ('' when none). */
export function buildChunksText(b: LiveBuild): string {
  const running = [...b.chunks].filter(([, hosts]) => hosts.some((h) => b.pending.has(h)));
  if (running.length === 1) return `${b.chunkCount > 1 ? `chunk ${running[0]![0]}/${b.chunkCount}: ` : ''}${running[0]![1].join(', ')}`;
  return running.length > 1 ? `chunks ${running.map(([c]) => c).join(', ')} of ${b.chunkCount}` : '';
}

function buildLine(state: LiveState, now: number): string | undefined {
  const b = state.build;
  if (b.startedAt === 0 || b.finishedAt !== 0) return undefined;
  const chunks = buildChunksText(b);
  const parts = ['build', `${b.built.size}/${b.hosts.size} built`, elapsed(now - b.startedAt)];
  if (state.evalCache && state.evalCache.cached.length > 0) parts.push(`${state.evalCache.cached.length} from the evaluation cache`);
  if (chunks) parts.push(chunks);
  if (b.lastLine) parts.push(b.lastLine);
  return parts.join('  ');
}

function failedText(host: LiveHost): string {
  if (host.outcome) return describeOutcome(host.outcome);
  const f = host.failure!;
  return `FAILED at ${f.step}: ${f.reason}`;
}

/** What a frame is made of, before it is cut to the width (and painted). */
interface FrameLine {
  icon: string;
  style?: 'red' | 'cyan' | 'yellow' | 'bold';
  text: string;
}

/**
 * The frame for a terminal of `size`: never more than `rows - 1` lines (the cursor's line is
 * kept free, so drawing never scrolls), none longer than `columns - 1` characters (none wraps).
 * Header first; then the interrupt notice, the rollout's newest line and the build, when there; then failed hosts (at
 * least half the room when they need it) and running hosts in the order they started; whatever
 * does not fit is counted on a `+N more` line.
 */
export function liveFrame(state: LiveState, size: FrameSize, now: number, paint?: Paint): string[] {
  const maxRows = Math.max(1, size.rows - 1);
  const width = Math.max(1, size.columns - 1);
  const counts = liveCounts(state);
  const lines: FrameLine[] = [{ icon: '', style: 'bold', text: `fleet  ${headerText(counts)}  ${elapsed(now - state.startedAt)}` }];
  if (state.interrupt) lines.push({ icon: '!', style: 'yellow', text: state.interrupt });
  if (state.rollout) lines.push(state.rollout.stopped ? { icon: '✖', style: 'red', text: state.rollout.text } : { icon: '»', style: 'cyan', text: state.rollout.text });
  const build = buildLine(state, now);
  if (build) lines.push({ icon: SPINNER[Math.floor(now / 100) % SPINNER.length]!, style: 'cyan', text: build });

  const hosts = [...state.hosts.values()];
  const nameWidth = Math.min(NAME_COLUMN_MAX, Math.max(0, ...hosts.map((h) => h.name.length)));
  const failed = hosts.filter(isFailed);
  // In the order they started, except that a host in its bootstrap step comes first: it may be
  // asking for consent, and the question must be on screen.
  const asking = (h: LiveHost) => (h.step === 'bootstrap' ? 0 : 1);
  const running = hosts
    .filter((h) => h.startedAt > 0 && !h.outcome && !isFailed(h))
    .sort((a, b) => asking(a) - asking(b) || a.startedAt - b.startedAt);
  const space = Math.max(0, maxRows - lines.length);
  const failedRows = Math.min(failed.length, Math.max(space - running.length, Math.ceil(space / 2)));
  const runningRows = Math.min(running.length, space - failedRows);

  const shownFailed = failed.length > failedRows ? failed.slice(0, Math.max(0, failedRows - 1)) : failed;
  for (const host of shownFailed) lines.push({ icon: '✖', style: 'red', text: `${host.name.padEnd(nameWidth)}  ${failedText(host)}` });
  if (shownFailed.length < failed.length && failedRows > 0) {
    lines.push({ icon: '✖', style: 'red', text: `+${failed.length - shownFailed.length} more failed` });
  }

  const spin = SPINNER[Math.floor(now / 100) % SPINNER.length]!;
  const shownRunning = running.length > runningRows ? running.slice(0, Math.max(0, runningRows - 1)) : running;
  for (const host of shownRunning) {
    const parts = [host.name.padEnd(nameWidth), (host.step ?? 'start').padEnd(STEP_COLUMN), elapsed(now - (host.stepStartedAt || host.startedAt)).padStart(4)];
    if (host.progress && host.progress.total > 0) parts.push(`copied ${host.progress.done}/${host.progress.total} paths`);
    if (host.lastLine) parts.push(host.lastLine);
    lines.push({ icon: spin, style: 'cyan', text: parts.join('  ') });
  }
  if (shownRunning.length < running.length && runningRows > 0) {
    lines.push({ icon: '…', text: `+${running.length - shownRunning.length} more running` });
  }

  return lines.map((line) => {
    const fitted = fitLine(line.icon ? `${line.icon} ${line.text}` : line.text, width);
    if (!paint || !line.style) return fitted;
    // Only the icon (or an icon-less header) is painted: colour never counts toward the width.
    if (!line.icon) return paint(line.style, fitted);
    return fitted.startsWith(line.icon) ? `${paint(line.style, line.icon)}${fitted.slice(line.icon.length)}` : fitted;
  });
}

/**
 * What stays on the screen once the run is over (the summary table follows): the final counts,
 * how the build went, each failed host with its step and reason, and the notes the user must be
 * able to read back.
 */
export function finalLines(state: LiveState, now: number): string[] {
  const counts = liveCounts(state);
  const lines = [`fleet  ${headerText(counts)}  ${formatDuration(now - state.startedAt)}`];
  const b = state.build;
  if (b.startedAt !== 0) {
    const took = formatDuration((b.finishedAt || now) - b.startedAt);
    const failed = b.failed.length > 0 ? `, ${b.failed.length} failed (${b.failed.map((f) => f.host).join(', ')})` : '';
    lines.push(`build  ${b.built.size}/${b.hosts.size} built${failed}  ${took}`);
  }
  if (state.evalCache) lines.push(`eval   ${evalCacheText(state.evalCache.cached, state.evalCache.evaluating)}`);
  const hosts = [...state.hosts.values()];
  const nameWidth = Math.min(NAME_COLUMN_MAX, Math.max(0, ...hosts.map((h) => h.name.length)));
  for (const host of hosts.filter(isFailed)) lines.push(`✖ ${host.name.padEnd(nameWidth)}  ${failedText(host)}`);
  for (const note of state.notes) lines.push(note);
  if (state.rollout?.stopped) lines.push(state.rollout.text);
  if (state.interrupt) lines.push(state.interrupt);
  return lines;
}
