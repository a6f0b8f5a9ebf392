// The human tree of a Plan for `fleet plan` and `fleet apply --dry-run`: build stage, then each host.
import type { Endpoint } from '../manifest/inventory.js';
import { REMOTE_SCRIPTS } from '../plan/remote-scripts.js';
import type { Arg, HostPlan, Plan, PlannedCommand } from '../plan/types.js';
import { quoteShellWord } from '../ssh/index.js';

/** `root@10.0.0.1`, `deploy@web:2222`, or `this machine`. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'local') return 'this machine';
  return `${endpoint.user}@${endpoint.host}${endpoint.port === 22 ? '' : `:${endpoint.port}`}`;
}

/** One argv word for display: literals shell-quoted, run-time references as `<toplevel>`. */
export function formatArg(arg: Arg): string {
  return typeof arg === 'string' ? quoteShellWord(abbreviateScripts(arg)) : `<${arg.ref}>`;
}

/**
 * Shows fleet's own remote scripts by name (`<probe script>`), in their raw and quoted forms and
 * inside ssh's remote line; `fleet plan --json` keeps them whole.
 */
export function abbreviateScripts(text: string): string {
  let out = text;
  for (const [name, body] of Object.entries(REMOTE_SCRIPTS)) {
    for (const form of [quoteShellWord(body), body]) {
      out = out.split(form).join(`<${name} script>`);
    }
  }
  return out;
}

/** A planned command as one shell-like line: `VAR='x' prog arg … (stdin: …)`. For display only. */
export function formatCommand(command: PlannedCommand): string {
  const env = Object.entries(command.env ?? {}).map(([k, v]) => `${k}=${quoteShellWord(v)}`);
  const line = [...env, ...command.argv.map(formatArg)].join(' ');
  return command.stdin ? `${line}  (stdin: ${command.stdin})` : line;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function watchdogLine(host: HostPlan): string {
  if (host.watchdog) {
    return `armed: rolls back after ${host.rollbackTimeout}s unless a new ssh connection confirms`;
  }
  if (host.mode === 'boot' || host.mode === 'dry-activate') return `none (${host.mode} changes nothing live)`;
  if (!host.spec.rollback.enabled) return 'none (rollback disabled)';
  return 'none';
}

function hostLines(host: HostPlan): string[] {
  const lines = [`host ${host.name}  ${host.mode} on ${formatEndpoint(host.target)}`];
  lines.push(`  watchdog  ${watchdogLine(host)}`);
  if (host.lock) {
    lines.push(`  lock  held for the whole sequence`);
    lines.push(`    ${host.lock.purpose}: $ ${formatCommand(host.lock)}`);
  }
  lines.push(`  probe  always, before the steps`);
  lines.push(`    ${host.probe.purpose}: $ ${formatCommand(host.probe)}`);
  for (const step of host.steps) {
    lines.push(`  ${step.kind}  ${step.guard}`);
    for (const command of step.commands) lines.push(`    ${command.purpose}: $ ${formatCommand(command)}`);
  }
  return lines;
}

/**
 * The plan as lines of text, the same plan `fleet apply` runs: the run's settings, the build
 * stage (chunks, installables, the nix argv), then per host its mode, target, watchdog, lock,
 * probe and each step with its guard and commands. No colour.
 */
export function formatPlan(plan: Plan): string[] {
  const lines: string[] = [
    `plan  ${plan.manifestPath}`,
    `  flake  ${plan.flake}`,
    `  hosts  ${plan.hosts.length} (${plan.parallel === 0 ? 'all at once' : `${plan.parallel} at once`})`,
    `  force: ${yesNo(plan.force)}, fail-fast: ${yesNo(plan.failFast)}, bootstrap without prompt: ${yesNo(plan.allowBootstrap)}`,
    '',
  ];
  const chunks = plan.build.chunks;
  lines.push(`build  ${plural(chunks.length, 'chunk')}, up to ${plural(plan.build.evalLimit, 'host')} per evaluation`);
  chunks.forEach((chunk, i) => {
    const hosts = [...new Set(chunk.attributes.map((a) => a.host))];
    lines.push(`  chunk ${i + 1}/${chunks.length} on ${formatEndpoint(chunk.buildHost)}: ${hosts.join(', ')}`);
    const width = Math.max(...chunk.attributes.map((a) => `${a.host} ${a.output}`.length));
    for (const a of chunk.attributes) {
      lines.push(`    ${`${a.host} ${a.output}`.padEnd(width)}  ${a.installable}`);
    }
    lines.push(`    $ ${formatCommand(chunk.evaluate)}`, `    $ ${formatCommand(chunk.build)}`);
  });
  for (const host of plan.hosts) lines.push('', ...hostLines(host));
  return lines;
}
