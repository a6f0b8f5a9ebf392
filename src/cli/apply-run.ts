// Runs a plan for a command: reporter by TTY-ness, Ctrl-C handling, consent prompt, report, exit code.
import { appendFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { consentInTree } from './consent.js';
import { confirmAtTerminal, requireTerminalForConfirm, SwitchableReporter } from './confirm.js';
import { planFromArgs, type ContextArgs } from './context.js';
import { EXIT } from './exit.js';
import type { CommandResult } from './result.js';
import type { Plan, StepScope } from '../plan/index.js';
import { runPlan, type HostOutcome, type Phase, type Reporter, type RunEvent } from '../run/index.js';
import { appendGithubSummary, buildJsonReport, exitCodeFor, formatDiffBlock, formatGithubSummary, formatSummaryTable, reportCommand, TAIL_LINES } from '../report/index.js';
import { keepLastRun, lastRunPath } from './retry-failed.js';
import { runsInCi } from '../ci-environment.js';
import { chooseReporterMode, useColor } from '../ui/choose-mode.js';
import { reporterMaker, silentReporter } from '../ui/create-reporter.js';
import { interruptSignal } from './interrupt.js';
import { askAgainOnTerminal, execWithSudoPassword } from './sudo-password.js';
import type { AskPasswordAgain } from '../backends/index.js';

export interface OutputOptions {
  json: boolean;
  plain: boolean;
  /** On a terminal: the per-step tree instead of one line per running host. */
  verbose?: boolean;
  reportFile?: string;
}

/** Which part of apply to run: the single-step commands (push-keys, bootstrap, build) narrow it. */
export type StepSelection = Partial<StepScope>;

/** What a run leaves behind for whoever reads it after the process is gone (CI, scripts). */
interface RunRecord {
  outcomes: readonly HostOutcome[];
  interrupted: boolean;
  startedAt: number;
  finishedAt: number;
  evaluations: number;
  evaluatedHosts?: number;
  cachedHosts?: number;
}

export async function applyPlan(args: ContextArgs, output: OutputOptions, steps: StepSelection = {}): Promise<CommandResult> {
  if (args.diff === 'confirm') requireTerminalForConfirm();
  const { plan } = await planFromArgs({ ...args, scope: steps });
  // Asked before the view is drawn and before anything runs; asked again (per host) inside the run.
  let askAgain: AskPasswordAgain | undefined;
  const exec = await execWithSudoPassword(plan.hosts, undefined, (subject) => askAgain?.(subject) ?? Promise.resolve(undefined));
  const ci = runsInCi(process.env);
  const mode = chooseReporterMode({ isTTY: Boolean(process.stdout.isTTY), ci, json: output.json, forcePlain: output.plain, term: process.env.TERM });
  const color = useColor(mode, process.env);
  const makeReporter = await reporterMaker(mode, output.verbose ?? false);
  const view = new SwitchableReporter(makeReporter({ stream: process.stdout, color, plan }));
  const progress = trackProgress(plan, view);
  const reporter = progress.reporter;
  const title = commandTitle(steps);
  const startedAt = Date.now();

  // First Ctrl-C: no new step starts, running processes get SIGINT. Second (or the SIGTERM a CI
  // runner sends after its SIGINT): leave at once, but not without the report and step summary.
  const interrupt = interruptSignal({
    first: () => reporter.emit({ type: 'interrupted', second: false }),
    second: () => {
      reporter.emit({ type: 'interrupted', second: true });
      const outcomes = progress.outcomesSoFar('fleet left on a second interrupt while this step ran');
      writeRecordSync(plan, output, title, { outcomes, interrupted: true, startedAt, finishedAt: Date.now(), evaluations: 0 });
    },
  });

  askAgain = askAgainOnTerminal(plan.hosts, interrupt.signal, mode === 'tty' ? (host, line) => reporter.emit({ type: 'step-line', host, step: 'probe', line }) : undefined);
  let result;
  try {
    result = await runPlan(plan, {
      exec,
      reporter,
      signal: interrupt.signal,
      confirmBootstrap: mode === 'tty' ? consentInTree((event) => reporter.emit(event), interrupt.signal) : undefined,
      confirmApply:
        args.diff === 'confirm'
          ? confirmAtTerminal({
              out: output.json ? process.stderr : process.stdout,
              signal: interrupt.signal,
              force: plan.force,
              // The live view is closed while the question waits; a new one shows the hosts that go on.
              before: mode === 'tty' ? () => view.setAside() : undefined,
              after:
                mode === 'tty'
                  ? (yes, arrivals) => {
                      // No: every host ends skipped, which the summary table says; nothing to draw.
                      if (!yes) return view.replace(silentReporter());
                      const going = new Set(arrivals.map((a) => a.host));
                      const rest: Plan = { ...plan, hosts: plan.hosts.filter((h) => going.has(h.name)), build: { ...plan.build, chunks: [] } };
                      view.replace(makeReporter({ stream: process.stdout, color, plan: rest }));
                    }
                  : undefined,
            })
          : undefined,
    });
  } catch (error) {
    // An internal error still leaves a record of the hosts that got somewhere; main reports the error.
    const why = `fleet stopped on an internal error: ${error instanceof Error ? error.message : String(error)}`;
    await writeRecord(plan, output, title, { outcomes: progress.outcomesSoFar(why), interrupted: interrupt.signal.aborted, startedAt, finishedAt: Date.now(), evaluations: 0 }).catch(() => undefined);
    throw error;
  } finally {
    interrupt.dispose();
    await reporter.close();
  }

  const { reportText, problems } = await writeRecord(plan, output, title, result);
  let exitCode = exitCodeFor(result.outcomes, { interrupted: result.interrupted });
  for (const problem of problems) process.stderr.write(`fleet: ${problem.message}\n`);
  // A job that uploads the report must not go green without it.
  if (problems.some((p) => p.file === 'report') && exitCode === EXIT.ok) exitCode = EXIT.hostFailure;
  if (output.json) return { exitCode, stdout: [reportText] };
  if (args.diff === 'report') {
    process.stdout.write(`\n${diffReport(plan, result.outcomes).join('\n')}\n`);
    return { exitCode };
  }
  process.stdout.write(`\n${formatSummaryTable(result.outcomes).join('\n')}\n`);
  return { exitCode };
}

/**
 * What `fleet diff` prints after its run: each host's diff in plan order, then, when some host
 * could not be compared, the summary table with its reason and last lines.
 */
function diffReport(plan: Plan, outcomes: readonly HostOutcome[]): string[] {
  const byHost = new Map(outcomes.map((o) => [o.host, o]));
  const lines: string[] = [];
  const missing: HostOutcome[] = [];
  for (const host of plan.hosts) {
    const outcome = byHost.get(host.name);
    if (outcome?.diff) lines.push(...formatDiffBlock(host.name, outcome.diff));
    else if (outcome) missing.push(outcome);
  }
  if (missing.length > 0) lines.push(...(lines.length > 0 ? [''] : []), `not compared (${missing.length}):`, ...formatSummaryTable(missing));
  return lines;
}

/** The headline of the step summary: the command that ran. */
function commandTitle(steps: StepSelection): string {
  if (steps.buildOnly) return 'fleet build';
  const last = steps.steps?.at(-1);
  return last ? `fleet ${last === 'secrets' ? 'push-secrets' : last}` : 'fleet apply';
}

function recordTexts(plan: Plan, title: string, record: RunRecord): { reportText: string; summary: string } {
  const report = buildJsonReport(plan, record.outcomes, record);
  const summary = formatGithubSummary(record.outcomes, { title, interrupted: record.interrupted, provenance: plan.provenance });
  return { reportText: JSON.stringify(report, null, 2), summary };
}

/** Every `fleet apply` keeps its report beside the manifest, for `--retry-failed`; the single-step commands do not. */
function keepsLastRun(plan: Plan): boolean {
  return reportCommand(plan.scope) === 'apply';
}

/**
 * Writes the --report file and appends to $GITHUB_STEP_SUMMARY, and waits for both: the process
 * exits right after the command returns, and an unfinished write is lost. A write that fails is
 * a problem to print, not a reason to hide the run's outcome.
 */
/** A record of the run that could not be written: which one, and the line that says so. */
interface RecordProblem {
  file: 'report' | 'step-summary' | 'last-run';
  message: string;
}

async function writeRecord(plan: Plan, output: OutputOptions, title: string, record: RunRecord): Promise<{ reportText: string; problems: RecordProblem[] }> {
  const { reportText, summary } = recordTexts(plan, title, record);
  const writes: [RecordProblem['file'], string, Promise<void>][] = [];
  if (output.reportFile) writes.push(['report', `could not write the report to ${output.reportFile}`, writeFile(output.reportFile, `${reportText}\n`)]);
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) writes.push(['step-summary', `could not append the step summary to ${stepSummary}`, appendGithubSummary(stepSummary, summary)]);
  if (keepsLastRun(plan)) {
    const kept = lastRunPath(plan.paths.stateDir);
    writes.push(['last-run', `could not keep the report at ${kept} (--retry-failed needs it)`, (async () => keepLastRun(plan.paths.stateDir, reportText))()]);
  }
  const settled = await Promise.allSettled(writes.map(([, , write]) => write));
  const problems = settled.flatMap((s, i): RecordProblem[] => {
    if (s.status !== 'rejected') return [];
    const [file, what] = writes[i]!;
    return [{ file, message: `${what}: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}` }];
  });
  return { reportText, problems };
}

/** writeRecord for a process about to exit from a signal handler: synchronous, best effort. */
function writeRecordSync(plan: Plan, output: OutputOptions, title: string, record: RunRecord): void {
  const { reportText, summary } = recordTexts(plan, title, record);
  const attempt = (what: string, write: () => void) => {
    try {
      write();
    } catch (error) {
      process.stderr.write(`fleet: ${what}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  };
  if (output.reportFile) attempt(`could not write the report to ${output.reportFile}`, () => writeFileSync(output.reportFile!, `${reportText}\n`));
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) attempt(`could not append the step summary to ${stepSummary}`, () => appendFileSync(stepSummary, summary));
  if (keepsLastRun(plan)) attempt(`could not keep the report at ${lastRunPath(plan.paths.stateDir)}`, () => keepLastRun(plan.paths.stateDir, reportText));
}

/**
 * Passes events on and remembers how far each host got, so that a run cut short (a second
 * interrupt, an internal error) can still say per host what happened: its outcome when it has
 * one, else the step it was in with that step's last lines.
 */
function trackProgress(plan: Plan, inner: Reporter): { reporter: Reporter; outcomesSoFar: (why: string) => HostOutcome[] } {
  const done = new Map<string, HostOutcome>();
  const running = new Map<string, { step: Phase; startedAt: number; tail: string[] }>();
  const note = (event: RunEvent) => {
    if (event.type === 'host-done') done.set(event.outcome.host, event.outcome);
    else if (event.type === 'host-start') running.set(event.host, { step: 'probe', startedAt: Date.now(), tail: [] });
    else if (event.type === 'step-start') {
      const host = running.get(event.host);
      if (host) running.set(event.host, { ...host, step: event.step, tail: [] });
    } else if (event.type === 'step-line') {
      const tail = running.get(event.host)?.tail;
      if (tail) {
        tail.push(event.line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
    }
  };
  const outcomesSoFar = (why: string) =>
    plan.hosts.map((h): HostOutcome => {
      const outcome = done.get(h.name);
      if (outcome) return outcome;
      const at = Date.now();
      const host = running.get(h.name);
      if (!host) return { host: h.name, kind: 'skipped', mode: h.mode, step: 'build', reason: 'not started: fleet stopped first', tail: [], startedAt: at, finishedAt: at, steps: [] };
      return { host: h.name, kind: 'failed', mode: h.mode, step: host.step, reason: why, tail: [...host.tail], startedAt: host.startedAt, finishedAt: at, steps: [] };
    });
  return {
    reporter: {
      emit(event) {
        note(event);
        inner.emit(event);
      },
      close: () => inner.close(),
    },
    outcomesSoFar,
  };
}
