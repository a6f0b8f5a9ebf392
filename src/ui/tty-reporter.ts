// The live tree on a terminal: listr2 tasks for the build stage and each host, fed by pushed RunEvents.
import { Writable } from 'node:stream';
import {
  DefaultRenderer,
  figures,
  Listr,
  ListrDefaultRendererLogLevels,
  ListrLogger,
  ProcessOutput,
  type ListrDefaultRendererOptions,
  type ListrDefaultRendererTask,
  type ListrEventManager,
  type ListrTask,
  type ListrTaskWrapper,
  type LoggerFormat,
} from 'listr2';
import type { Plan } from '../plan/types.js';
import { evalCacheText, rolloutText } from './plain-reporter.js';
import { describeOutcome, diffSummary, formatDiffLines, formatDuration, outcomeDuration, shortStorePath } from '../report/index.js';
import {
  FAILED_OUTCOMES,
  type HostOutcome,
  type Phase,
  type Reporter,
  type RunEvent,
} from '../run/events.js';

/**
 * The size assumed for a terminal that reports none. A pseudo-terminal nobody sized (under
 * `script`, `ssh -t` fed from a pipe, some CI runners) says 0×0, and drawing to that size shows
 * nothing: listr2 cuts every line to zero columns and log-update keeps zero rows of each frame.
 */
const FALLBACK_COLUMNS = 80;
const FALLBACK_ROWS = 24;

/**
 * listr2's process output for the one terminal the tree is drawn on.
 *
 * While drawing, listr2 replaces the terminal's `write` so that stray writes are held and
 * printed under the final tree instead of tearing the frame; only that stream is taken. Stderr
 * stays fleet's: the bootstrap consent prompt is asked there mid-run, and a held prompt would
 * never be seen (listr2 needs a stderr to hold, so it gets one nobody writes to).
 *
 * log-update draws on `stdout`: here a view whose size is read live and never 0, where listr2's
 * own view is a copy of the stream's fields taken once (stale after a resize, 0×0 when unsized).
 */
class TerminalOutput extends ProcessOutput {
  private readonly view: NodeJS.WriteStream;

  constructor(terminal: NodeJS.WriteStream) {
    super(terminal, new Writable({ write: (_chunk, _encoding, done) => done() }) as NodeJS.WriteStream);
    // Writes past the hold: listr2 kept the terminal's own `write` before replacing it.
    const direct = this.stream.stdout;
    this.view = {
      isTTY: true,
      get columns() {
        return terminal.columns || FALLBACK_COLUMNS;
      },
      get rows() {
        return terminal.rows || FALLBACK_ROWS;
      },
      write: (...args: Parameters<NodeJS.WriteStream['write']>) => direct.write(...args),
    } as unknown as NodeJS.WriteStream;
  }

  /** The width lines are fitted to. */
  get columns(): number {
    return this.view.columns;
  }

  override get stdout(): NodeJS.WriteStream {
    return this.view;
  }
}

/**
 * Runs `fit` while `process.stdout.columns` reads `columns`, then puts the property back. The
 * swap is synchronous, so no other code can see it.
 */
function withStdoutColumns<T>(columns: number, fit: () => T): T {
  const stdout = process.stdout;
  const own = Object.getOwnPropertyDescriptor(stdout, 'columns');
  Object.defineProperty(stdout, 'columns', { value: columns, writable: true, configurable: true, enumerable: true });
  try {
    return fit();
  } finally {
    if (own) Object.defineProperty(stdout, 'columns', own);
    else delete (stdout as { columns?: number }).columns;
  }
}

/**
 * listr2's default renderer, allowed on any stream: fleet decides TTY-ness itself (see
 * `chooseReporterMode`) from the stream it writes to, while listr2 would look at
 * `process.stdout` and silently switch renderers.
 */
class TreeRenderer extends DefaultRenderer {
  static override nonTTY = true;
  private readonly terminal?: TerminalOutput;

  constructor(tasks: ListrDefaultRendererTask[], options: ListrDefaultRendererOptions, events: ListrEventManager) {
    super(tasks, options, events);
    const output = options.logger?.process;
    if (output instanceof TerminalOutput) this.terminal = output;
  }

  /**
   * listr2 fits lines to `process.stdout.columns` (80 when absent) whatever stream it draws on,
   * and an unsized terminal says 0 there; lines are fitted to the terminal drawn on instead.
   */
  protected override format(message: string, icon: string, level: number): string[] {
    const columns = this.terminal?.columns;
    if (columns === undefined || process.stdout.columns === columns) return super.format(message, icon, level);
    return withStdoutColumns(columns, () => super.format(message, icon, level));
  }
}

type Ctx = Record<string, never>;
type Wrapper = ListrTaskWrapper<Ctx, typeof TreeRenderer, typeof TreeRenderer>;
type TaskSpec = ListrTask<Ctx, typeof TreeRenderer, typeof TreeRenderer>;

/** Steps one host can show; later ones (not expected: there are six phases) are not drawn. */
const STEP_SLOTS = 16;
/**
 * How often output lines and elapsed times reach the screen. listr2 redraws the whole tree on
 * every change; a chatty `nix copy` on many hosts would otherwise redraw it per line.
 */
const TICK_MS = 100;

/** A one-shot value that tasks wait on and events settle; later settles are ignored. */
class Signal<T> {
  settled = false;
  value: T | undefined;
  readonly promise: Promise<T>;
  private resolveFn!: (value: T) => void;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolveFn = resolve;
    });
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.value = value;
    this.resolveFn(value);
  }
}

/**
 * An `enabled` callback that keeps a task out of the tree until its signal says it happened.
 * listr2 evaluates `enabled` once when its list starts and again just before the task runs
 * (documented): the first answer must not block the list, so it is the current state; the
 * second one waits.
 */
function revealWhen(signal: Signal<boolean>, beforeReveal?: () => void): () => boolean | Promise<boolean> {
  let asked = 0;
  const reveal = (shown: boolean) => {
    if (shown) beforeReveal?.();
    return shown;
  };
  return () => {
    asked += 1;
    if (signal.settled) return reveal(signal.value === true);
    if (asked === 1) return false;
    return signal.promise.then(reveal);
  };
}

type StepEnd =
  | { kind: 'done'; detail: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'failed'; reason: string };

/** One step of one host, drawn as a subtask while it runs. */
interface StepView {
  index: number;
  phase?: Phase;
  title: string;
  startedAt: number;
  assigned: Signal<boolean>;
  end: Signal<StepEnd>;
  wrapper?: Wrapper;
  lastLine?: string;
  /** lastLine has not been drawn yet. */
  lineDirty?: boolean;
  /** The elapsed time last drawn in the title. */
  shownElapsed?: string;
}

interface HostView {
  name: string;
  begun: Signal<boolean>;
  done: Signal<HostOutcome | undefined>;
  slots: StepView[];
  next: number;
  open?: StepView;
  wrapper?: Wrapper;
  sub?: Listr<Ctx, typeof TreeRenderer, typeof TreeRenderer>;
  notes: string[];
}

interface BuildView {
  begun: Signal<boolean>;
  end: Signal<void>;
  hosts: Set<string>;
  built: Set<string>;
  failures: { host: string; reason: string }[];
  progress: string;
  /** Outputs each planned host still waits for; the build ends when no host waits (hosts deploy meanwhile). */
  pending: Map<string, Set<string>>;
  /** Chunks started (1-based) and their hosts, for the title while several evaluate at once. */
  started: Map<number, string[]>;
  chunks?: number;
  lastLine?: string;
  lineDirty?: boolean;
  startedAt: number;
  wrapper?: Wrapper;
}

/** Options of the live tree. */
export interface TtyReporterOptions {
  stream: NodeJS.WritableStream;
  plan: Plan;
  /** false: no ANSI colour in icons (layout escapes are still written; this is a terminal). */
  color?: boolean;
}

/** Seconds while a step runs: `7s`, then `1m05s`. */
function elapsed(ms: number): string {
  return ms < 60_000 ? `${Math.floor(Math.max(0, ms) / 1000)}s` : formatDuration(ms);
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

/** Identity colours for every level, for `color: false`. */
function noColors(): Partial<Record<ListrDefaultRendererLogLevels, LoggerFormat>> {
  const plain: LoggerFormat = (message) => message ?? '';
  return Object.fromEntries(Object.values(ListrDefaultRendererLogLevels).map((level) => [level, plain]));
}

/**
 * Renders a run as a listr2 tree: a task for the build stage, one per host (shown once the
 * host starts), and under each host its current step with the last output line and elapsed
 * time. Finished hosts collapse to one line; a failed host keeps its steps visible so the
 * failing one is in view. Host failures never stop other tasks.
 */
export class TtyReporter implements Reporter {
  private readonly build: BuildView;
  private readonly hosts = new Map<string, HostView>();
  /** The bottom bar: the interrupt notice and the rollout's progress (waves, pauses, a stop), as lines that stay. */
  private readonly notices = { lines: [] as string[], wrapper: undefined as Wrapper | undefined };
  private readonly finished = new Signal<void>();
  private readonly listr: Listr<Ctx, typeof TreeRenderer, typeof TreeRenderer>;
  private running?: Promise<void>;
  private ticker?: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(options: TtyReporterOptions) {
    this.build = {
      begun: new Signal(),
      end: new Signal(),
      hosts: new Set(),
      built: new Set(),
      failures: [],
      progress: '',
      pending: new Map(),
      started: new Map(),
      startedAt: 0,
    };
    for (const chunk of options.plan.build.chunks) {
      for (const a of chunk.attributes) {
        const outputs = this.build.pending.get(a.host) ?? new Set<string>();
        outputs.add(a.output);
        this.build.pending.set(a.host, outputs);
      }
    }
    for (const host of options.plan.hosts) this.hosts.set(host.name, this.newHostView(host.name));

    const stream = options.stream as NodeJS.WriteStream;
    const rendererOptions: ListrDefaultRendererOptions = {
      formatOutput: 'truncate',
      collapseSubtasks: true,
      collapseSkips: true,
      collapseErrors: true,
      logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput: new TerminalOutput(stream) }),
      // listr2 draws a failed task that has subtasks with its "running" pointer; without colour
      // the two would look alike.
      icon: { [ListrDefaultRendererLogLevels.FAILED_WITH_FAILED_SUBTASKS]: figures.cross },
      ...(options.color === false ? { color: noColors() } : {}),
    };
    const tasks: TaskSpec[] = [];
    if (options.plan.build.chunks.length > 0) tasks.push(this.buildTask());
    for (const host of this.hosts.values()) tasks.push(this.hostTask(host));
    tasks.push(this.noticeTask());
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
    switch (event.type) {
      case 'build-cached':
        // Hosts the cache answered are not part of the build task: one line says so, and stays.
        this.notice(evalCacheText(event.hosts, event.evaluating));
        return;
      case 'build-start': {
        const b = this.build;
        if (!b.begun.settled) b.startedAt = Date.now();
        b.begun.resolve(true);
        for (const h of event.hosts) b.hosts.add(h);
        b.started.set(event.chunk, event.hosts);
        this.refreshProgress(event.chunks);
        this.refreshBuildTitle();
        return;
      }
      case 'build-line':
        this.build.lastLine = event.line;
        this.build.lineDirty = true;
        return;
      case 'build-done':
        if (event.output === 'toplevel') this.build.built.add(event.host);
        this.settleBuild(event.host, event.output);
        this.refreshBuildTitle();
        return;
      case 'build-failed':
        this.build.failures.push({ host: event.host, reason: event.reason });
        this.settleBuild(event.host);
        return;
      case 'host-start':
        this.hostOf(event.host);
        return;
      case 'step-start': {
        const host = this.hostOf(event.host);
        if (!host) return;
        this.endOpenStep(host, { kind: 'done', detail: '' });
        const slot = this.takeSlot(host, event.step, event.title || event.step);
        if (slot) host.open = slot;
        return;
      }
      case 'step-line': {
        const slot = this.hostOf(event.host)?.open;
        if (!slot || slot.phase !== event.step || event.quiet) return;
        slot.lastLine = event.line;
        slot.lineDirty = true;
        return;
      }
      case 'step-progress':
        // The step's output line (nix's own `copying path …`) already moves; the tree keeps to it.
        return;
      case 'step-skip':
        this.finishStep(event.host, event.step, { kind: 'skip', reason: event.reason });
        return;
      case 'step-done':
        this.finishStep(event.host, event.step, { kind: 'done', detail: event.detail });
        return;
      case 'step-failed':
        this.finishStep(event.host, event.step, { kind: 'failed', reason: event.reason });
        return;
      case 'host-note': {
        const host = this.hostOf(event.host);
        if (!host) return;
        const note = event.level === 'warn' ? `! ${event.message}` : event.message;
        host.notes.push(note);
        if (host.wrapper) host.wrapper.output = note;
        return;
      }
      case 'host-diff': {
        // Kept under the host, as its notes are: the diff stays in view after the host collapses.
        const host = this.hostOf(event.host);
        if (!host) return;
        for (const line of [`diff: ${diffSummary(event.diff)}`, ...formatDiffLines(event.diff).map((l) => `  ${l}`)]) {
          host.notes.push(line);
          if (host.wrapper) host.wrapper.output = line;
        }
        return;
      }
      case 'host-done': {
        const host = this.hostOf(event.outcome.host);
        if (!host) return;
        this.endHost(host, event.outcome);
        return;
      }
      case 'interrupted':
        this.notice(
          event.second
            ? 'interrupted again — leaving now'
            : 'interrupted — running steps are stopped, no new step starts; Ctrl-C again leaves at once',
        );
        return;
      case 'wave-start':
      case 'wave-pause':
      case 'rollout-stopped':
        this.notice(rolloutText(event));
        return;
      default: {
        const never: never = event;
        throw new Error(`unhandled run event ${JSON.stringify(never)}`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return this.running;
    this.closed = true;
    this.endBuild();
    for (const host of this.hosts.values()) this.endHost(host, undefined);
    this.finished.resolve();
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

  private newHostView(name: string): HostView {
    const slots: StepView[] = [];
    for (let index = 0; index < STEP_SLOTS; index++) {
      slots.push({ index, title: '', startedAt: 0, assigned: new Signal(), end: new Signal() });
    }
    return { name, begun: new Signal(), done: new Signal(), slots, next: 0, notes: [] };
  }

  /**
   * A host seen in an event, now shown. Hosts start as soon as their own system is built, while
   * other chunks may still build: the build task ends when every planned host is built or failed
   * (or at close). Hosts the plan does not know are not drawn (the summary lists them).
   */
  private hostOf(name: string): HostView | undefined {
    const host = this.hosts.get(name);
    if (!host) return undefined;
    host.begun.resolve(true);
    return host;
  }

  private takeSlot(host: HostView, phase: Phase, title: string): StepView | undefined {
    const slot = host.slots[host.next];
    if (!slot) return undefined;
    host.next += 1;
    slot.phase = phase;
    slot.title = title;
    slot.startedAt = Date.now();
    slot.assigned.resolve(true);
    return slot;
  }

  private finishStep(hostName: string, phase: Phase, end: StepEnd): void {
    const host = this.hostOf(hostName);
    if (!host) return;
    if (host.open && host.open.phase === phase) {
      this.endOpenStep(host, end);
      return;
    }
    // A step that ends without having started (e.g. skipped by its guard) still gets its line.
    this.endOpenStep(host, { kind: 'done', detail: '' });
    this.takeSlot(host, phase, phase)?.end.resolve(end);
  }

  private endOpenStep(host: HostView, end: StepEnd): void {
    host.open?.end.resolve(end);
    host.open = undefined;
  }

  private endHost(host: HostView, outcome: HostOutcome | undefined): void {
    this.endOpenStep(host, outcome ? { kind: 'done', detail: '' } : { kind: 'skip', reason: 'not finished' });
    for (const slot of host.slots) slot.assigned.resolve(false);
    if (outcome) host.begun.resolve(true);
    else host.begun.resolve(false);
    host.done.resolve(outcome);
  }

  private endBuild(): void {
    if (this.build.end.settled) return;
    this.build.begun.resolve(false);
    this.build.end.resolve();
  }

  /** A host's output is built (or, without `output`, its build failed); the last one ends the build task. */
  private settleBuild(host: string, output?: string): void {
    const b = this.build;
    const outputs = b.pending.get(host);
    if (outputs && output !== undefined) outputs.delete(output);
    if (!outputs || output === undefined || outputs.size === 0) b.pending.delete(host);
    if (b.pending.size === 0) this.endBuild();
    else this.refreshProgress();
  }

  /** `chunk 2/3: a, b`, or with several evaluating at once `chunks 2, 3 of 3`. */
  private refreshProgress(chunks?: number): void {
    const b = this.build;
    if (chunks !== undefined) b.chunks = chunks;
    const running = [...b.started].filter(([, hosts]) => hosts.some((h) => b.pending.has(h)));
    if (running.length === 0) return;
    const total = b.chunks ?? 1;
    if (running.length === 1) {
      const [chunk, hosts] = running[0]!;
      b.progress = `${total > 1 ? `chunk ${chunk}/${total}: ` : ''}${hosts.join(', ')}`;
    } else b.progress = `chunks ${running.map(([c]) => c).join(', ')} of ${total}`;
  }

  private refreshBuildTitle(): void {
    if (this.build.wrapper) this.build.wrapper.title = this.buildRunningTitle();
  }

  private buildRunningTitle(): string {
    const b = this.build;
    const count = b.hosts.size > 0 ? `  ${b.built.size}/${b.hosts.size} built` : '';
    return `build  ${b.progress}${count}`;
  }

  /** Draws the newest output line of the build and of each running step, and their elapsed time. */
  private tick(): void {
    const b = this.build;
    if (b.wrapper && b.lineDirty && b.lastLine !== undefined) {
      b.wrapper.output = b.lastLine;
      b.lineDirty = false;
    }
    const now = Date.now();
    for (const host of this.hosts.values()) {
      const slot = host.open;
      if (!slot?.wrapper) continue;
      if (slot.lineDirty && slot.lastLine !== undefined) {
        slot.wrapper.output = slot.lastLine;
        slot.lineDirty = false;
      }
      const shown = elapsed(now - slot.startedAt);
      if (shown !== slot.shownElapsed) {
        slot.shownElapsed = shown;
        slot.wrapper.title = `${slot.title}  ${shown}`;
      }
    }
  }

  private buildTask(): TaskSpec {
    const b = this.build;
    return {
      title: 'build',
      enabled: revealWhen(b.begun),
      task: async (_ctx, task) => {
        b.wrapper = task;
        task.title = this.buildRunningTitle();
        if (b.lastLine !== undefined) task.output = b.lastLine;
        b.lineDirty = false;
        await b.end.promise;
        b.wrapper = undefined;
        const took = formatDuration(Date.now() - b.startedAt);
        if (b.failures.length === 0) {
          // Fewer built than asked for and no failure: the run was cut short.
          const count =
            b.built.size >= b.hosts.size
              ? `${b.hosts.size} host${b.hosts.size === 1 ? '' : 's'}`
              : `${b.built.size} of ${b.hosts.size} hosts built`;
          task.title = `build  ${count}  ${took}`;
          return;
        }
        const first = b.failures[0];
        const names = b.failures.map((f) => f.host);
        const what =
          b.failures.length === 1 && first
            ? `${first.host}: ${first.reason}`
            : `${names.join(', ')} (${names.length} of ${b.hosts.size} hosts)`;
        throw new Error(`build  FAILED for ${what}  ${took}`);
      },
    };
  }

  private hostTask(host: HostView): TaskSpec {
    return {
      title: host.name,
      enabled: revealWhen(host.begun),
      // Notes (TOFU fingerprints, "lost SSH…") stay under the host line after it collapses.
      rendererOptions: { outputBar: Infinity, persistentOutput: true },
      task: (_ctx, task) => {
        host.wrapper = task;
        for (const note of host.notes) task.output = note;
        const slots = host.slots.map((slot) => this.stepTask(host, slot));
        host.sub = task.newListr([...slots, this.hostEndTask(host)], {
          concurrent: false,
          // Only the final (hidden) task throws, so the host fails after its outcome is drawn.
          exitOnError: true,
        });
        return host.sub;
      },
    };
  }

  private stepTask(host: HostView, slot: StepView): TaskSpec {
    return {
      // Replaced before the slot is shown; listr2 must see a title from the start, or it
      // routes the task's output to the bottom bar.
      title: 'step',
      exitOnError: false,
      enabled: revealWhen(slot.assigned, () => {
        const item = host.sub?.tasks[slot.index];
        if (item) item.title$ = slot.title;
      }),
      task: async (_ctx, task) => {
        slot.wrapper = task;
        task.title = slot.title;
        if (slot.lastLine !== undefined) task.output = slot.lastLine;
        slot.lineDirty = false;
        const end = await slot.end.promise;
        slot.wrapper = undefined;
        const took = formatDuration(Date.now() - slot.startedAt);
        switch (end.kind) {
          case 'done':
            task.title = `${slot.title}${end.detail ? `: ${shortStorePath(end.detail)}` : ''}  ${took}`;
            return;
          case 'skip':
            task.skip(`${slot.title}: skipped — ${end.reason}`);
            return;
          case 'failed':
            throw new Error(`${slot.title}: ${end.reason}`);
          default: {
            const never: never = end;
            throw new Error(`unhandled step end ${JSON.stringify(never)}`);
          }
        }
      },
    };
  }

  /** Hidden last subtask of a host: draws the collapsed line, then fails the host if it failed. */
  private hostEndTask(host: HostView): TaskSpec {
    return {
      task: async () => {
        const outcome = await host.done.promise;
        const wrapper = host.wrapper;
        if (!outcome || !wrapper) return;
        const line = collapsedHostLine(outcome);
        if (outcome.kind === 'skipped') {
          wrapper.skip(line);
          return;
        }
        wrapper.title = line;
        if (FAILED_OUTCOMES.includes(outcome.kind)) throw new Error(line);
      },
    };
  }

  private notice(line: string): void {
    this.notices.lines.push(line);
    if (this.notices.wrapper) this.notices.wrapper.output = line;
  }

  /** Hidden task whose output (the bottom bar) carries the notices. */
  private noticeTask(): TaskSpec {
    return {
      rendererOptions: { bottomBar: Infinity, persistentOutput: true },
      task: async (_ctx, task) => {
        this.notices.wrapper = task;
        for (const line of this.notices.lines) task.output = line;
        await this.finished.promise;
        this.notices.wrapper = undefined;
      },
    };
  }
}
