// listr2's default renderer on the terminal fleet draws on: any stream fleet calls a terminal, its
// size read live (80×24 when it says 0×0), stray writes held so they never tear the tree.
import { Writable } from 'node:stream';
import {
  DefaultRenderer,
  ProcessOutput,
  type ListrDefaultRendererOptions,
  type ListrDefaultRendererTask,
  type ListrEventManager,
} from 'listr2';

/**
 * The size assumed for a terminal that reports none. A pseudo-terminal nobody sized (under
 * `script`, `ssh -t` fed from a pipe, some CI runners) says 0×0, and drawing to that size shows
 * nothing: listr2 cuts every line to zero columns and log-update keeps zero rows of each frame.
 */
const FALLBACK_COLUMNS = 80;
const FALLBACK_ROWS = 24;
/** The shortest time between two frames of the tree. */
const FRAME_MS = 50;

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
export class TerminalOutput extends ProcessOutput {
  private readonly view: NodeJS.WriteStream;
  /** Who waits for the next frame drawn. */
  private readonly frameWaiters: (() => void)[] = [];

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

  /**
   * Resolves once the tree has drawn its next frame (or ended). listr2 routes a task's output to
   * its bar from the first frame that draws the task on; output given before is lost. A task that
   * started waits for this before it writes output.
   */
  nextFrame(): Promise<void> {
    return new Promise((resolve) => this.frameWaiters.push(resolve));
  }

  /** The renderer drew a frame, or ended. */
  framed(): void {
    for (const resolve of this.frameWaiters.splice(0)) resolve();
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
export class TreeRenderer extends DefaultRenderer {
  static override nonTTY = true;
  private readonly terminal?: TerminalOutput;
  /** A redraw asked for and not yet made. */
  private redraw?: ReturnType<typeof setTimeout>;

  constructor(tasks: ListrDefaultRendererTask[], options: ListrDefaultRendererOptions, events: ListrEventManager) {
    super(tasks, options, events);
    const output = options.logger?.process;
    if (output instanceof TerminalOutput) this.terminal = output;
  }

  /**
   * Redraws at most once per FRAME_MS. listr2 redraws the whole tree whenever any task's title,
   * output or state changes, so a fleet of N hosts cost N² line renders (300 hosts took minutes of
   * CPU). The spinner's own redraws come through here too.
   */
  override update(): void {
    this.redraw ??= setTimeout(() => {
      this.redraw = undefined;
      super.update();
      this.terminal?.framed();
    }, FRAME_MS);
  }

  override end(): void {
    clearTimeout(this.redraw);
    this.redraw = undefined;
    super.end();
    this.terminal?.framed();
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
