// Runs a plan for a command: reporter by TTY-ness, Ctrl-C handling, consent prompt, report, exit code.
import { writeFileSync } from 'node:fs';
import { consentInTree } from './consent.js';
import { planFromArgs, type ContextArgs } from './context.js';
import { EXIT } from './exit.js';
import type { CommandResult } from './result.js';
import { runPlan, type RunDeps } from '../run/index.js';
import { appendGithubSummary, buildJsonReport, exitCodeFor, formatGithubSummary, formatSummaryTable } from '../report/index.js';
import { chooseReporterMode, createReporter } from '../ui/index.js';

export interface OutputOptions {
  json: boolean;
  plain: boolean;
  reportFile?: string;
}

/** Which part of apply to run: the single-step commands (push-keys, bootstrap, build) narrow it. */
export type StepSelection = Pick<RunDeps, 'onlySteps' | 'buildOnly' | 'forceKeyPush'>;

export async function applyPlan(args: ContextArgs, output: OutputOptions, steps: StepSelection = {}): Promise<CommandResult> {
  const { plan } = await planFromArgs(args);
  const ci = Boolean(process.env.CI);
  const mode = chooseReporterMode({ isTTY: Boolean(process.stdout.isTTY), ci, json: output.json, forcePlain: output.plain });
  const color = process.env.NO_COLOR ? false : Boolean(process.env.FORCE_COLOR) || (mode === 'tty' && !ci);
  const reporter = createReporter({ mode, stream: process.stdout, color, plan });

  // First Ctrl-C: no new step starts, running processes get SIGINT. Second: leave at once.
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    reporter.emit({ type: 'interrupted', second: interrupts > 1 });
    if (interrupts > 1) process.exit(EXIT.interrupted);
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  let result;
  try {
    result = await runPlan(plan, {
      reporter,
      signal: interrupt.signal,
      confirmBootstrap: mode === 'tty' ? consentInTree((event) => reporter.emit(event), interrupt.signal) : undefined,
      ...steps,
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await reporter.close();
  }

  const report = buildJsonReport(plan, result.outcomes, {
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    interrupted: result.interrupted,
    evaluations: result.evaluations,
  });
  const reportText = JSON.stringify(report, null, 2);
  if (output.reportFile) writeFileSync(output.reportFile, `${reportText}\n`);
  if (process.env.GITHUB_STEP_SUMMARY) appendGithubSummary(process.env.GITHUB_STEP_SUMMARY, formatGithubSummary(result.outcomes));

  const exitCode = exitCodeFor(result.outcomes, { interrupted: result.interrupted });
  if (output.json) return { exitCode, stdout: [reportText] };
  process.stdout.write(`\n${formatSummaryTable(result.outcomes).join('\n')}\n`);
  return { exitCode };
}
