// Builds the Reporter for a mode: the compact live view (or with --verbose the step tree), plain
// lines, or silence for --json.
import type { Plan } from '../plan/types.js';
import type { Reporter } from '../run/events.js';
import type { ReporterMode } from './choose-mode.js';
import { LiveReporter } from './live-reporter.js';
import { PlainReporter } from './plain-reporter.js';
import { TtyReporter } from './tty-reporter.js';

/** What a reporter needs. */
export interface ReporterOptions {
  mode: ReporterMode;
  /** Where progress goes (stdout). */
  stream: NodeJS.WritableStream;
  /** ANSI colour; the CLI decides from the stream, `FORCE_COLOR` and `NO_COLOR`. Default false. */
  color?: boolean;
  /** The plan being run; the tree needs it to lay out hosts (without it, tty mode draws plain lines). */
  plan?: Plan;
  /** On a terminal: the per-step tree of every host (`--verbose`) instead of one line per running host. */
  verbose?: boolean;
}

/** Renders nothing; with `--json` the CLI prints the report when the run ends. */
class SilentReporter implements Reporter {
  emit(): void {}
  async close(): Promise<void> {}
}

/** The reporter for a mode. Only `close()` waits; `emit()` never throws for a well-formed event. */
export function createReporter(options: ReporterOptions): Reporter {
  switch (options.mode) {
    case 'json':
      return new SilentReporter();
    case 'plain':
      return new PlainReporter(options.stream, { color: options.color ?? false });
    case 'tty':
      if (!options.plan) return new PlainReporter(options.stream, { color: options.color ?? false });
      return options.verbose
        ? new TtyReporter({ stream: options.stream, plan: options.plan, color: options.color ?? false })
        : new LiveReporter({ stream: options.stream, plan: options.plan, color: options.color ?? false });
    default: {
      const never: never = options.mode;
      throw new Error(`unknown reporter mode ${String(never)}`);
    }
  }
}
