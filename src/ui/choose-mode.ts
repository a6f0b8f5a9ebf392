// Which renderer a run gets: the live view on an interactive terminal, plain lines elsewhere, or JSON.
import { runsInCi } from '../ci-environment.js';

/** How progress is shown. */
export type ReporterMode = 'tty' | 'plain' | 'json';

/** What the CLI knows when it picks a renderer. */
export interface ModeInputs {
  /** stdout is a terminal. */
  isTTY: boolean;
  /** Running in CI (`runsInCi`: `CI` and friends; `CI=false` is not CI). */
  ci: boolean;
  /** `--json`: stdout carries only the final report. */
  json: boolean;
  /** `--plain`. */
  forcePlain?: boolean;
  /** `$TERM`: a `dumb` terminal cannot move its cursor, so it gets plain lines. */
  term?: string;
}

/**
 * Picks the reporter mode. Pure. `--json` wins (nothing but the final report on stdout);
 * then a terminal outside CI gets the live view (or with `--verbose` the step tree), unless
 * `--plain` or `TERM=dumb`; everything else gets plain prefixed lines.
 */
export function chooseReporterMode(inputs: ModeInputs): ReporterMode {
  if (inputs.json) return 'json';
  if (inputs.forcePlain || inputs.term === 'dumb') return 'plain';
  return inputs.isTTY && !inputs.ci ? 'tty' : 'plain';
}

/**
 * Whether output is coloured, for every command alike: never with NO_COLOR, always with
 * FORCE_COLOR, else only on the live view of an interactive terminal outside CI.
 */
export function useColor(mode: ReporterMode, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return true;
  return mode === 'tty' && !runsInCi(env);
}
