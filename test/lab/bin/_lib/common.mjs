// Shared plumbing of the lab's stand-ins: invocation log, argv-only process runner, ssh, quoting.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

/** Environment variables whose presence matters to the real tools (names only are logged). */
const RELEVANT_ENV = [
  'NIX_SSHOPTS',
  'NIXOS_REBUILD_SSH_DEFAULT_OPTS',
  'NIX_SUDOOPTS',
  'NIX_CONFIG',
  'NIX_PATH',
  'NIXOS_INSTALL_BOOTLOADER',
  'SSH_AUTH_SOCK',
  'TMPDIR',
  'FLEET_LAB_REBUILD_FLAVOUR',
  'FLEET_LAB_LOCAL_TARGET',
];

let invocationId = null;
let toolName = 'stand-in';

function appendLog(entry) {
  const file = process.env.FLEET_LAB_LOG;
  if (!file) return;
  try {
    appendFileSync(file, JSON.stringify(entry) + '\n');
  } catch {
    // The log is best effort; the tool's behaviour must not depend on it.
  }
}

/** Records this invocation (argv, which relevant env vars are set, ssh options) in $FLEET_LAB_LOG. */
export function logStart(tool, argv) {
  toolName = tool;
  invocationId = randomUUID();
  appendLog({
    event: 'start',
    id: invocationId,
    tool,
    argv,
    env: RELEVANT_ENV.filter((name) => process.env[name] !== undefined),
    sshOpts: shellSplit(process.env.NIX_SSHOPTS ?? ''),
    cwd: process.cwd(),
    pid: process.pid,
    time: new Date().toISOString(),
  });
}

/** Records a step the stand-in performed (kind + argv), so tests can check the order of operations. */
export function logStep(step, argv) {
  appendLog({ event: 'step', id: invocationId, tool: toolName, step, argv, time: new Date().toISOString() });
}

/** Ends the process with `code` after logging it. */
export function exit(code) {
  appendLog({ event: 'exit', id: invocationId, tool: toolName, exitCode: code, time: new Date().toISOString() });
  process.exit(code);
}

/** Prints `message` to stderr and exits with `code`. */
export function fail(message, code = 1) {
  process.stderr.write(`${toolName}: ${message}\n`);
  exit(code);
}

/** POSIX shell quoting of one word: the only place a command line is built from strings. */
export function shellQuote(word) {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return "'" + word.replace(/'/g, `'\\''`) + "'";
}

/** Turns an argv array into the one string a remote shell runs. */
export function remoteCommand(argv) {
  return argv.map(shellQuote).join(' ');
}

/** Splits a string the way a POSIX shell would (quotes and backslashes; no expansion). */
export function shellSplit(input) {
  const words = [];
  let word = null;
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${input}`);
      word = (word ?? '') + input.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      word = word ?? '';
      while (i < input.length && input[i] !== '"') {
        if (input[i] === '\\' && i + 1 < input.length && '"\\$`'.includes(input[i + 1])) i++;
        word += input[i++];
      }
      if (i >= input.length) throw new Error(`unterminated quote in: ${input}`);
      i++;
    } else if (c === '\\' && i + 1 < input.length) {
      word = (word ?? '') + input[i + 1];
      i += 2;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/**
 * Runs argv. stdout is captured when `capture` is set (else passed through), stderr is passed through
 * unless `quiet`. Resolves with { code, stdout }.
 */
export function run(argv, { capture = false, quiet = false, env = process.env, input, stdinFrom } = {}) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      env,
      stdio: [input !== undefined || stdinFrom ? 'pipe' : 'ignore', capture ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    });
    let stdout = '';
    let stderr = '';
    if (capture) child.stdout.on('data', (d) => (stdout += d));
    if (quiet) child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    if (stdinFrom) stdinFrom.pipe(child.stdin);
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: String(err) }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 + 15 : 1), stdout, stderr }));
  });
}

/** The Nix flags every lab call needs: flakes on, no substituters (there is no network). */
export const NIX_FLAGS = ['--extra-experimental-features', 'nix-command flakes', '--option', 'substituters', ''];

/** Parses `[user@]host[:port]`-less ssh destinations into what ssh takes as-is. */
export function sshDestination(target) {
  if (!target || target.startsWith('-')) fail(`invalid ssh destination: ${JSON.stringify(target)}`);
  return target;
}

/** Parses the JSON printed by `nix build --json` into the list of `out` paths. */
export function outPaths(json) {
  return JSON.parse(json).map((r) => r.outputs.out);
}
