// The compact terminal view of a run, as data: what each host is doing, folded from RunEvents, and
// the frame for a terminal of a given size (a header with the counts, a line per running host,
// failed hosts kept in view). Pure: the live reporter draws it, tests read it.
import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';
import type { Plan } from '../plan/types.js';
import { describeOutcome, diffSummary, formatDuration } from '../report/index.js';
import { FAILED_OUTCOMES, type HostOutcome, type Phase, type RunEvent } from '../run/events.js';
import type { Paint } from './paint.js';
import { evalCacheText, rolloutText } from './plain-reporter.js';

/** One host as the view knows it. */
export interface LiveHost {
  name: string;
  /** When its first event came (0: not started). */
  startedAt: number;
  step?: Phase;
  stepStartedAt: number;
  /** The newest output line (or note) of the running step. */
  lastLine?: string;
  /** Paths copied of those to copy, while the copy runs (`after`: lines seen since it completed). */
  progress?: { done: number; total: number; after: number };
  /** The step that failed and why, as soon as it fails (before the host's outcome). */
  failure?: { step: Phase; reason: string };
  outcome?: HostOutcome;
}

/** The build stage as the view knows it. */
export interface LiveBuild {
  startedAt: number;
  finishedAt: number;
  hosts: Set<string>;
  built: Set<string>;
  failed: string[];
  /** Outputs each planned host still waits for; the build ends when none waits. */
  pending: Map<string, Set<string>>;
  /** Running chunks (1-based) and their hosts. */
  chunks: Map<number, string[]>;
  chunkCount: number;
  lastLine?: string;
}

/** Everything the frame is drawn from. */
export interface LiveState {
  startedAt: number;
  hosts: Map<string, LiveHost>;
  build: LiveBuild;
  /** Notes the user must read (TOFU fingerprints, consent, "lost SSH…"), kept for the final screen. */
  notes: string[];
  interrupt?: string;
  /** The rollout's newest line (a wave starting, a pause, the stop), when there is a rollout. */
  rollout?: { text: string; stopped: boolean };
  /** What the evaluation cache answered, when the run used it: the hosts it answered, and how many are evaluated. */
  evalCache?: { cached: string[]; evaluating: number };
}

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

/** The view's state before any event: every planned host waiting, its outputs still to build. */
export function initialLiveState(plan: Pick<Plan, 'hosts' | 'build'>, now: number): LiveState {
  const hosts = new Map<string, LiveHost>();
  for (const host of plan.hosts) hosts.set(host.name, { name: host.name, startedAt: 0, stepStartedAt: 0 });
  const pending = new Map<string, Set<string>>();
  for (const chunk of plan.build.chunks) {
    for (const a of chunk.attributes) {
      const outputs = pending.get(a.host) ?? new Set<string>();
      outputs.add(a.output);
      pending.set(a.host, outputs);
    }
  }
  return {
    startedAt: now,
    hosts,
    build: { startedAt: 0, finishedAt: 0, hosts: new Set(), built: new Set(), failed: [], pending, chunks: new Map(), chunkCount: 0 },
    notes: [],
  };
}

/** A host seen in an event, now started. Hosts the plan does not know are not drawn (the summary lists them). */
function hostOf(state: LiveState, name: string, now: number): LiveHost | undefined {
  const host = state.hosts.get(name);
  if (host && host.startedAt === 0) host.startedAt = now;
  return host;
}

function settleBuild(build: LiveBuild, host: string, output: string | undefined, now: number): void {
  const outputs = build.pending.get(host);
  if (outputs && output !== undefined) outputs.delete(output);
  if (!outputs || output === undefined || outputs.size === 0) build.pending.delete(host);
  if (build.pending.size === 0 && build.finishedAt === 0) build.finishedAt = now;
}

/**
 * Nix's note that it retries a busy store database (two builds on one store): `warning: error:
 * SQLite database '…' is busy`. Nothing failed, so the compact view does not show it as a host's
 * or the build's newest line; --verbose and the log keep it.
 */
export function isNixRetryNoise(line: string): boolean {
  return /^warning: (?:error: )?SQLite database .* is busy/.test(stripVTControlCharacters(line).trim());
}

/** Folds one event into the state (in place). */
export function applyLiveEvent(state: LiveState, event: RunEvent, now: number): void {
  switch (event.type) {
    case 'build-cached':
      state.evalCache = { cached: [...event.hosts], evaluating: event.evaluating };
      return;
    case 'build-start': {
      const b = state.build;
      if (b.startedAt === 0) b.startedAt = now;
      for (const h of event.hosts) b.hosts.add(h);
      b.chunks.set(event.chunk, event.hosts);
      b.chunkCount = event.chunks;
      return;
    }
    case 'build-line':
      if (!isNixRetryNoise(event.line)) state.build.lastLine = event.line;
      return;
    case 'build-done':
      if (event.output === 'toplevel') state.build.built.add(event.host);
      settleBuild(state.build, event.host, event.output, now);
      return;
    case 'build-failed':
      state.build.failed.push(event.host);
      settleBuild(state.build, event.host, undefined, now);
      return;
    case 'host-start':
      hostOf(state, event.host, now);
      return;
    case 'step-start': {
      const host = hostOf(state, event.host, now);
      if (!host) return;
      host.step = event.step;
      host.stepStartedAt = now;
      host.lastLine = event.title && event.title !== event.step ? event.title : undefined;
      host.progress = undefined;
      return;
    }
    case 'step-line': {
      if (event.quiet || isNixRetryNoise(event.line)) return;
      const host = hostOf(state, event.host, now);
      if (!host) return;
      if (host.step === undefined) {
        host.step = event.step;
        host.stepStartedAt = now;
      }
      host.lastLine = event.line;
      // A complete copy is shown with its last path's line, and dropped once the step moves on.
      const p = host.progress;
      if (p && p.done >= p.total && ++p.after > 1) host.progress = undefined;
      return;
    }
    case 'step-progress': {
      const host = hostOf(state, event.host, now);
      if (!host) return;
      host.progress = { done: event.done, total: event.total, after: 0 };
      return;
    }
    case 'step-skip':
    case 'step-done': {
      const host = hostOf(state, event.host, now);
      if (!host) return;
      host.progress = undefined;
      return;
    }
    case 'step-failed': {
      const host = hostOf(state, event.host, now);
      if (!host) return;
      host.failure = { step: event.step, reason: event.reason };
      host.progress = undefined;
      return;
    }
    case 'host-note': {
      const host = hostOf(state, event.host, now);
      const note = event.level === 'warn' ? `! ${event.message}` : event.message;
      if (host) host.lastLine = note;
      state.notes.push(`${event.host}: ${note}`);
      return;
    }
    case 'host-diff': {
      // The whole diff is printed above the frame (live-reporter.ts); the host's line says its gist.
      const host = hostOf(state, event.host, now);
      if (host) host.lastLine = `diff: ${diffSummary(event.diff)}`;
      return;
    }
    case 'host-done': {
      const host = hostOf(state, event.outcome.host, now);
      if (!host) return;
      host.outcome = event.outcome;
      host.progress = undefined;
      return;
    }
    case 'interrupted':
      state.interrupt = event.second
        ? 'interrupted again — leaving now'
        : 'interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once';
      return;
    case 'wave-start':
    case 'wave-pause':
    case 'rollout-stopped':
      state.rollout = { text: rolloutText(event), stopped: event.type === 'rollout-stopped' };
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled run event ${JSON.stringify(never)}`);
    }
  }
}

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
function elapsed(ms: number): string {
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

function buildLine(state: LiveState, now: number): string | undefined {
  const b = state.build;
  if (b.startedAt === 0 || b.finishedAt !== 0) return undefined;
  const running = [...b.chunks].filter(([, hosts]) => hosts.some((h) => b.pending.has(h)));
  const chunks =
    running.length === 1
      ? `${b.chunkCount > 1 ? `chunk ${running[0]![0]}/${b.chunkCount}: ` : ''}${running[0]![1].join(', ')}`
      : running.length > 1
        ? `chunks ${running.map(([c]) => c).join(', ')} of ${b.chunkCount}`
        : '';
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
    const failed = b.failed.length > 0 ? `, ${b.failed.length} failed (${b.failed.join(', ')})` : '';
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
