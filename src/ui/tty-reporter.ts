// The step tree on a terminal (--verbose): listr2 tasks for the build stage and each host, the
// host's steps as its subtasks, all drawn from the state the compact view folds (live-state.ts).
import {
  figures,
  Listr,
  ListrDefaultRendererLogLevels,
  ListrLogger,
  type ListrDefaultRendererOptions,
  type ListrTask,
  type ListrTaskWrapper,
  type LoggerFormat,
} from 'listr2';
import type { HostPlan, Plan } from '../plan/types.js';
import { describeOutcome, formatDuration, outcomeDuration, shortStorePath } from '../report/index.js';
import { FAILED_OUTCOMES, type HostOutcome, type Phase, type Reporter, type RunEvent } from '../run/events.js';
import { applyLiveEvent, initialLiveState, openStep, type LiveHost, type LiveState, type LiveStep } from './live-state.js';
import { buildChunksText, elapsed } from './live-view.js';
import { TerminalOutput, TreeRenderer } from './tree-renderer.js';

type Ctx = Record<string, never>;
type Wrapper = ListrTaskWrapper<Ctx, typeof TreeRenderer, typeof TreeRenderer>;
type TaskSpec = ListrTask<Ctx, typeof TreeRenderer, typeof TreeRenderer>;

/**
 * How often the tasks take newest lines and elapsed times from the state: a chatty `nix copy`
 * changes a task's output a few times a second, not once per line (frames: tree-renderer.ts).
 */
const TICK_MS = 100;

/**
 * The title of a task that has nothing to show yet: a host that has not started, a step the host
 * has not reached. listr2 draws a task by its title and a blank one as no line. It must still be a
 * title from the start: listr2 sends the output of a task it first saw untitled to the bottom bar
 * for good, and a host's notes and a step's lines belong under it.
 */
const NOT_YET = ' ';

/** What a task waits on: one host's part of the state (by its name), the build's, or the tick. */
type Topic = string | typeof BUILD | typeof TICK;
const BUILD = Symbol('build');
const TICK = Symbol('tick');

/** The topic an event changes (notices are drawn on ticks: nothing waits on them). */
function topicOf(event: RunEvent): Topic | undefined {
  if (event.type.startsWith('build-')) return BUILD;
  if (event.type === 'host-done') return event.outcome.host;
  return 'host' in event ? event.host : undefined;
}

/**
 * Wakes the tasks that wait on a topic when it changes: an event wakes only its host's tasks (a
 * running step, the host's end), never every task of a large fleet.
 */
class Changes {
  private readonly waits = new Map<Topic, { promise: Promise<void>; wake: () => void }>();

  next(topic: Topic): Promise<void> {
    let wait = this.waits.get(topic);
    if (!wait) {
      let wake!: () => void;
      const promise = new Promise<void>((resolve) => {
        wake = resolve;
      });
      wait = { promise, wake };
      this.waits.set(topic, wait);
    }
    return wait.promise;
  }

  notify(topic: Topic): void {
    const wait = this.waits.get(topic);
    if (!wait) return;
    this.waits.delete(topic);
    wait.wake();
  }

  notifyAll(): void {
    for (const topic of [...this.waits.keys()]) this.notify(topic);
  }
}

/** Options of the step tree. */
export interface TtyReporterOptions {
  stream: NodeJS.WritableStream;
  plan: Plan;
  /** false: no ANSI colour in icons (layout escapes are still written; this is a terminal). */
  color?: boolean;
  /** The clock (tests). */
  now?: () => number;
}

/** The one line a finished host collapses to: `web-1  deployed switch  /nix/store/…-web-1  12.3s`. */
export function collapsedHostLine(outcome: HostOutcome): string {
  const showPath =
    outcome.storePath !== undefined && (outcome.kind === 'changed' || outcome.kind === 'unchanged');
  return [
    outcome.host,
    describeOutcome(outcome),
    ...(showPath && outcome.storePath ? [shortStorePath(outcome.storePath)] : []),
    formatDuration(outcomeDuration(outcome)),
  ].join('  ');
}

/**
 * The steps a host's sequence can start, in its order (run/host-sequence.ts; a rollout's rollback
 * last), as far as the plan says which the host has. A step of the sequence is reached, or ended by
 * its guard without starting, in this order; steps it does not reach are never drawn.
 */
export function plannedSteps(host: HostPlan): Phase[] {
  const secrets = 'never' in host.secrets ? undefined : host.secrets;
  const steps: Phase[] = ['probe'];
  if (!('never' in host.diff)) steps.push('diff');
  if (secrets) steps.push('secrets');
  steps.push('push-keys', 'bootstrap');
  if (secrets?.beforeActivation) steps.push('secrets');
  steps.push('deploy', 'verify');
  if (secrets?.afterActivation) steps.push('secrets');
  if (host.rollback) steps.push('rollback');
  return steps;
}

/** Identity colours for every level, for `color: false`. */
function noColors(): Partial<Record<ListrDefaultRendererLogLevels, LoggerFormat>> {
  const plain: LoggerFormat = (message) => message ?? '';
  return Object.fromEntries(Object.values(ListrDefaultRendererLogLevels).map((level) => [level, plain]));
}

/**
 * Renders a run as a listr2 tree: a task for the build stage, one per planned host (drawn once the
 * host starts) whose subtasks are the host's planned steps, each drawn once the host reaches it,
 * with its newest output line and elapsed time while it runs. Finished hosts collapse to one line
 * with their notes under it; a failed host keeps its steps in view, the failing one last. Events
 * fold into the compact view's state; the tasks wait on that state and draw it. Host failures
 * never stop other tasks.
 */
export class TtyReporter implements Reporter {
  private readonly state: LiveState;
  private readonly now: () => number;
  private readonly changes = new Changes();
  /** What tasks on screen draw from the state on every tick: newest lines, elapsed times, notes. */
  private readonly live = new Set<() => void>();
  private readonly listr: Listr<Ctx, typeof TreeRenderer, typeof TreeRenderer>;
  private readonly terminal: TerminalOutput;
  private running?: Promise<void>;
  private ticker?: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(options: TtyReporterOptions) {
    this.now = options.now ?? Date.now;
    this.state = initialLiveState(options.plan, this.now());
    this.terminal = new TerminalOutput(options.stream as NodeJS.WriteStream);
    const rendererOptions: ListrDefaultRendererOptions = {
      formatOutput: 'truncate',
      collapseSubtasks: true,
      collapseSkips: true,
      collapseErrors: true,
      logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput: this.terminal }),
      // listr2 draws a failed task that has subtasks with its "running" pointer; without colour
      // the two would look alike.
      icon: { [ListrDefaultRendererLogLevels.FAILED_WITH_FAILED_SUBTASKS]: figures.cross },
      ...(options.color === false ? { color: noColors() } : {}),
    };
    const tasks: TaskSpec[] = [];
    if (options.plan.build.chunks.length > 0) tasks.push(this.buildTask());
    for (const host of options.plan.hosts) tasks.push(this.hostTask(host));
    tasks.push(this.waitingTask(), this.noticeTask());
    this.listr = new Listr<Ctx, typeof TreeRenderer, typeof TreeRenderer>(tasks, {
      concurrent: true,
      exitOnError: false,
      // The CLI owns SIGINT (listr2's handler would call process.exit).
      registerSignalListeners: false,
      renderer: TreeRenderer,
      rendererOptions,
      fallbackRenderer: TreeRenderer,
      fallbackRendererCondition: false,
      ctx: {},
    });
  }

  emit(event: RunEvent): void {
    if (this.closed) return;
    this.start();
    applyLiveEvent(this.state, event, this.now());
    const topic = topicOf(event);
    if (topic !== undefined) this.changes.notify(topic);
  }

  async close(): Promise<void> {
    if (this.closed) return this.running;
    this.closed = true;
    this.changes.notifyAll();
    if (this.ticker) clearInterval(this.ticker);
    await this.running;
  }

  /** Starts drawing on the first event, so a run that never starts draws nothing. */
  private start(): void {
    if (this.running) return;
    this.running = this.listr.run().then(
      () => undefined,
      () => undefined,
    );
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref?.();
  }

  private tick(): void {
    for (const draw of this.live) draw();
    this.changes.notify(TICK);
  }

  /** Resolves with what `read` finds in the state, once a change of `topic` lets it find something, or at close with nothing. */
  private async until<T>(topic: Topic, read: () => T | undefined): Promise<T | undefined> {
    for (;;) {
      const found = read();
      if (found !== undefined || this.closed) return found;
      await this.changes.next(topic);
    }
  }

  /**
   * Draws `draw` once the tree has drawn the task that calls it, then on every tick until the
   * returned function is called, which draws it a last time.
   */
  private async follow(draw: () => void): Promise<() => void> {
    await this.terminal.nextFrame();
    draw();
    this.live.add(draw);
    return () => {
      this.live.delete(draw);
      draw();
    };
  }

  private buildTask(): TaskSpec {
    const b = this.state.build;
    return {
      title: NOT_YET,
      task: async (_ctx, task) => {
        if (!(await this.until(BUILD, () => b.startedAt > 0 || undefined))) return;
        let line: string | undefined;
        const stop = await this.follow(() => {
          const count = b.hosts.size > 0 ? `${b.built.size}/${b.hosts.size} built` : '';
          const title = ['build', buildChunksText(b), count].filter(Boolean).join('  ');
          if (task.title !== title) task.title = title;
          if (b.lastLine !== undefined && b.lastLine !== line) task.output = line = b.lastLine;
        });
        await this.until(BUILD, () => b.finishedAt > 0 || undefined);
        stop();
        const took = formatDuration((b.finishedAt || this.now()) - b.startedAt);
        if (b.failed.length === 0) {
          // Fewer built than asked for and no failure: the run was cut short.
          const count =
            b.built.size >= b.hosts.size
              ? `${b.hosts.size} host${b.hosts.size === 1 ? '' : 's'}`
              : `${b.built.size} of ${b.hosts.size} hosts built`;
          task.title = `build  ${count}  ${took}`;
          return;
        }
        const first = b.failed[0];
        const names = b.failed.map((f) => f.host);
        const what =
          b.failed.length === 1 && first
            ? `${first.host}: ${first.reason}`
            : `${names.join(', ')} (${names.length} of ${b.hosts.size} hosts)`;
        throw new Error(`build  FAILED for ${what}  ${took}`);
      },
    };
  }

  private hostTask(plan: HostPlan): TaskSpec {
    const host = this.state.hosts.get(plan.name)!;
    return {
      title: NOT_YET,
      // Notes (TOFU fingerprints, "lost SSH…", the diff) stay under the host line after it collapses.
      rendererOptions: { outputBar: Infinity, persistentOutput: true },
      task: async (_ctx, task) => {
        if (!(await this.until(host.name, () => host.startedAt > 0 || undefined))) return;
        task.title = host.name;
        let shown = 0;
        const stopNotes = await this.follow(() => {
          while (shown < host.notes.length) task.output = host.notes[shown++]!;
        });
        // Which of the host's reached steps the subtasks have taken.
        const taken = { count: 0 };
        const phases = plannedSteps(plan);
        const steps = phases.map((phase, index) => this.stepTask(host, taken, phase, phases.slice(index + 1)));
        return task.newListr([...steps, this.hostEndTask(host, task, stopNotes)], {
          concurrent: false,
          // Only the last (untitled) task throws, so the host fails after its outcome is drawn.
          exitOnError: true,
        });
      },
    };
  }

  /**
   * The step a subtask for `phase` shows: the host's next reached step when it is that phase, or
   * one the plan did not foresee (so that no step goes undrawn); `null` when the host went past
   * `phase` without it, or ended; undefined while the host has not got that far.
   */
  private reachedStep(host: LiveHost, taken: { count: number }, phase: Phase, later: Phase[]): LiveStep | null | undefined {
    const next = host.steps[taken.count];
    if (next) {
      if (next.phase !== phase && later.includes(next.phase)) return null;
      taken.count += 1;
      return next;
    }
    return host.outcome || this.closed ? null : undefined;
  }

  private stepTask(host: LiveHost, taken: { count: number }, phase: Phase, later: Phase[]): TaskSpec {
    return {
      title: NOT_YET,
      exitOnError: false,
      task: async (_ctx, task) => {
        const step = await this.until(host.name, () => this.reachedStep(host, taken, phase, later));
        if (!step) return task.skip();
        // While it runs: its elapsed time and newest line. A step that ended before its subtask got
        // to it (the tree catching up) goes straight to its end.
        if (!step.end) {
          task.title = step.title;
          let line: string | undefined;
          const stop = await this.follow(() => {
            if (step.end) return;
            const title = `${step.title}  ${elapsed(this.now() - step.startedAt)}`;
            if (task.title !== title) task.title = title;
            if (step.lastLine !== undefined && step.lastLine !== line) task.output = line = step.lastLine;
          });
          await this.until(host.name, () => step.end);
          stop();
        }
        const end = step.end;
        if (!end) return task.skip(`${step.title}: skipped — not finished`);
        switch (end.kind) {
          case 'done':
            task.title = `${step.title}${end.detail ? `: ${shortStorePath(end.detail)}` : ''}  ${formatDuration(step.endedAt - step.startedAt)}`;
            return;
          case 'skipped':
            return task.skip(`${step.title}: skipped — ${end.reason}`);
          case 'failed':
            throw new Error(`${step.title}: ${end.reason}`);
          default: {
            const never: never = end;
            throw new Error(`unhandled step end ${JSON.stringify(never)}`);
          }
        }
      },
    };
  }

  /** Untitled last subtask of a host: draws the line the host collapses to, then fails the host if it failed. */
  private hostEndTask(host: LiveHost, hostTask: Wrapper, stopNotes: () => void): TaskSpec {
    return {
      task: async () => {
        const outcome = await this.until(host.name, () => host.outcome);
        stopNotes();
        if (!outcome) {
          const open = openStep(host);
          return hostTask.skip(`${host.name}  not finished${open ? ` (in ${open.title})` : ''}`);
        }
        const line = collapsedHostLine(outcome);
        if (outcome.kind === 'skipped') return hostTask.skip(line);
        hostTask.title = line;
        if (FAILED_OUTCOMES.includes(outcome.kind)) throw new Error(line);
      },
    };
  }

  /**
   * One line for the planned hosts that have not started (a rollout's later waves, hosts beyond
   * `parallel`): `7 hosts waiting`, drawn no more once every host has started.
   */
  private waitingTask(): TaskSpec {
    const waiting = () => [...this.state.hosts.values()].filter((h) => h.startedAt === 0).length;
    const hosts = (n: number) => `${n} host${n === 1 ? '' : 's'}`;
    return {
      title: NOT_YET,
      task: async (_ctx, task) => {
        const stop = await this.follow(() => {
          const title = waiting() > 0 ? `${hosts(waiting())} waiting` : NOT_YET;
          if (task.title !== title) task.title = title;
        });
        await this.until(TICK, () => waiting() === 0 || undefined);
        stop();
        // The run ended before them (a second Ctrl-C): the summary table lists them.
        if (waiting() > 0) task.skip(`${hosts(waiting())} not started`);
      },
    };
  }

  /** Untitled task whose output, the bottom bar, carries the run's notices (the cache, the rollout, Ctrl-C). */
  private noticeTask(): TaskSpec {
    return {
      rendererOptions: { bottomBar: Infinity, persistentOutput: true },
      task: async (_ctx, task) => {
        let shown = 0;
        const stop = await this.follow(() => {
          while (shown < this.state.notices.length) task.output = this.state.notices[shown++]!;
        });
        await this.until(TICK, () => undefined);
        stop();
      },
    };
  }
}
