// Builds the Reporter for a mode: the compact live view (or with --verbose the step tree), plain
// lines, or silence for --json. The terminal views (listr2, string-width) are loaded only when a
// terminal draws one: CI logs and --json never pay for them.
import type { Plan } from '../plan/types.js';
import type { Reporter } from '../run/events.js';
import type { ReporterMode } from './choose-mode.js';
import { PlainReporter } from './plain-reporter.js';

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

/** Makes reporters of one mode, synchronously (a view replaced mid-run). */
export type MakeReporter = (options: Omit<ReporterOptions, 'mode' | 'verbose'>) => Reporter;

/** Renders nothing; with `--json` the CLI prints the report when the run ends. */
class SilentReporter implements Reporter {
  emit(): void {}
  async close(): Promise<void> {}
}

/** A reporter that draws nothing (the run goes on, nobody watches it). */
export function silentReporter(): Reporter {
  return new SilentReporter();
}

/** The maker of a mode's reporters, with what it draws with loaded. Only `close()` waits; `emit()` never throws for a well-formed event. */
export async function reporterMaker(mode: ReporterMode, verbose = false): Promise<MakeReporter> {
  const plain: MakeReporter = (o) => new PlainReporter(o.stream, { color: o.color ?? false });
  switch (mode) {
    case 'json':
      return silentReporter;
    case 'plain':
      return plain;
    case 'tty': {
      if (verbose) {
        const { TtyReporter } = await import('./tty-reporter.js');
        return (o) => (o.plan ? new TtyReporter({ stream: o.stream, plan: o.plan, color: o.color ?? false }) : plain(o));
      }
      const { LiveReporter } = await import('./live-reporter.js');
      return (o) => (o.plan ? new LiveReporter({ stream: o.stream, plan: o.plan, color: o.color ?? false }) : plain(o));
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown reporter mode ${String(never)}`);
    }
  }
}

/** The reporter for a mode. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  return (await reporterMaker(options.mode, options.verbose ?? false))(options);
}
