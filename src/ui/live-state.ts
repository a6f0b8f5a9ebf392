// What the terminal views know of a run, folded from RunEvents: each host with the steps it has
// reached (title, start, end, newest line) and the notes it left, the build, the run's notices.
// Pure: the compact view (live-view.ts) and the step tree (tty-reporter.ts) draw from this one state.
import { stripVTControlCharacters } from 'node:util';
import type { Plan } from '../plan/types.js';
import { diffSummary, formatDiffLines } from '../report/index.js';
import type { HostOutcome, Phase, RunEvent } from '../run/events.js';
import { evalCacheText, rolloutText } from './plain-reporter.js';

/** How a step ended. */
export type LiveStepEnd =
  | { kind: 'done'; detail: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string };

/** A step a host has reached: it started, or it ended without starting (skipped by its guard). */
export interface LiveStep {
  phase: Phase;
  /** The step's title as the run gave it (`lock and probe`, `deploy (switch)`). */
  title: string;
  startedAt: number;
  /** Absent while the step runs. */
  end?: LiveStepEnd;
  /** When it ended (0: still running). */
  endedAt: number;
  /** The newest line of its output. */
  lastLine?: string;
}

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
  /** The steps it has reached, in order. */
  steps: LiveStep[];
  /** Lines that stay with the host, in the order they came: its notes, and its diff (the gist, then a line per change). */
  notes: string[];
}

/** The build stage as the view knows it. */
export interface LiveBuild {
  startedAt: number;
  finishedAt: number;
  hosts: Set<string>;
  built: Set<string>;
  /** Hosts whose build failed, and why. */
  failed: { host: string; reason: string }[];
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
  /** The run's own lines in the order they came (the evaluation cache's answer, each rollout line, the interrupts). */
  notices: string[];
}

/** The view's state before any event: every planned host waiting, its outputs still to build. */
export function initialLiveState(plan: Pick<Plan, 'hosts' | 'build'>, now: number): LiveState {
  const hosts = new Map<string, LiveHost>();
  for (const host of plan.hosts) hosts.set(host.name, { name: host.name, startedAt: 0, stepStartedAt: 0, steps: [], notes: [] });
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
    notices: [],
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

/** The step of a host that runs: its last reached step, when that has not ended. */
export function openStep(host: LiveHost): LiveStep | undefined {
  const last = host.steps.at(-1);
  return last && !last.end ? last : undefined;
}

/** Ends the host's running step, if any, as done: another step starts, or the host ends. */
function endOpenStep(host: LiveHost, now: number): void {
  const open = openStep(host);
  if (!open) return;
  open.end = { kind: 'done', detail: '' };
  open.endedAt = now;
}

/** Ends a step: the running one when it is that phase, else one that ends without having started (a guard skipped it). */
function endStep(host: LiveHost, phase: Phase, end: LiveStepEnd, now: number): void {
  const open = openStep(host);
  if (open?.phase === phase) {
    open.end = end;
    open.endedAt = now;
    return;
  }
  endOpenStep(host, now);
  host.steps.push({ phase, title: phase, startedAt: now, end, endedAt: now });
}

/**
 * Nix's note that it retries a busy store database (two builds on one store): `warning: error:
 * SQLite database '…' is busy`. Nothing failed, so no terminal view shows it as a host's, a step's
 * or the build's newest line; the log keeps it.
 */
export function isNixRetryNoise(line: string): boolean {
  return /^warning: (?:error: )?SQLite database .* is busy/.test(stripVTControlCharacters(line).trim());
}

/** Folds one event into the state (in place). */
export function applyLiveEvent(state: LiveState, event: RunEvent, now: number): void {
  switch (event.type) {
    case 'build-cached':
      state.evalCache = { cached: [...event.hosts], evaluating: event.evaluating };
      state.notices.push(evalCacheText(event.hosts, event.evaluating));
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
      state.build.failed.push({ host: event.host, reason: event.reason });
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
      endOpenStep(host, now);
      host.steps.push({ phase: event.step, title: event.title || event.step, startedAt: now, endedAt: 0 });
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
      // The running step takes it, whichever step the line names: a question asked mid-step (a
      // sudo password asked again) must show where the host is.
      const open = openStep(host);
      if (open) open.lastLine = event.line;
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
      endStep(host, event.step, event.type === 'step-done' ? { kind: 'done', detail: event.detail } : { kind: 'skipped', reason: event.reason }, now);
      return;
    }
    case 'step-failed': {
      const host = hostOf(state, event.host, now);
      if (!host) return;
      host.failure = { step: event.step, reason: event.reason };
      host.progress = undefined;
      endStep(host, event.step, { kind: 'failed', reason: event.reason }, now);
      return;
    }
    case 'host-note': {
      const host = hostOf(state, event.host, now);
      const note = event.level === 'warn' ? `! ${event.message}` : event.message;
      if (host) {
        host.lastLine = note;
        host.notes.push(note);
      }
      state.notes.push(`${event.host}: ${note}`);
      return;
    }
    case 'host-diff': {
      // The whole diff is printed above the frame (live-reporter.ts); the host's line says its gist.
      const host = hostOf(state, event.host, now);
      if (!host) return;
      host.lastLine = `diff: ${diffSummary(event.diff)}`;
      host.notes.push(host.lastLine, ...formatDiffLines(event.diff).map((line) => `  ${line}`));
      return;
    }
    case 'host-done': {
      const host = hostOf(state, event.outcome.host, now);
      if (!host) return;
      host.outcome = event.outcome;
      host.progress = undefined;
      endOpenStep(host, now);
      return;
    }
    case 'interrupted':
      state.interrupt = event.second
        ? 'interrupted again — leaving now'
        : 'interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once';
      state.notices.push(state.interrupt);
      return;
    case 'wave-start':
    case 'wave-pause':
    case 'rollout-stopped':
      state.rollout = { text: rolloutText(event), stopped: event.type === 'rollout-stopped' };
      state.notices.push(state.rollout.text);
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled run event ${JSON.stringify(never)}`);
    }
  }
}
