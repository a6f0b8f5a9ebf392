// The human tree of a Plan for `fleet plan` and `fleet apply --dry-run`: build stage, then each host.
import type { Endpoint, Escalation } from '../manifest/inventory.js';
import { REMOTE_SCRIPTS } from '../plan/remote-scripts.js';
import { OPERATE_SCRIPTS } from '../plan/operate-scripts.js';
import type { Arg, HostPlan, Plan, PlannedCommand, RolloutPlan, StepKind } from '../plan/types.js';
import type { FleetRollbackPlan } from '../plan/rollback-commands.js';
import { describeSecretSource, needsSystems } from '../plan/build-plan.js';
import { rebuildCanEscalate } from '../plan/commands.js';
import { escalationWords, quoteShellWord, takesPassword } from '../ssh/index.js';

/** Every script fleet runs on a target, by name. */
const SCRIPTS: Readonly<Record<string, string>> = { ...REMOTE_SCRIPTS, ...OPERATE_SCRIPTS };

/** `root@10.0.0.1`, `deploy@web:2222`, or `this machine`. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'local') return 'this machine';
  if (endpoint.port === 22) return `${endpoint.user}@${endpoint.host}`;
  // An IPv6 address with a port is written as the manifest writes it: [address]:port.
  return `${endpoint.user}@${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}

/** One argv word for display: literals shell-quoted, run-time references as `<toplevel>`. */
export function formatArg(arg: Arg): string {
  return typeof arg === 'string' ? quoteShellWord(abbreviateScripts(arg)) : `<${arg.ref}>`;
}

const SHORTEST_SCRIPT = Math.min(...Object.values(SCRIPTS).map((s) => s.length));

/**
 * Shows fleet's own remote scripts by name (`<probe script>`), in their raw and quoted forms and
 * inside ssh's remote line; `fleet plan --json` keeps them whole.
 */
export function abbreviateScripts(text: string): string {
  // Scripts are long: a short word holds none (and most words are short).
  if (text.length < SHORTEST_SCRIPT) return text;
  let out = text;
  for (const [name, body] of Object.entries(SCRIPTS)) {
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
  // The password wrapper reads the sudo password first, ahead of what the command itself reads.
  const password = takesPassword(command.argv.map((a) => (typeof a === 'string' ? a : `<${a.ref}>`))) ? 'the sudo password' : undefined;
  const stdin = [password, command.stdin].filter((s) => s !== undefined).join(', then ');
  return stdin ? `${line}  (stdin: ${stdin})` : line;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function watchdogLine(host: HostPlan): string {
  const activation = host.deploy.activation;
  if (activation.kind === 'watched') {
    return `armed: rolls back after ${activation.timeoutSeconds}s unless a new ssh connection confirms`;
  }
  return `none (${activation.unwatched})`;
}

/** How the host's privileged commands become root, in the words of the tool. */
function escalationLine(escalation: Escalation): string {
  const method = escalation.method;
  if (escalation.askPassword) {
    return 'sudo with the password fleet asks once on the terminal, handed to each privileged command on its stdin (sudo -S -k -p \'\'; never in an argv, environment or file)';
  }
  const words = escalationWords(method).join(' ');
  return typeof method === 'string' ? `${method} without a password (${words})` : `your own command before each privileged one (${words})`;
}

function commandLines(commands: readonly (PlannedCommand | undefined)[]): string[] {
  return commands.filter((c): c is PlannedCommand => c !== undefined).map((c) => `    ${c.purpose}: $ ${formatCommand(c)}`);
}

function hostLines(host: HostPlan, scope: Plan['scope']): string[] {
  const via = host.ssh?.jump ? ` via ${formatEndpoint(host.ssh.jump.endpoint)} (jump host; its settings in ${host.ssh.jump.configFile}, given to every ssh with -F)` : '';
  const lines = [`host ${host.name}  ${host.mode} on ${formatEndpoint(host.target)}${via}`];
  lines.push(`  watchdog  ${watchdogLine(host)}`);
  if (host.escalation) lines.push(`  root  ${escalationLine(host.escalation)}`);
  const connect = host.connect;
  if (connect.kind === 'lock-and-probe') {
    const when = connect.early
      ? 'one session from the start of the run, while hosts are evaluated: opens the shared connection, holds the deploy lock for the whole sequence'
      : 'one session, when the host starts: holds the deploy lock for the whole sequence';
    const closure = connect.closure === 'ask' ? ', answers ?<toplevel> (is the closure there?)' : '';
    lines.push(`  lock and probe  ${when}${closure}`);
  } else lines.push('  probe  always, before the steps');
  lines.push(...commandLines([connect.command]));
  const requested = (kind: StepKind) => scope.steps.includes(kind);
  // The diff is asked for (fleet diff, --diff, --confirm): a plan without it does not list it.
  const steps = [...('never' in host.diff ? [] : [host.diff]), host.pushKeys, host.bootstrap, host.secrets, host.deploy, host.verify];
  for (const step of steps) {
    if (!requested(step.kind)) {
      lines.push(`  ${step.kind}  not requested`);
      continue;
    }
    if ('never' in step) {
      lines.push(`  ${step.kind}  never (${step.never})`);
      continue;
    }
    lines.push(`  ${step.kind}  ${step.guard}`);
    switch (step.kind) {
      case 'diff':
        lines.push(...commandLines([step.copy, step.compare]));
        break;
      case 'push-keys':
        lines.push(...commandLines([step.generate, step.push]));
        break;
      case 'bootstrap':
        lines.push(...commandLines([step.install, step.waitForInstalled]));
        break;
      case 'secrets':
        // Names, sources and destinations: never a value (it is read only when the step runs).
        for (const secret of step.secrets) {
          lines.push(
            `    ${secret.name} → ${secret.destination}  ${secret.owner}:${secret.group} ${secret.mode}, ${secret.upload}, from ${describeSecretSource(secret.source)}`,
          );
        }
        lines.push(...commandLines([step.beforeActivation?.push, step.afterActivation?.push]));
        break;
      case 'deploy': {
        const a = step.activation;
        // A host nixos-rebuild-ng could not make root (doas, run0, own words, a password) says why it is fleet's.
        const why = step.flavour === 'bash' && host.escalation && !rebuildCanEscalate(host.escalation) ? ' (this host\'s escalation is not one nixos-rebuild-ng runs itself)' : '';
        lines.push(`    flavour: ${step.flavour === 'ng' ? 'nixos-rebuild-ng --store-path' : `as the bash nixos-rebuild does, run by fleet${why}`}`);
        const find = step.specialisation?.find;
        lines.push(...commandLines(a.kind === 'watched' && a.arm !== 'in-activate' ? [step.copy, find, a.arm, a.activate] : [step.copy, find, a.activate]));
        break;
      }
      case 'verify': {
        const a = host.deploy.activation;
        lines.push(...commandLines(a.kind === 'watched' ? [a.confirm, a.afterDeadline] : [a.check?.command]));
        lines.push(...commandLines(step.healthChecks.map((c) => c.command)));
        break;
      }
    }
  }
  const history = host.history;
  if (!requested('deploy') && !requested('bootstrap')) lines.push('  history  not requested');
  else if ('never' in history) lines.push(`  history  never (${history.never})`);
  else if (history.overLockSession) {
    // The call is shown too: a rollout's rollback of the host, after its sequence, records with it.
    const over = `over the held lock session (stdin: !${history.file}, then <historyRecord>)`;
    lines.push(`  history  ${history.guard}`, `    ${history.append.purpose}: ${over}; after an install, or a rollout's rollback of the host: $ ${formatCommand(history.append)}`);
  } else lines.push(`  history  ${history.guard}`, ...commandLines([history.append]));
  // A rollout's onFailure: rollback: what the host runs when its wave fails.
  const rollback = host.rollback;
  if (rollback) lines.push(`  rollback  ${rollback.guard} (${rollback.action})`, ...commandLines([rollback.generations, rollback.arm, rollback.activate, rollback.confirm ?? rollback.check]));
  return lines;
}

/** Who and what the deploy history records, e.g. `alice@laptop, revision 1a2b3c4-dirty, fleet 0.1.0`. */
export function formatProvenance(provenance: Plan['provenance']): string {
  const who = provenance.ci ? `${provenance.operator} (${provenance.ci.system}${provenance.ci.runUrl ? ` ${provenance.ci.runUrl}` : ''})` : provenance.operator;
  return `${who}, revision ${provenance.revision ?? 'unknown'}, fleet ${provenance.fleetVersion}`;
}

/** The waves of a rollout, in the order they run, with the gate between them. */
export function rolloutLines(rollout: RolloutPlan, parallel: number): string[] {
  const n = rollout.waves.length;
  const gate =
    rollout.onFailure === 'rollback'
      ? 'when a wave fails, no later wave starts and its changed hosts are rolled back to the generation they ran before'
      : 'when a wave fails, no later wave starts';
  const lines = [
    `rollout  ${plural(n, 'wave')}: ${rollout.description}; ${rollout.pauseSeconds > 0 ? `${rollout.pauseSeconds}s pause between waves` : 'no pause between waves'}`,
    `  a wave starts when every host of the one before ended changed or unchanged (health checks passed); ${gate} (onFailure: ${rollout.onFailure})`,
    `  each wave deploys ${parallel === 0 ? 'all its hosts at once' : `up to ${parallel} of its hosts at once`}, each as soon as it is evaluated (copying once it is built)`,
  ];
  for (const wave of rollout.waves) {
    lines.push(`  wave ${wave.index}/${n}${wave.kind === 'canary' ? ' (canary)' : ''}: ${wave.hosts.join(', ')}`);
  }
  return lines;
}

/** Which hosts the evaluation cache answers (not evaluated, already built), or why it is not used. */
function evalCacheLines(build: Plan['build']): string[] {
  const cache = build.evalCache;
  if (!cache) return [];
  if (!cache.use) return [`  evaluation cache: not used (${cache.reason})`];
  const cached = build.cached ?? [];
  if (cached.length === 0) return ['  evaluation cache: no host cached for this flake; each host evaluated is kept'];
  const lines = [`  evaluation cache: ${plural(cached.length, 'host')} not evaluated (their systems are in the store): ${cached.map((c) => c.host).join(', ')}`];
  const rows = cached.flatMap((c) => Object.entries(c.outputs).flatMap(([output, o]) => (o ? [[`${c.host} ${output}`, o.out] as const] : [])));
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, out] of rows) lines.push(`    ${label.padEnd(width)}  ${out}`);
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
    `  recorded as  ${formatProvenance(plan.provenance)}`,
    ...(plan.rebuildFlavourChoice ? [`  activation  ${plan.rebuildFlavourChoice}`] : []),
    '',
  ];
  if (plan.rollout && !plan.scope.buildOnly) lines.push(...rolloutLines(plan.rollout, plan.parallel), '');
  if (!needsSystems(plan.scope)) {
    lines.push('build  none: no step of this command installs, deploys or verifies a system');
    for (const host of plan.hosts) lines.push('', ...hostLines(host, plan.scope));
    return lines;
  }
  const chunks = plan.build.chunks;
  const atOnce = Math.min(plan.build.evalJobs, chunks.length);
  lines.push(
    `build  ${plural(chunks.length, 'chunk')}, up to ${plural(plan.build.evalLimit, 'host')} per evaluation, ` +
      `${plural(atOnce, 'evaluation')} at once (eval jobs: ${plan.build.evalJobs})` +
      (plan.build.evaluatorMemoryMiB !== undefined ? `, each within ${plan.build.evaluatorMemoryMiB} MiB of free memory` : '') +
      `; each host starts as soon as it is evaluated and copies once it is built`,
  );
  chunks.forEach((chunk, i) => {
    const hosts = [...new Set(chunk.attributes.map((a) => a.host))];
    const where = chunk.targetBuilds ? 'their own targets (buildHost: target)' : formatEndpoint(chunk.buildHost);
    lines.push(`  chunk ${i + 1}/${chunks.length} on ${where}: ${hosts.join(', ')}`);
    const width = Math.max(...chunk.attributes.map((a) => `${a.host} ${a.output}`.length));
    for (const a of chunk.attributes) {
      lines.push(`    ${`${a.host} ${a.output}`.padEnd(width)}  ${a.installable}`);
    }
    lines.push(`    $ ${formatCommand(chunk.evaluate)}`);
    const onTarget = new Set(chunk.targetBuilds?.map((t) => t.host));
    if (hosts.some((h) => !onTarget.has(h))) lines.push(`    $ ${formatCommand(chunk.build)}`);
    for (const t of chunk.targetBuilds ?? []) lines.push(`    ${t.host}: $ ${formatCommand(t.copyDerivations)}`, `    ${t.host}: $ ${formatCommand(t.realise)}`);
  });
  lines.push(...evalCacheLines(plan.build));
  lines.push(
    plan.build.results.keep
      ? `  results  rooted in ${plan.build.results.dir} for the run, and kept in ${plan.build.results.keep.dir}/<host> (--keep-result)`
      : `  results  rooted in ${plan.build.results.dir} while the run lasts (a garbage collection cannot delete them before they are copied)`,
  );
  if (plan.cache) {
    lines.push(`cache  each built system is pushed once, as soon as it is built, before its hosts copy it; a failed push is a warning (the hosts upload instead)`);
    if (plan.cache.sign) lines.push(`  $ ${formatCommand(plan.cache.sign)}`);
    lines.push(`  $ ${formatCommand(plan.cache.push)}`);
  }
  if (plan.scope.buildOnly) return lines;
  for (const host of plan.hosts) lines.push('', ...hostLines(host, plan.scope));
  return lines;
}

/** `fleet plan --for rollback`: per host, the lock and the rollback's commands (or why none). */
export function formatRollbackPlan(action: 'switch' | 'boot', hosts: readonly FleetRollbackPlan[]): string[] {
  const lines = [`fleet rollback (${action}): each host back to the generation before its boot default (or --to N)`];
  for (const host of hosts) {
    if ('never' in host) {
      lines.push(`${host.host}  never (${host.never})`);
      continue;
    }
    const r = host.rollback;
    lines.push(`${host.host}`, `  rollback  ${r.guard}`, ...commandLines([host.lock, r.generations, r.arm, r.activate, r.confirm ?? r.check, host.history]));
  }
  return lines;
}
