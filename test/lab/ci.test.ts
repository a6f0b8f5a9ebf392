// fleet as CI runs it on merge, against lab hosts: a process without a terminal, CI=true, the
// deploy key only in a real ssh-agent, GITHUB_STEP_SUMMARY and GITHUB_ENV set; a failing host,
// two runs in quick succession, cancelled runs; and the workflow in examples/ci run step by step.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, sleep, waitFor, startSshAgent, writeLabManifest, type FleetRun, type LabManifestHost, type Report, type SshAgent } from './fleet-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'ci');

/** A row of the step summary's host table. */
interface SummaryRow {
  host: string;
  status: string;
  step: string;
  details: string;
}

/** The host rows of every table in a step summary file. */
function summaryRows(markdown: string): SummaryRow[] {
  return markdown
    .split('\n')
    .map((line) => /^\| (\S+) \| (\S+) \| (\S+) \| [^|]* \| (.*) \|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[1] !== 'Host' && m[1] !== '---')
    .map((m) => ({ host: m[1]!, status: m[2]!, step: m[3]!, details: m[4]! }));
}

/** The lines in a host's collapsed block of the step summary ("<host>: failed at <step>"). */
function summaryTail(markdown: string, host: string): string[] | undefined {
  const block = new RegExp(`<details><summary>${host}: \\S+ at \\S+</summary>\\n\\n(\`{3,})text\\n([\\s\\S]*?)\\n\\1\\n`).exec(markdown);
  return block?.[2]!.split('\n');
}

/** Host outcome by host, from the summary and from the report: they must say the same. */
function outcomesOf(rows: SummaryRow[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [r.host, r.status]));
}

function reportOutcomes(report: Report): Record<string, string> {
  return Object.fromEntries(report.hosts.map((h) => [h.host, h.outcome]));
}

/** Seconds the `slow` variant spends activating: long enough to meet its lock and interrupt it. */
const SLOW_SECONDS = 8;

describe('fleet apply as a CI job runs it', () => {
  let lab: Lab;
  let dir: string;
  let agent: SshAgent;
  let revision = 1;
  const bump = () => lab.setRevision(++revision);

  beforeAll(async () => {
    lab = await startLab({
      slowSeconds: SLOW_SECONDS,
      hosts: [
        { name: 'web1', state: 'installed' },
        { name: 'web2', state: 'installed' },
        { name: 'bad', state: 'installed' },
        { name: 'slow', state: 'installed', variant: 'slow' },
        { name: 'api1', state: 'installed' },
        { name: 'api2', state: 'installed' },
        { name: 'db1', state: 'installed' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-ci-'));
    // The deploy key as a CI secret: an environment variable's value, loaded into ssh-agent.
    agent = startSshAgent(readFileSync(lab.clientKey, 'utf8'));
  }, 180_000);

  afterAll(async () => {
    agent?.stop();
    await lab?.stop();
  });

  /** A manifest without identityFile: ssh offers the agent's keys, as a CI job's manifest may. */
  function agentManifest(name: string, hosts: LabManifestHost[]): string {
    const path = writeLabManifest(lab, join(dir, name), hosts);
    const manifest = parse(readFileSync(path, 'utf8')) as { defaults: Record<string, unknown> };
    delete manifest.defaults.identityFile;
    writeFileSync(path, stringify(manifest));
    return path;
  }

  /** What a job step gets from Actions: CI=true, its own summary and env files, the agent. */
  function ciRun(name: string, args: string[], options: { onSpawn?: (pid: number) => void; agent?: boolean } = {}) {
    const files = { summary: join(dir, `${name}.summary.md`), env: join(dir, `${name}.env`), report: join(dir, `${name}.report.json`) };
    writeFileSync(files.summary, '');
    writeFileSync(files.env, '');
    const env: Record<string, string> = { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: files.summary, GITHUB_ENV: files.env };
    if (options.agent !== false) Object.assign(env, agent.env);
    else env.SSH_AUTH_SOCK = join(dir, 'no-agent.sock');
    // apply writes its JSON report as the example workflow asks it to.
    const argv = args[0] === 'apply' ? ['apply', '--report', files.report, ...args.slice(1)] : args;
    const run = runFleet(lab, argv, { env, onSpawn: options.onSpawn });
    return { run, files };
  }

  it('a merge with one failing host: exit 1, every host in the step summary with its outcome, the report agrees, the others deploy', async () => {
    const path = agentManifest('merge', [{ name: 'web1' }, { name: 'web2' }, { name: 'bad' }]);
    // Without the agent there is no key at all: the agent is what authenticates below.
    const keyless = ciRun('keyless', ['exec', '-f', path, '--only', 'web1', '--', 'true'], { agent: false });
    expect((await keyless.run).code).toBe(255);

    bump();
    lab.setVariant('bad', 'fails');
    const wanted = await lab.toplevels(['web1', 'web2', 'bad']);
    const before = lab.currentSystem('bad');
    const { run, files } = ciRun('merge', ['apply', '-f', path]);
    const done = await run;
    lab.setVariant('bad', 'good');
    expect(done.code, done.stdout + done.stderr).toBe(1);
    // No terminal: plain prefixed lines, no cursor movement.
    expect(done.stdout).toMatch(/^\[web1\] /m);
    expect(done.stdout).not.toContain('\u001b[');

    const summary = readFileSync(files.summary, 'utf8');
    expect(summary).toMatch(/^### fleet apply: 3 hosts — 2 changed, 1 failed$/m);
    const rows = summaryRows(summary);
    expect(rows.map((r) => r.host).sort()).toEqual(['bad', 'web1', 'web2']);
    expect(outcomesOf(rows)).toEqual({ web1: 'changed', web2: 'changed', bad: 'failed' });
    expect(rows.find((r) => r.host === 'bad')).toMatchObject({ step: 'deploy' });
    expect(rows.find((r) => r.host === 'web1')!.details).toContain(wanted.web1);

    const report = readReport(files.report);
    expect(report.exitCode).toBe(1);
    expect(reportOutcomes(report)).toEqual(outcomesOf(rows));
    const bad = hostOf(report, 'bad');
    expect(bad).toMatchObject({ outcome: 'failed', step: 'deploy' });
    // The failing host's last lines: in the summary's collapsed block, the same as in the report.
    const tail = summaryTail(summary, 'bad');
    expect(tail).toEqual(bad.tail);
    expect(tail!.join('\n')).toMatch(/activating \S+ failed \(lab variant 'fails'\)/);

    for (const host of ['web1', 'web2']) expect(lab.currentSystem(host), host).toBe(wanted[host]);
    expect(lab.currentSystem('bad')).toBe(before);
    // fleet leaves the environment of later steps alone.
    expect(readFileSync(files.env, 'utf8')).toBe('');
  }, 240_000);

  it('two merges in quick succession: the second run waits on the deploy lock, then finds the hosts up to date', async () => {
    const path = agentManifest('twice', [{ name: 'slow' }, { name: 'web2' }]);
    bump();
    const wanted = await lab.toplevels(['slow', 'web2']);
    const first = ciRun('first', ['apply', '-f', path]);
    // The second merge's run starts while the first one activates (and holds the lock of) slow.
    await waitFor('the first run to activate slow', () => lab.bootDefault('slow') === wanted.slow, 120_000);
    const second = ciRun('second', ['apply', '-f', path]);
    const [one, two] = await Promise.all([first.run, second.run]);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(two.code, two.stdout + two.stderr).toBe(0);

    const reports = [readReport(first.files.report), readReport(second.files.report)];
    expect(hostOf(reports[0]!, 'slow').outcome).toBe('changed');
    // It took the lock only once the first run had finished with slow, and then had nothing to do.
    const waited = hostOf(reports[1]!, 'slow');
    expect(waited.outcome).toBe('unchanged');
    // The lock and the probe are one session: its step ends once the lock is held and the host probed.
    const lockTaken = waited.steps.find((s) => s.step === 'probe' && s.status === 'done')!;
    expect(lockTaken.detail).toMatch(/^locked; /);
    const firstDone = hostOf(reports[0]!, 'slow').steps.at(-1)!;
    expect(firstDone.step).toBe('verify');
    expect(Date.parse(lockTaken.finishedAt)).toBeGreaterThanOrEqual(Date.parse(firstDone.finishedAt));
    expect(lab.activations('slow').filter((a) => a.storePath === wanted.slow)).toHaveLength(1);
    expect(lab.currentSystem('slow')).toBe(wanted.slow);
    expect(lab.currentSystem('web2')).toBe(wanted.web2);

    for (const [i, run] of [first, second].entries()) {
      const rows = summaryRows(readFileSync(run.files.summary, 'utf8'));
      expect(outcomesOf(rows)).toEqual(reportOutcomes(reports[i]!));
      expect(rows.map((r) => r.host).sort()).toEqual(['slow', 'web2']);
    }
  }, 240_000);

  /** A run on slow (mid-activation when signalled), web1 and web2; no watchdog to fire later. */
  async function interruptedRun(name: string, signals: NodeJS.Signals[]): Promise<{ done: FleetRun; summary: string; report: Report }> {
    const path = agentManifest(name, ['slow', 'web1', 'web2'].map((h) => ({ name: h, extra: { rollback: { enabled: false } } })));
    bump();
    const wanted = await lab.toplevels(['slow']);
    let pid = 0;
    const { run, files } = ciRun(name, ['apply', '-f', path], { onSpawn: (p) => (pid = p) });
    await waitFor('slow to activate', () => lab.bootDefault('slow') === wanted.slow, 120_000);
    for (const signal of signals) process.kill(pid, signal);
    const done = await run;
    return { done, summary: readFileSync(files.summary, 'utf8'), report: readReport(files.report) };
  }

  it('a cancelled run (SIGINT) exits 130 and still leaves the summary table with every host', async () => {
    const { done, summary, report } = await interruptedRun('cancel', ['SIGINT']);
    expect(done.code, done.stdout + done.stderr).toBe(130);
    expect(summary).toContain('**Interrupted** before every host finished.');
    const rows = summaryRows(summary);
    expect(rows.map((r) => r.host).sort()).toEqual(['slow', 'web1', 'web2']);
    expect(report.interrupted).toBe(true);
    expect(report.exitCode).toBe(130);
    expect(reportOutcomes(report)).toEqual(outcomesOf(rows));
    expect(hostOf(report, 'slow')).toMatchObject({ outcome: 'failed', step: 'deploy' });
  }, 240_000);

  it("cancelled as Actions does it (SIGINT, then SIGTERM): leaves at once, with the summary and report of every host", async () => {
    const { done, summary, report } = await interruptedRun('cancel-hard', ['SIGINT', 'SIGTERM']);
    expect(done.code, done.stdout + done.stderr).toBe(130);
    expect(summary).toContain('**Interrupted**');
    const rows = summaryRows(summary);
    expect(rows.map((r) => r.host).sort()).toEqual(['slow', 'web1', 'web2']);
    expect(report.interrupted).toBe(true);
    expect(reportOutcomes(report)).toEqual(outcomesOf(rows));
    // slow was cut off in its activation: failed at deploy, not "skipped" or missing.
    expect(hostOf(report, 'slow')).toMatchObject({ outcome: 'failed', step: 'deploy' });
  }, 240_000);

  // ----------------------------------------------------------------------------------------------
  // examples/ci/.github/workflows/deploy.yml, run step by step

  it('the example workflow deploys on a merge: its run: steps in order, in a shell, with the lab as the fleet', async () => {
    const workflow = parse(readFileSync(join(EXAMPLE, '.github', 'workflows', 'deploy.yml'), 'utf8')) as Workflow;
    bump();
    const lab3 = ['api1', 'api2', 'db1'];
    const wanted = await lab.toplevels(lab3);
    const before = { db1: lab.currentSystem('db1') };

    // The repository the job checks out: the flake, fleet.yaml and the workflow, committed.
    const workspace = join(dir, 'checkout');
    cpSync(join(EXAMPLE, '.github'), join(workspace, '.github'), { recursive: true });
    for (const file of readdirSync(lab.flakeDir)) copyFileSync(join(lab.flakeDir, file), join(workspace, file));
    writeFileSync(join(workspace, 'fleet.yaml'), exampleManifestForLab(lab, { 'api-1': 'api1', 'api-2': 'api2', 'db-1': 'db1' }));
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.org', ...args], { cwd: workspace, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'infra');

    // fleet as a release tarball of this working tree (its dist/ as built), named by the FLEET_PACKAGE variable.
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = join(dir, packed.stdout.trim().split('\n').at(-1)!);

    const runner = new WorkflowRunner(workflow, {
      workspace,
      temp: join(dir, 'runner'),
      event: 'push',
      inputs: {},
      secrets: { FLEET_DEPLOY_KEY: readFileSync(lab.clientKey, 'utf8'), GITHUB_TOKEN: 'not-used-offline' },
      vars: { FLEET_PACKAGE: tarball },
      env: labRunnerEnv(lab),
    });
    expect(runner.jobRuns('plan')).toBe(false);
    expect(runner.jobRuns('deploy')).toBe(true);
    const job = await runner.runJob('deploy');
    // The workflow's last step stops the agent; whatever happened, none outlives the test.
    const agentPid = Number(job.env.SSH_AGENT_PID);
    // `ssh-agent -k` signals the agent and returns: give it a moment to be gone (a loaded machine).
    const deadline = Date.now() + 10_000;
    while (agentPid > 0 && processAlive(agentPid) && Date.now() < deadline) await sleep(100);
    const agentLeft = agentPid > 0 && processAlive(agentPid);
    if (agentLeft) process.kill(agentPid, 'SIGTERM');
    const log = job.steps.map((s) => `--- ${s.name}: ${s.outcome}\n${s.output}`).join('\n');
    expect(job.steps.map((s) => [s.name, s.outcome]), log).toEqual([
      ['actions/checkout', 'success'],
      ['cachix/install-nix-action', 'success'],
      ['actions/setup-node', 'success'],
      ['Install fleet', 'success'],
      ['ssh-agent with the deploy key', 'success'],
      ['Validate the manifest', 'success'],
      ['fleet apply', 'success'],
      ['Upload the report', 'success'],
      ['Stop ssh-agent', 'success'],
    ]);

    // The hosts run the committed configuration (db-1 deploys with mode boot: at the next reboot).
    expect(lab.currentSystem('api1')).toBe(wanted.api1);
    expect(lab.currentSystem('api2')).toBe(wanted.api2);
    expect(lab.bootDefault('db1')).toBe(wanted.db1);
    expect(lab.currentSystem('db1')).toBe(before.db1);
    const report = readReport(job.artifacts['fleet-report.json']!);
    expect(reportOutcomes(report)).toEqual({ api1: 'changed', api2: 'changed', db1: 'changed' });
    const applyStep = job.steps.find((s) => s.name === 'fleet apply')!;
    expect(outcomesOf(summaryRows(applyStep.summary))).toEqual(reportOutcomes(report));
    // The private key reached the agent only: the job wrote the public half, nothing else of it.
    expect(readdirSync(join(workspace, '.ci'))).toEqual(['deploy_key.pub']);
    expect(readFileSync(join(workspace, '.ci', 'deploy_key.pub'), 'utf8').trim()).toBe(lab.clientPublicKey);
    expect(agentPid).toBeGreaterThan(0);
    expect(agentLeft).toBe(false);

    // The same workflow on a pull request: validate and plan, no secrets used, no host touched.
    const activations = lab3.map((h) => lab.activations(h).length);
    const pr = new WorkflowRunner(workflow, { ...runner.options, event: 'pull_request', secrets: {}, temp: join(dir, 'runner-pr') });
    expect(pr.jobRuns('deploy')).toBe(false);
    const plan = await pr.runJob('plan');
    expect(plan.steps.map((s) => [s.name, s.outcome]), plan.steps.map((s) => s.output).join('\n')).toEqual([
      ['actions/checkout', 'success'],
      ['cachix/install-nix-action', 'success'],
      ['actions/setup-node', 'success'],
      ['Install fleet', 'success'],
      ['Validate the manifest', 'success'],
      ['Show the plan', 'success'],
    ]);
    expect(plan.steps.at(-1)!.output).toMatch(/api1/);
    expect(lab3.map((h) => lab.activations(h).length)).toEqual(activations);
  }, 300_000);
});

// ------------------------------------------------------------------------------------------------
// The example manifest, pointed at lab hosts

/**
 * examples/ci/fleet.yaml with its hosts swapped for lab hosts (same tags and modes, pinned lab
 * host keys, the deploy user) and what a lab host cannot do swapped out: the tools come from the
 * runner's PATH (the lab's stand-ins), not `nix run nixpkgs#…`, and the health check asks for a
 * live system instead of systemd's multi-user.target. Everything else is the example's.
 */
function exampleManifestForLab(lab: Lab, names: Record<string, string>): string {
  const example = parse(readFileSync(join(EXAMPLE, 'fleet.yaml'), 'utf8')) as {
    commands?: unknown;
    defaults: { user: string; healthChecks: unknown[] };
    hosts: Record<string, { target: string; hostKey: unknown; tags?: string[]; mode?: string }>;
  };
  delete example.commands;
  example.defaults.healthChecks = [{ name: 'system', command: ['test', '-e', '/run/current-system'] }];
  example.hosts = Object.fromEntries(
    Object.entries(example.hosts).map(([name, host]) => {
      const labHost = lab.host(names[name]!);
      return [names[name]!, { ...host, target: labHost.address, hostKey: labHost.hostPublicKey }];
    }),
  );
  return stringify(example);
}

/** The runner machine: this one, with the lab's tools on PATH and its Nix settings; no agent of ours. */
function labRunnerEnv(lab: Lab): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...lab.env })) {
    // A clean runner: no npm lifecycle settings of the test run, no ssh-agent, no CI settings yet.
    if (value === undefined || /^npm_/i.test(key) || key.startsWith('SSH_') || key === 'CI' || key.startsWith('GITHUB_')) continue;
    env[key] = value;
  }
  // The runner's npm cache has fleet's dependencies (a setup-node cache does the same on Actions).
  env.npm_config_prefer_offline = 'true';
  return env;
}

/** Whether a process runs (an exited daemon whose parent is gone may linger as a zombie: not running). */
function processAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------------------------------
// A GitHub Actions job runner for one workflow file, as far as the example needs: `${{ }}`
// expressions over github/inputs/secrets/vars/env, job and step `if:`, env at every level,
// GITHUB_ENV/GITHUB_PATH/GITHUB_STEP_SUMMARY per step, `run:` steps in bash as Actions runs them,
// and stand-ins for the `uses:` actions the example names. Anything else fails the test.

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  run?: string;
  shell?: string;
  'working-directory'?: string;
}

interface Job {
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

interface RunnerOptions {
  workspace: string;
  /** RUNNER_TEMP: per-step files go here. */
  temp: string;
  event: 'push' | 'pull_request' | 'workflow_dispatch' | 'schedule';
  inputs: Record<string, string | boolean>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  /** The machine's environment. */
  env: Record<string, string>;
}

interface StepRun {
  name: string;
  outcome: 'success' | 'failure' | 'skipped';
  output: string;
  /** What the step wrote to its GITHUB_STEP_SUMMARY. */
  summary: string;
}

interface JobRun {
  steps: StepRun[];
  /** The job's environment after its last step (what GITHUB_ENV added). */
  env: Record<string, string>;
  /** Uploaded artifacts: file name → path in the workspace. */
  artifacts: Record<string, string>;
}

type Contexts = Record<string, Record<string, unknown>>;

/** Evaluates an Actions expression (the part between `${{` and `}}`, or an `if:`). */
function evaluate(expression: string, contexts: Contexts, status: { failed: boolean }): unknown {
  const tokens = expression.match(/\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][\w.-]*|\d+|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`expression ${expression}: expected ${expected ?? 'more'}`);
    return token;
  };
  const truthy = (v: unknown) => v !== '' && v !== 0 && v !== false && v !== null && v !== undefined;
  const primary = (): unknown => {
    const token = take();
    if (token === '(') {
      const value = or();
      take(')');
      return value;
    }
    if (token === '!') return !truthy(primary());
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (/^\d+$/.test(token)) return Number(token);
    if (token === 'true' || token === 'false') return token === 'true';
    if (token === 'null') return null;
    if (peek() === '(') {
      take('(');
      take(')');
      if (token === 'always') return true;
      if (token === 'success') return !status.failed;
      if (token === 'failure') return status.failed;
      if (token === 'cancelled') return false;
      throw new Error(`expression ${expression}: unknown function ${token}()`);
    }
    const [root, ...path] = token.split('.');
    const context = contexts[root!];
    if (!context) throw new Error(`expression ${expression}: unknown context ${root}`);
    let value: unknown = context;
    for (const key of path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    return value ?? '';
  };
  const comparison = (): unknown => {
    const left = primary();
    if (peek() === '==' || peek() === '!=') {
      const op = take();
      const right = primary();
      const equal = String(left).toLowerCase() === String(right).toLowerCase();
      return op === '==' ? equal : !equal;
    }
    return left;
  };
  const and = (): unknown => {
    let value = comparison();
    while (peek() === '&&') {
      take();
      const right = comparison();
      value = truthy(value) ? right : value;
    }
    return value;
  };
  const or = (): unknown => {
    let value = and();
    while (peek() === '||') {
      take();
      const right = and();
      value = truthy(value) ? value : right;
    }
    return value;
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`expression ${expression}: unexpected ${tokens[at]}`);
  return value;
}

class WorkflowRunner {
  constructor(
    readonly workflow: Workflow,
    readonly options: RunnerOptions,
  ) {}

  private contexts(env: Record<string, string>): Contexts {
    return {
      github: { event_name: this.options.event, run_id: '4242', run_attempt: '1', workspace: this.options.workspace, ref: 'refs/heads/main' },
      inputs: this.options.inputs,
      secrets: this.options.secrets,
      vars: this.options.vars,
      env,
      runner: { os: 'Linux', temp: this.options.temp },
    };
  }

  private condition(expression: string | undefined, env: Record<string, string>, failed: boolean): boolean {
    if (expression === undefined) return !failed;
    const bare = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
    const value = evaluate(bare, this.contexts(env), { failed });
    // A condition without a status function runs only while the job is succeeding.
    return (/\b(always|failure|cancelled|success)\(\)/.test(bare) ? true : !failed) && value !== '' && value !== false && value !== 0 && value != null;
  }

  private interpolate(text: string, env: Record<string, string>): string {
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expression: string) => {
      const value = evaluate(expression, this.contexts(env), { failed: false });
      return value === null || value === undefined ? '' : String(value);
    });
  }

  private interpolateAll(values: Record<string, unknown> | undefined, env: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, this.interpolate(String(v), env)]));
  }

  jobRuns(name: string): boolean {
    const job = this.workflow.jobs[name];
    if (!job) throw new Error(`no job ${name}`);
    return this.condition(job.if, {}, false);
  }

  async runJob(name: string): Promise<JobRun> {
    const job = this.workflow.jobs[name]!;
    mkdirSync(this.options.temp, { recursive: true });
    const base: Record<string, string> = {
      ...this.options.env,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: this.options.workspace,
      GITHUB_EVENT_NAME: this.options.event,
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      RUNNER_TEMP: this.options.temp,
    };
    // Set by steps through GITHUB_ENV and GITHUB_PATH, for the steps after them.
    const exported: Record<string, string> = {};
    const paths: string[] = [];
    const artifacts: Record<string, string> = {};
    const steps: StepRun[] = [];
    let failed = false;
    for (const [i, step] of job.steps.entries()) {
      const name = step.name ?? step.uses?.replace(/@.*/, '') ?? `step ${i + 1}`;
      const outer = { ...this.interpolateAll(this.workflow.env, {}), ...exported };
      const jobEnv = { ...outer, ...this.interpolateAll(job.env, outer) };
      if (!this.condition(step.if, jobEnv, failed)) {
        steps.push({ name, outcome: 'skipped', output: '', summary: '' });
        continue;
      }
      const stepEnv = { ...jobEnv, ...this.interpolateAll(step.env, jobEnv) };
      const files = { env: join(this.options.temp, `env-${i}`), path: join(this.options.temp, `path-${i}`), summary: join(this.options.temp, `summary-${i}.md`) };
      for (const file of Object.values(files)) writeFileSync(file, '');
      const env: Record<string, string> = {
        ...base,
        ...stepEnv,
        PATH: [...paths, base.PATH ?? ''].join(':'),
        GITHUB_ENV: files.env,
        GITHUB_PATH: files.path,
        GITHUB_STEP_SUMMARY: files.summary,
      };
      let ok: boolean;
      let output: string;
      if (step.run !== undefined) {
        if (step.shell !== undefined && step.shell !== 'bash') throw new Error(`step ${name}: shell ${step.shell} is not supported here`);
        const script = join(this.options.temp, `step-${i}.sh`);
        writeFileSync(script, this.interpolate(step.run, stepEnv));
        // How Actions runs `run:` with bash on Linux.
        const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
          cwd: join(this.options.workspace, step['working-directory'] ?? '.'),
          env,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 240_000,
        });
        ok = r.status === 0;
        output = `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`;
      } else if (step.uses !== undefined) {
        ({ ok, output } = this.standIn(step.uses, this.interpolateAll(step.with, stepEnv), env, files, artifacts));
      } else {
        throw new Error(`step ${name}: neither run nor uses`);
      }
      Object.assign(exported, readGithubEnv(readFileSync(files.env, 'utf8')));
      paths.unshift(...readFileSync(files.path, 'utf8').split('\n').filter(Boolean).reverse());
      steps.push({ name, outcome: ok ? 'success' : 'failure', output, summary: readFileSync(files.summary, 'utf8') });
      if (!ok) failed = true;
    }
    return { steps, env: exported, artifacts };
  }

  /** What the example's `uses:` actions do, done by this machine and the lab. */
  private standIn(
    uses: string,
    inputs: Record<string, string>,
    env: Record<string, string>,
    files: { env: string; path: string },
    artifacts: Record<string, string>,
  ): { ok: boolean; output: string } {
    const action = uses.replace(/@.*/, '');
    switch (action) {
      case 'actions/checkout':
        // The workspace is the checked-out repository already.
        return { ok: existsSync(join(this.options.workspace, '.git')), output: 'checked out (the working tree)' };
      case 'cachix/install-nix-action': {
        // The machine's Nix, with flakes (the lab's NIX_CONFIG is in the runner's environment).
        const nix = spawnSync('nix', ['--version'], { env, encoding: 'utf8' });
        return { ok: nix.status === 0, output: `${nix.stdout}${nix.stderr}` };
      }
      case 'actions/setup-node': {
        // This machine's node on PATH, with a global npm prefix of the job's own (as a tool cache has).
        const prefix = join(this.options.temp, 'node-global');
        mkdirSync(prefix, { recursive: true });
        writeFileSync(files.path, `${join(prefix, 'bin')}\n${dirname(process.execPath)}\n`);
        writeFileSync(files.env, `npm_config_prefix=${prefix}\n`);
        return { ok: true, output: `node ${process.version} (node-version ${inputs['node-version'] ?? 'any'} asked)` };
      }
      case 'actions/upload-artifact': {
        const path = join(this.options.workspace, inputs.path ?? '');
        if (!existsSync(path)) return { ok: inputs['if-no-files-found'] !== 'error', output: `no file at ${path}` };
        artifacts[inputs.path!] = path;
        return { ok: true, output: `uploaded ${inputs.path} as ${inputs.name}` };
      }
      default:
        throw new Error(`no stand-in for the action ${uses}`);
    }
  }
}

/** GITHUB_ENV lines: `NAME=value` and `NAME<<DELIMITER` … `DELIMITER`. */
function readGithubEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const multi = /^([^=<]+)<<(.+)$/.exec(line);
    if (multi) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== multi[2]; i++) value.push(lines[i]!);
      env[multi[1]!] = value.join('\n');
    } else if (line.includes('=')) {
      env[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return env;
}
