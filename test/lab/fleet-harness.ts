// Drives the real `fleet` CLI against a lab: writes manifests pointing at lab hosts and runs fleet.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { labBinDir, type Lab } from './lab.js';

export const FLEET_BIN = fileURLToPath(new URL('../../bin/fleet.js', import.meta.url));

/** Per-host manifest fields for a lab host (anything of the host schema may be added in `extra`). */
export interface LabManifestHost {
  name: string;
  mode?: 'switch' | 'boot' | 'test' | 'dry-activate';
  /** Give the host bootstrap options and a key policy that generates and pushes its host key. */
  bootstrap?: boolean;
  extra?: Record<string, unknown>;
}

/**
 * Writes `<dir>/fleet.yaml` for lab hosts: targets, pinned host keys, the lab's client key, the
 * lab's flake. Returns the manifest path.
 */
export function writeLabManifest(lab: Lab, dir: string, hosts: LabManifestHost[], top: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  // A lab with round-trip time reaches its hosts through a ProxyCommand: fleet's connections too.
  const topSsh = (top.ssh ?? {}) as { options?: string[] };
  const ssh = lab.fleetSshOptions.length > 0 ? { ssh: { ...topSsh, options: [...lab.fleetSshOptions, ...(topSsh.options ?? [])] } } : {};
  const manifest = {
    version: 1,
    flake: lab.flakeDir,
    ...top,
    ...ssh,
    defaults: { identityFile: lab.clientKey, rollback: { timeout: 20 } },
    hosts: Object.fromEntries(
      hosts.map((h) => {
        const labHost = lab.host(h.name);
        const entry: Record<string, unknown> = {
          target: `root@${labHost.address}`,
          hostKey: [labHost.hostPublicKey],
          ...(h.mode ? { mode: h.mode } : {}),
        };
        if (h.bootstrap) {
          entry.bootstrap = { phases: ['disko', 'install', 'reboot'], waitTimeout: 60 };
          entry.keys = { push: 'bootstrap', hostKeySearch: [join(dir, 'host-keys')], generate: true };
        }
        return [h.name, { ...entry, ...h.extra }];
      }),
    ),
  };
  const path = join(dir, 'fleet.yaml');
  writeFileSync(path, `# yaml-language-server: $schema=${fileURLToPath(new URL('../../schemas/fleet.schema.json', import.meta.url))}\n${stringify(manifest)}`);
  return path;
}

export interface FleetRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/fleet.js <args>` with the lab's environment (stand-ins on PATH, no substituters). */
export function runFleet(
  lab: Lab,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; onSpawn?: (pid: number) => void; onStdout?: (soFar: string) => void } = {},
): Promise<FleetRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FLEET_BIN, ...args], {
      env: { ...process.env, ...lab.env, CI: 'true', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid && options.onSpawn) options.onSpawn(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a run on a terminal left: its exit code, the raw bytes, and the text without escape codes. */
export interface TerminalRun {
  code: number | null;
  raw: string;
  screen: string;
}

/**
 * Runs fleet on a pseudo-terminal (util-linux `script`), 120×40 unless `size` says, without CI:
 * the live view. With `answer`, types `answer.keys` once the output shows `answer.when` (a prompt);
 * with a list, each in turn, each prompt looked for in what came after the answer before.
 */
export function runFleetInTerminal(
  lab: Lab,
  args: string[],
  answer?: { when: RegExp; keys: string } | { when: RegExp; keys: string }[],
  timeoutMs = 120_000,
  size: { columns: number; rows: number } = { columns: 120, rows: 40 },
): Promise<TerminalRun> {
  // A person's terminal, even when the suite runs in CI: CI=false is "not CI" whatever CI
  // variables the runner set (GITHUB_ACTIONS and the like would count otherwise).
  const env: Record<string, string> = { ...process.env, ...lab.env, TERM: 'xterm-256color', CI: 'false' } as Record<string, string>;
  delete env.NO_COLOR;
  // The argv is quoted for script's `sh -c` here, in the test harness only.
  const command = ['stty', 'cols', String(size.columns), 'rows', String(size.rows), ';', 'exec', 'node', FLEET_BIN, ...args]
    .map((w) => (w === ';' ? w : `'${w.replace(/'/g, `'\\''`)}'`))
    .join(' ');
  const strip = (text: string) => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let raw = '';
    // Several answers are given in order, each once its prompt shows after the one before.
    const answers = answer === undefined ? [] : Array.isArray(answer) ? [...answer] : [answer];
    let from = 0;
    child.stdout.on('data', (d: Buffer) => {
      raw += d.toString();
      const next = answers[0];
      if (next && next.when.test(strip(raw.slice(from)))) {
        answers.shift();
        from = raw.length;
        child.stdin.write(next.keys);
      }
    });
    child.stderr.on('data', (d: Buffer) => (raw += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ code, raw, screen: strip(raw) });
    });
  });
}

/**
 * Runs fleet *inside* a lab host, as if that host were the machine fleet runs on (for `target:
 * local`): the flake is copied into the host's private /tmp, the manifest written there, and the
 * stand-ins log to /tmp/tool.log of the host. Returns the run and the tool log entries.
 */
export async function runFleetInside(
  lab: Lab,
  host: string,
  manifestYaml: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; tools: { event: 'start' | 'step' | 'exit'; tool: string; step?: string; argv?: string[] }[] }> {
  const hostTmp = join(lab.host(host).dirs.root, 'tmp');
  // A lab host has a /tmp of its own: a checkout under /tmp (a CI clone) is not visible inside it,
  // so fleet itself (built code, schema, runtime dependencies) is copied into the host's /tmp.
  const app = join(hostTmp, 'fleet-app');
  if (!existsSync(app)) {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const runtime = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter((p) => p && p !== root.replace(/\/$/, ''));
    const standIns = join(root, 'test', 'lab', 'bin');
    for (const path of [join(root, 'package.json'), join(root, 'bin'), join(root, 'dist'), join(root, 'schemas'), standIns, ...runtime]) {
      cpSync(path, join(app, relative(root, path)), { recursive: true, verbatimSymlinks: true });
    }
  }
  cpSync(lab.flakeDir, join(hostTmp, 'flake'), { recursive: true });
  writeFileSync(join(hostTmp, 'fleet.yaml'), manifestYaml);
  writeFileSync(join(hostTmp, 'tool.log'), '');
  const path = lab.env.PATH!.replace(labBinDir, '/tmp/fleet-app/test/lab/bin');
  const env = { ...lab.env, PATH: path, HOME: '/root', XDG_CACHE_HOME: '/tmp/cache', CI: 'true', NO_COLOR: '1', FLEET_LAB_LOG: '/tmp/tool.log', FLEET_LAB_DIR: '/tmp' };
  const run = await lab.exec(host, ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, '/tmp/fleet-app/bin/fleet.js', ...args, '-f', '/tmp/fleet.yaml']);
  const tools = readFileSync(join(hostTmp, 'tool.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: 'start' | 'step' | 'exit'; tool: string; step?: string; argv?: string[] });
  return { code: run.exitCode, stdout: run.stdout, stderr: run.stderr, tools };
}

/** A real ssh-agent started for a test: `env` reaches it (SSH_AUTH_SOCK), `stop` ends it. */
export interface SshAgent {
  env: { SSH_AUTH_SOCK: string; SSH_AGENT_PID: string };
  stop(): void;
}

/**
 * Starts `ssh-agent` and loads a private key into it from an environment variable, as a CI job
 * does with a secret (`printf '%s\n' "$KEY" | ssh-add -`): the key is never written to a file.
 */
export function startSshAgent(privateKey: string): SshAgent {
  const started = spawnSync('ssh-agent', ['-s'], { encoding: 'utf8' });
  const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(started.stdout)?.[1];
  const pid = /SSH_AGENT_PID=(\d+);/.exec(started.stdout)?.[1];
  if (started.status !== 0 || !sock || !pid) throw new Error(`ssh-agent did not start: ${started.stderr}${started.stdout}`);
  const env = { SSH_AUTH_SOCK: sock, SSH_AGENT_PID: pid };
  const stop = () => {
    try {
      process.kill(Number(pid), 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const added = spawnSync('sh', ['-c', `printf '%s\\n' "$FLEET_TEST_DEPLOY_KEY" | ssh-add -`], {
    encoding: 'utf8',
    env: { ...process.env, ...env, FLEET_TEST_DEPLOY_KEY: privateKey },
  });
  if (added.status !== 0) {
    stop();
    throw new Error(`ssh-add failed: ${added.stderr}`);
  }
  return { env, stop };
}

/** One host of fleet's JSON report (`--report`), as the lab tests read it. */
export interface ReportHost {
  host: string;
  outcome: string;
  step: string;
  reason: string;
  storePath: string | null;
  durationMs: number;
  startedAt: string;
  finishedAt: string;
  steps: { step: string; status: string; detail: string; startedAt: string; finishedAt: string; durationMs: number }[];
  tail: string[];
  /** What the closure copies sent from this machine; null when none ran. */
  uploaded?: { paths: number; bytes: number } | null;
}

/** fleet's JSON report (`--report`), as the lab tests read it. */
export interface Report {
  exitCode: number;
  interrupted: boolean;
  hosts: ReportHost[];
}

export function readReport(path: string): Report {
  return JSON.parse(readFileSync(path, 'utf8')) as Report;
}

export function hostOf(report: Report, host: string): ReportHost {
  const found = report.hosts.find((h) => h.host === host);
  if (!found) throw new Error(`no ${host} in the report`);
  return found;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 100 ms until it holds, or fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
