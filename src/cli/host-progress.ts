// Per-host progress of the operating commands: the live view on a terminal, as `fleet apply` draws
// it (counts, a line per running host); `[host] step: …` lines in CI or with --plain; nothing with
// --json (stdout carries only the result). The runner's events (run/operate-run.ts) drive it.
import type { HostPlan, Plan } from '../plan/index.js';
import type { HostOutcome, OperateEvents, OperatePhase } from '../run/index.js';
import { chooseReporterMode, useColor } from '../ui/choose-mode.js';
import { createReporter } from '../ui/create-reporter.js';
import { runsInCi } from '../ci-environment.js';

export interface HostProgress {
  /** A live view is drawn: anything meant to be read (exec's output) is printed after `close`. */
  readonly live: boolean;
  /** The host's step begins (plain: one `[host] step: title` line). */
  start(host: string, step: OperatePhase, title: string): void;
  /** A line of the step's output: the live view shows the last one; plain mode prints each. */
  line(host: string, step: OperatePhase, text: string): void;
  /** The host is done; plain mode prints `plainLine` when given. */
  done(step: OperatePhase, outcome: HostOutcome, plainLine?: string): void;
  /** Waits for the live view to be drawn for the last time. */
  close(): Promise<void>;
}

/** Writes one progress line, except in --json mode, where stdout carries only the result. */
export function progress(json: boolean): (line: string) => void {
  return json ? () => undefined : (line) => process.stdout.write(`${line}\n`);
}

export interface ProgressOutput {
  json: boolean;
  plain?: boolean;
}

export async function hostProgress(plan: Plan, hosts: readonly HostPlan[], output: ProgressOutput): Promise<HostProgress> {
  const ci = runsInCi(process.env);
  const mode = chooseReporterMode({ isTTY: Boolean(process.stdout.isTTY), ci, json: output.json, forcePlain: output.plain ?? false, term: process.env.TERM });
  const startedAt = new Map<string, number>();

  if (mode !== 'tty') {
    const say = progress(mode === 'json');
    const done = (_step: OperatePhase, _outcome: HostOutcome, plainLine?: string) => plainLine !== undefined && say(plainLine);
    return {
      live: false,
      start: (host, step, title) => say(`[${host}] ${step}: ${title}`),
      line: (host, step, text) => say(`[${host}] ${step}: ${text}`),
      done,
      close: async () => undefined,
    };
  }
  const color = useColor(mode, process.env);
  // The live view of apply, without its build stage: the selected hosts.
  const reporter = await createReporter({ mode, stream: process.stdout, color, plan: { ...plan, hosts: [...hosts], build: { ...plan.build, chunks: [] } } });
  const done = (step: OperatePhase, outcome: HostOutcome) => {
    if (startedAt.has(outcome.host)) {
      const ok = outcome.kind === 'changed' || outcome.kind === 'unchanged';
      reporter.emit(ok ? { type: 'step-done', host: outcome.host, step, detail: outcome.reason } : { type: 'step-failed', host: outcome.host, step, reason: outcome.reason });
    }
    reporter.emit({ type: 'host-done', outcome });
  };
  return {
    live: true,
    start(host, step, title) {
      if (!startedAt.has(host)) reporter.emit({ type: 'host-start', host });
      startedAt.set(host, startedAt.get(host) ?? Date.now());
      reporter.emit({ type: 'step-start', host, step, title });
    },
    line: (host, step, text) => reporter.emit({ type: 'step-line', host, step, line: text }),
    done,
    close: () => reporter.close(),
  };
}

/** What an operating command shows without a live view (CI, --plain); the live view shows it all. */
export interface PlainProgress<T> {
  /** `[host] step: title` when a host starts. */
  starts?: boolean;
  /** `[host] step: line` for each line of output. */
  lines?: boolean;
  /** The line (or lines) printed when a host is done. */
  done?: (host: string, outcome: HostOutcome, result: T) => string | readonly string[] | undefined;
}

/** The runner's events drawn on a view: everything when live, what `plain` asks for otherwise. */
export function viewEvents<T>(view: HostProgress, plain: PlainProgress<T> = {}): OperateEvents<T> {
  if (view.live) {
    return {
      start: (host, step, title) => view.start(host, step, title),
      line: (host, step, text) => view.line(host, step, text),
      done: (_host, step, outcome) => view.done(step, outcome),
    };
  }
  return {
    start: (host, step, title) => plain.starts && view.start(host, step, title),
    line: (host, step, text) => plain.lines && view.line(host, step, text),
    done: (host, step, outcome, result) => {
      const said = plain.done?.(host, outcome, result);
      if (typeof said === 'string') view.done(step, outcome, said);
      else for (const line of said ?? []) view.done(step, outcome, line);
    },
  };
}
