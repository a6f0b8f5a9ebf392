// Schema-valid manifest data → Inventory: defaults merged, targets parsed, paths absolute, cross-field checks.
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { parseEndpoint, type ParsedEndpoint } from './endpoint.js';
import type {
  BootstrapOptions,
  Endpoint,
  EscalationMethod,
  HealthCheck,
  HostSpec,
  Inventory,
  JumpSpec,
  KeyPolicy,
  Mode,
  SecretSpec,
  RolloutSpec,
  ToolCommands,
  WaveSize,
} from './inventory.js';
import type {
  FleetManifest,
  ManifestBootstrap,
  ManifestHost,
  ManifestJump,
  ManifestKeys,
  ManifestSecret,
} from './schema-types.js';
import type { PathProblem } from './validate.js';
import { sshOptionProblem, sshPathProblem } from './ssh-words.js';
import { showValue } from './validate.js';
import { suggest } from './suggest.js';
import { parseWaveSize } from './wave-size.js';
import { formatPath, type PathSegment } from './yaml-source.js';

/** Everything resolution needs besides the data. */
export interface ResolveContext {
  /** Directory relative paths are resolved against (the manifest's). */
  baseDir: string;
  manifestPath: string;
  /** For `~/` in paths. */
  env: Readonly<Record<string, string | undefined>>;
  /** Host names in the order written. */
  hostOrder: string[];
  /** True when the schema already found a problem at, under or above this path: skip checks there. */
  isDirty(path: readonly PathSegment[]): boolean;
  /** True when the schema found a problem at or above this path: the value there cannot be read at all. */
  isBroken(path: readonly PathSegment[]): boolean;
}

/** The built-in values, which are also the schema's `default`s (a unit test keeps them equal). */
export const BUILTIN = {
  flake: '.',
  parallel: 10,
  commands: {
    nix: ['nix'],
    nixosRebuild: ['nixos-rebuild'],
    nixosAnywhere: ['nixos-anywhere'],
    nixosInstall: ['nixos-install'],
  } satisfies ToolCommands,
  user: 'root',
  port: 22,
  mode: 'switch' as Mode,
  buildHost: 'local',
  substitutes: true,
  keys: { push: 'bootstrap', generate: false, agenixKeyName: 'global_ed25519', destination: '/etc/ssh' },
  bootstrap: { phases: ['disko', 'install', 'reboot'], waitTimeout: 300 },
  rollback: { enabled: true, timeout: 90 },
  healthCheckTimeout: 30,
  secret: { owner: 'root', group: 'root', mode: '0400', upload: 'before-activation', directory: '/run/keys' },
  rollout: { canary: [], pause: 0, onFailure: 'stop' },
  privilegeEscalation: 'sudo',
  askSudoPassword: false,
} as const;

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Where trust-on-first-use hosts' keys are kept, beside the manifest (as plan/ lays out a run's paths). */
const TOFU_KNOWN_HOSTS = '.fleet/known_hosts.tofu';

/** A value from a host, or from defaults when the host does not set it, with where it was written. */
interface Picked<T> {
  value: T;
  at: PathSegment[];
}

/** Resolves the whole manifest; problems are pushed to `problems` and the result is only meaningful when none were. */
export function resolveInventory(
  data: FleetManifest,
  ctx: ResolveContext,
  problems: PathProblem[],
): Inventory {
  const report = (path: PathSegment[], message: string, anchor: PathProblem['anchor'] = 'value'): void => {
    problems.push({ path, anchor, message });
  };

  const localPath = (value: string, at: PathSegment[]): string => {
    if (value === '~' || value.startsWith('~/')) {
      const home = ctx.env['HOME'];
      if (!home) {
        report(at, `${formatPath(at)} starts with "~" but HOME is not set`);
        return value;
      }
      return join(home, value.slice(1));
    }
    return isAbsolute(value) ? resolvePath(value) : resolvePath(ctx.baseDir, value);
  };

  // Top level. A field with a schema problem keeps its built-in value: the result is thrown away anyway.
  const top = <K extends keyof FleetManifest>(key: K): FleetManifest[K] | undefined =>
    ctx.isDirty([key]) ? undefined : data[key];
  let flake = top('flake') ?? BUILTIN.flake;
  if (!ctx.isDirty(['flake'])) {
    if (flake.startsWith('path:') && !isAbsolute(flake.slice(5))) {
      flake = `path:${localPath(flake.slice(5), ['flake'])}`;
    } else if (!SCHEME.test(flake)) {
      flake = localPath(flake, ['flake']);
    }
  }
  const given = top('commands');
  const commands: ToolCommands = {
    nix: [...(given?.nix ?? BUILTIN.commands.nix)],
    nixosRebuild: [...(given?.nixosRebuild ?? BUILTIN.commands.nixosRebuild)],
    nixosAnywhere: [...(given?.nixosAnywhere ?? BUILTIN.commands.nixosAnywhere)],
    nixosInstall: [...(given?.nixosInstall ?? BUILTIN.commands.nixosInstall)],
  };

  // Cross-field checks run on every well-formed part: a field with a schema problem is left out
  // (for a host, its defaults' value too: a check must not judge a value the host did not mean).
  const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  const wellFormed = (value: unknown, at: PathSegment[]): ManifestHost => {
    if (!isMapping(value) || ctx.isBroken(at)) return {};
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (!ctx.isDirty([...at, key])) out[key] = field;
      // One broken secret leaves the host's other secrets to check.
      else if (key === 'secrets' && isMapping(field) && !ctx.isBroken([...at, key])) {
        out[key] = Object.fromEntries(Object.entries(field).filter(([secret]) => !ctx.isDirty([...at, key, secret])));
      }
    }
    return out as ManifestHost;
  };
  /** The defaults for one host, without what the host wrote with a problem. */
  const defaultsFor = (host: ManifestHost, written: unknown): ManifestHost => {
    if (!isMapping(written)) return defaults;
    const out: Record<string, unknown> = { ...defaults };
    for (const key of Object.keys(written)) {
      if (key === 'secrets' && isMapping(host.secrets) && isMapping(defaults.secrets)) {
        const broken = Object.keys(written.secrets as object).filter((s) => !(s in (host.secrets as object)));
        out.secrets = Object.fromEntries(Object.entries(defaults.secrets).filter(([s]) => !broken.includes(s)));
      } else if (!(key in host)) delete out[key];
    }
    return out as ManifestHost;
  };
  const defaults: ManifestHost = wellFormed(data.defaults, ['defaults']);
  if (defaults.target !== undefined) {
    report(
      ['defaults', 'target'],
      'defaults: "target" cannot be a default (each host has its own; it defaults to the host\'s name)',
      'key',
    );
  }
  const hostsData: Record<string, ManifestHost | undefined> =
    typeof data.hosts === 'object' && data.hosts !== null && !Array.isArray(data.hosts) ? data.hosts : {};

  // Pass 1: targets, so that buildHost can name another host.
  const targets = new Map<string, Endpoint>();
  // A host whose target has a problem is left out whole: every other check of it depends on where it is.
  const usable = ctx.hostOrder.filter(
    (name) => isMapping(hostsData[name]) && !ctx.isBroken(['hosts', name]) && !ctx.isDirty(['hosts', name, 'target']),
  );
  const hostData = new Map(usable.map((name) => [name, wellFormed(hostsData[name], ['hosts', name])]));
  for (const name of usable) {
    const endpoint = resolveTarget(name, hostData.get(name)!, defaults, report);
    if (endpoint) targets.set(name, endpoint);
  }

  // Pass 2: everything else.
  const hosts: HostSpec[] = [];
  // Values from defaults are shared by every host: their problems are reported once.
  const checked = new Set<string>();
  const once = (at: PathSegment[]): boolean => {
    const key = JSON.stringify(at);
    if (checked.has(key)) return false;
    checked.add(key);
    return true;
  };
  const tofuFile = join(dirname(ctx.manifestPath), TOFU_KNOWN_HOSTS);
  // A ProxyJump in ssh.options is every host's jump host (unless it has its own): ssh would not give
  // the jump hop fleet's settings, so fleet reaches it as it reaches a `jump:`.
  const givenOptions = top('ssh')?.options ?? [];
  const proxyJumpAt = givenOptions.findIndex((o) => /^proxyjump[= ]/i.test(o) && !/^proxyjump[= ]\s*none$/i.test(o));
  const proxyJump: Picked<string> | undefined =
    proxyJumpAt === -1 ? undefined : { value: givenOptions[proxyJumpAt]!.replace(/^proxyjump[= ]\s*/i, ''), at: ['ssh', 'options', proxyJumpAt] };
  for (const name of usable) {
    const target = targets.get(name);
    const host = hostData.get(name)!;
    const hostDefaults = defaultsFor(host, hostsData[name]);
    const pick = <K extends keyof ManifestHost>(key: K): Picked<ManifestHost[K]> | undefined => {
      if (host[key] !== undefined) return { value: host[key], at: ['hosts', name, key] };
      if (hostDefaults[key] !== undefined) return { value: hostDefaults[key], at: ['defaults', key] };
      return undefined;
    };

    const pickedBuildHost = pick('buildHost');
    // `target`: evaluated here, built on the host itself (a local target: built here, which is it).
    const buildOnTarget = pickedBuildHost?.value === 'target' && target?.kind === 'ssh';
    if (buildOnTarget && (host.bootstrap ?? defaults.bootstrap) !== undefined && once([...pickedBuildHost.at, name])) {
      report(pickedBuildHost.at, `${formatPath(pickedBuildHost.at)} "target" cannot build for ${name}, which has bootstrap options: its target is not NixOS (nor has Nix) until it is installed; build it here or on a build host`);
    }
    const buildHost = pickedBuildHost?.value === 'target' ? ({ kind: 'local' } as const) : resolveBuildHost(pickedBuildHost, targets, hostsData, report);
    const identity = pick('identityFile');
    const identityFile = identity ? localPath(identity.value as string, identity.at) : undefined;
    if (identity && identityFile !== undefined && once(identity.at)) {
      const problem = sshPathProblem(identityFile, 'IdentityFile');
      const shown = identityFile === identity.value ? '' : ` (${showValue(identityFile)})`;
      if (problem) report(identity.at, `${formatPath(identity.at)} ${showValue(identity.value)}${shown} ${problem}`);
    }
    const tofu = pick('trustOnFirstUse');
    if (tofu?.value === true && target?.kind === 'ssh' && once(tofu.at)) {
      const problem = sshPathProblem(tofuFile, 'UserKnownHostsFile');
      if (problem) report(tofu.at, `${formatPath(tofu.at)}: fleet keeps the keys it learns in ${showValue(tofuFile)}, which ${problem}`);
    }
    const hostKeys = resolveHostKeys(pick('hostKey'), report);
    const jumpPicked = pick('jump') ?? proxyJump;
    const resolvedJump = jumpPicked && target ? resolveJump(jumpPicked, target, identityFile, localPath, report, once) : undefined;
    // The jump host itself, when it is one of the hosts, is reached directly.
    const jump = resolvedJump && !sameAddress(target, resolvedJump.endpoint) ? resolvedJump : undefined;
    if (jump && host.bootstrap !== undefined && host.bootstrap !== false) {
      report(
        ['hosts', name, 'bootstrap'],
        `hosts.${name}: a host reached through a jump host cannot be bootstrapped: nixos-anywhere hands its ssh options to nix copy as one string split at spaces, which cannot carry the jump hop's settings`,
        'key',
      );
    }
    const keys = resolveKeys(name, host, hostDefaults, localPath, report);
    const bootstrap = resolveBootstrap(name, host, hostDefaults, target, localPath, report);
    const healthChecks = resolveHealthChecks(pick('healthChecks'), report);
    const secrets = resolveSecrets(name, host, hostDefaults, ctx.baseDir, localPath, report, once);
    const rollback = { ...hostDefaults.rollback, ...host.rollback };
    const escalation = resolveEscalation(pick('privilegeEscalation'), pick('askSudoPassword'), report, once);

    if (!target || !buildHost) continue;
    hosts.push({
      name,
      target,
      ...(identityFile !== undefined ? { identityFile } : {}),
      ...(jump ? { jump } : {}),
      hostKeys,
      trustOnFirstUse: pick('trustOnFirstUse')?.value ?? false,
      mode: pick('mode')?.value ?? BUILTIN.mode,
      ...(pick('specialisation') ? { specialisation: pick('specialisation')!.value as string } : {}),
      buildHost,
      buildOnTarget,
      substitutes: pick('substitutes')?.value ?? BUILTIN.substitutes,
      tags: [...(pick('tags')?.value ?? [])],
      ...(keys ? { keys } : {}),
      ...(bootstrap ? { bootstrap } : {}),
      rollback: {
        enabled: rollback.enabled ?? BUILTIN.rollback.enabled,
        timeout: rollback.timeout ?? BUILTIN.rollback.timeout,
      },
      healthChecks,
      secrets,
      tolerateUnitFailures: pick('tolerateUnitFailures')?.value ?? false,
      escalation,
    });
  }

  // A jump host that is a host of the manifest is checked against that host's pinned keys, unless
  // the jump gives its own.
  for (const spec of hosts) {
    if (!spec.jump || spec.jump.hostKeys.length > 0) continue;
    const pinned = hosts.find((other) => sameAddress(other.target, spec.jump!.endpoint) && other.hostKeys.length > 0);
    if (pinned) spec.jump = { ...spec.jump, hostKeys: [...pinned.hostKeys] };
  }
  // A ProxyJump taken as the hosts' jump host is not passed on as it is (see above).
  const sshOptions = [...(top('ssh')?.options ?? [])].filter((_, i) => i !== proxyJumpAt);
  givenOptions.forEach((option, i) => {
    const problem = sshOptionProblem(option);
    if (problem) report(['ssh', 'options', i], `${formatPath(['ssh', 'options', i])} ${showValue(option)} ${problem}`);
  });

  const rollout = top('rollout');
  // Canary selectors are checked against every host's tags: only when every host and its tags were read.
  const everyHostRead = hosts.length === ctx.hostOrder.length && !ctx.isDirty(['defaults', 'tags']) && !ctx.hostOrder.some((name) => ctx.isDirty(['hosts', name, 'tags']));
  if (rollout && everyHostRead) checkCanary(rollout, hosts, report);
  const cache = top('cache');
  const signingKey = cache?.signingKey !== undefined ? localPath(cache.signingKey, ['cache', 'signingKey']) : undefined;
  return {
    manifestPath: ctx.manifestPath,
    flake,
    parallel: top('parallel') ?? BUILTIN.parallel,
    ...(top('evalLimit') !== undefined ? { evalLimit: top('evalLimit') } : {}),
    ...(top('evalJobs') !== undefined ? { evalJobs: top('evalJobs') } : {}),
    rebuildFlavour: top('rebuildFlavour') ?? 'auto',
    copyTimeout: top('copyTimeout') ?? 300,
    activationTimeout: top('activationTimeout') ?? 3600,
    commands,
    sshOptions,
    ...(rollout ? { rollout: resolveRollout(rollout) } : {}),
    ...(cache ? { cache: { push: cache.push, ...(signingKey !== undefined ? { signingKey } : {}) } } : {}),
    hosts,
  };
}

/**
 * privilegeEscalation and askSudoPassword. A password goes only to sudo: doas reads one only from a
 * terminal and run0 asks polkit's agent, and fleet's commands have none (the same words as the
 * plan's refusal of --ask-sudo-password for such a host).
 */
function resolveEscalation(
  method: Picked<ManifestHost['privilegeEscalation']> | undefined,
  ask: Picked<ManifestHost['askSudoPassword']> | undefined,
  report: Report,
  once: (at: PathSegment[]) => boolean,
): HostSpec['escalation'] {
  const given = method?.value ?? BUILTIN.privilegeEscalation;
  // The schema's pattern admits only the three names.
  const resolved: EscalationMethod = typeof given === 'string' ? (given as 'sudo' | 'doas' | 'run0') : { argv: [...given] };
  const askPassword = ask?.value ?? BUILTIN.askSudoPassword;
  // Once per place and kind of escalation: a default's problem is said once for each kind it meets.
  if (askPassword && resolved !== 'sudo' && ask && once([...ask.at, JSON.stringify(resolved)])) {
    report(ask.at, `${formatPath(ask.at)}: ${passwordRefusal(resolved)}`);
  }
  return { method: resolved, askPassword: askPassword && resolved === 'sudo' };
}

/** Why a password cannot be handed to this escalation (fleet's commands run without a terminal). */
export function passwordRefusal(method: Exclude<EscalationMethod, 'sudo'>): string {
  if (method === 'doas') return 'doas reads a password only from a terminal, which fleet\'s commands do not have: permit the user with nopass in doas.conf, or use privilegeEscalation: sudo';
  if (method === 'run0') return 'run0 asks polkit\'s agent on a terminal, which fleet\'s commands do not have: allow the user with a polkit rule (org.freedesktop.systemd1.manage-units), or use privilegeEscalation: sudo';
  return 'fleet hands a password only to privilegeEscalation: sudo (as `sudo -S -k -p \'\'`), not to a command of your own';
}

/**
 * Every canary selector must pick a host of the manifest (a misspelt canary would silently deploy
 * everything in waves without one). Which of them a run selects is the plan's business.
 */
function checkCanary(rollout: NonNullable<FleetManifest['rollout']>, hosts: readonly HostSpec[], report: Report): void {
  if (rollout.canary === undefined) return;
  const list = typeof rollout.canary === 'string' ? [rollout.canary] : rollout.canary;
  list.forEach((selector, i) => {
    const at: PathSegment[] = typeof rollout.canary === 'string' ? ['rollout', 'canary'] : ['rollout', 'canary', i];
    if (selector.startsWith('@')) {
      const tag = selector.slice(1);
      if (!hosts.some((h) => h.tags.includes(tag))) report(at, `${formatPath(at)} ${showValue(selector)}: no host has the tag ${tag}`);
      return;
    }
    if (/[*?]/.test(selector)) {
      const body = selector.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
      const re = new RegExp(`^${body}$`);
      if (!hosts.some((h) => re.test(h.name))) report(at, `${formatPath(at)} ${showValue(selector)} matches no host`);
      return;
    }
    if (!hosts.some((h) => h.name === selector)) {
      const near = suggest(selector, hosts.map((h) => h.name));
      report(at, `${formatPath(at)} ${showValue(selector)} is not a host of this manifest${near ? ` (did you mean ${showValue(near)}?)` : ''}`);
    }
  });
}

/** The manifest's rollout with its defaults; which hosts the canary selectors pick is the plan's business. */
function resolveRollout(rollout: NonNullable<FleetManifest['rollout']>): RolloutSpec {
  const canary = rollout.canary === undefined ? [...BUILTIN.rollout.canary] : typeof rollout.canary === 'string' ? [rollout.canary] : [...rollout.canary];
  const waves = rollout.waves === undefined ? undefined : parseWaveSize(rollout.waves);
  return {
    canary,
    ...(waves ? { waves } : {}),
    pause: rollout.pause ?? BUILTIN.rollout.pause,
    onFailure: rollout.onFailure ?? BUILTIN.rollout.onFailure,
  };
}

type Report = (path: PathSegment[], message: string, anchor?: PathProblem['anchor']) => void;
type LocalPath = (value: string, at: PathSegment[]) => string;

function toEndpoint(parsed: ParsedEndpoint, user: string, port: number): Endpoint {
  if (parsed.kind === 'local') return { kind: 'local' };
  return { kind: 'ssh', user: parsed.user ?? user, host: parsed.host, port: parsed.port ?? port };
}

/** target (or the host's name), with user/port from the string, the host, defaults, then built-ins. */
function resolveTarget(
  name: string,
  host: ManifestHost,
  defaults: ManifestHost,
  report: Report,
): Endpoint | undefined {
  const at: PathSegment[] = ['hosts', name, 'target'];
  const text = host.target ?? name;
  const parsed = parseEndpoint(text);
  if (!parsed.ok) {
    const written = host.target !== undefined;
    report(written ? at : ['hosts', name], `${formatPath(at)}: ${parsed.reason}`, written ? 'value' : 'key');
    return undefined;
  }
  // Conflicts are reported but the endpoint is still returned, so that later checks can run.
  const endpoint = parsed.endpoint;
  if (endpoint.kind === 'local') {
    for (const key of ['user', 'port'] as const) {
      if (host[key] !== undefined) {
        report(
          ['hosts', name, key],
          `${formatPath(['hosts', name, key])} has no meaning with target: local (fleet runs there without ssh)`,
        );
      }
    }
    return { kind: 'local' };
  }
  if (host.user !== undefined && endpoint.user !== undefined && host.user !== endpoint.user) {
    report(
      ['hosts', name, 'user'],
      `${formatPath(['hosts', name, 'user'])} ${showValue(host.user)} conflicts with the user in target ${showValue(text)}`,
    );
  }
  if (host.port !== undefined && endpoint.port !== undefined && host.port !== endpoint.port) {
    report(
      ['hosts', name, 'port'],
      `${formatPath(['hosts', name, 'port'])} ${host.port} conflicts with the port in target ${showValue(text)}`,
    );
  }
  const user = host.user ?? defaults.user ?? BUILTIN.user;
  const port = host.port ?? defaults.port ?? BUILTIN.port;
  return toEndpoint(endpoint, user, port);
}

/** Whether an endpoint is the same address and port as an ssh endpoint (users aside). */
function sameAddress(endpoint: Endpoint | undefined, other: Endpoint): boolean {
  return endpoint?.kind === 'ssh' && other.kind === 'ssh' && endpoint.host === other.host && endpoint.port === other.port;
}

/**
 * A host's jump host: `[user@]host[:port]` (from `jump:` or ssh.options' ProxyJump), or {target,
 * hostKey, identityFile}. One hop: a ProxyJump list (`a,b`) is refused. User and port default to
 * the host's user and 22; the identity to the host's.
 */
function resolveJump(
  picked: Picked<string | ManifestJump | undefined>,
  target: Endpoint,
  identityFile: string | undefined,
  localPath: LocalPath,
  report: Report,
  once: (at: PathSegment[]) => boolean,
): JumpSpec | undefined {
  const fields: Exclude<ManifestJump, string> = typeof picked.value === 'object' ? picked.value : { target: picked.value ?? '' };
  const at: PathSegment[] = typeof picked.value === 'object' ? [...picked.at, 'target'] : picked.at;
  const fromOptions = picked.at[0] === 'ssh';
  if (target.kind !== 'ssh') {
    if (!fromOptions) report(picked.at, `${formatPath(picked.at)}: a host with target: local is not reached over ssh, so it has no jump host`);
    return undefined;
  }
  const text = fields.target;
  const where = fromOptions ? `${formatPath(at)} ProxyJump` : formatPath(at);
  if (text.includes(',')) {
    if (once(at)) report(at, `${where} ${showValue(text)}: fleet takes one jump host (a list of hops is not supported); reach the first hop from your ~/.ssh/config`);
    return undefined;
  }
  const parsed = parseEndpoint(text.replace(/^ssh:\/\//, ''));
  if (!parsed.ok || parsed.endpoint.kind !== 'ssh') {
    if (once(at)) report(at, `${where} must be [user@]host[:port]: ${parsed.ok ? '"local" is not a jump host' : parsed.reason}`);
    return undefined;
  }
  const keysPicked = typeof picked.value === 'object' && fields.hostKey !== undefined ? { value: fields.hostKey, at: [...picked.at, 'hostKey'] } : undefined;
  const hostKeys = keysPicked && once(keysPicked.at) ? resolveHostKeys(keysPicked, report) : keysPicked ? resolveHostKeys(keysPicked, () => undefined) : [];
  const jumpIdentity = fields.identityFile !== undefined ? localPath(fields.identityFile, [...picked.at, 'identityFile']) : identityFile;
  if (fields.identityFile !== undefined && jumpIdentity !== undefined && once([...picked.at, 'identityFile'])) {
    const problem = sshPathProblem(jumpIdentity, 'IdentityFile');
    if (problem) report([...picked.at, 'identityFile'], `${formatPath([...picked.at, 'identityFile'])} ${showValue(fields.identityFile)} ${problem}`);
  }
  return {
    endpoint: toEndpoint(parsed.endpoint, target.user, 22) as JumpSpec['endpoint'],
    hostKeys,
    ...(jumpIdentity !== undefined ? { identityFile: jumpIdentity } : {}),
  };
}

/** buildHost: `local`, a host of this manifest (reached as that host is), or `[user@]host[:port]` (`target` is taken before). */
function resolveBuildHost(
  picked: Picked<string | undefined> | undefined,
  targets: Map<string, Endpoint>,
  hostsData: Record<string, ManifestHost | undefined>,
  report: Report,
): Endpoint | undefined {
  if (!picked?.value || picked.value === 'local') return { kind: 'local' };
  const text = picked.value;
  if (hostsData[text] !== undefined) return targets.get(text); // that host's own problems are reported there
  const parsed = parseEndpoint(text);
  if (!parsed.ok) {
    report(
      picked.at,
      `${formatPath(picked.at)} must be "local", "target", a host of this manifest or [user@]host[:port]: ${parsed.reason}`,
    );
    return undefined;
  }
  return toEndpoint(parsed.endpoint, BUILTIN.user, BUILTIN.port);
}

/** Pinned keys as `<type> <base64>` (comments dropped), each checked to be the type it says it is. */
function resolveHostKeys(picked: Picked<string | string[] | undefined> | undefined, report: Report): string[] {
  if (!picked?.value) return [];
  const single = typeof picked.value === 'string';
  const list = single ? [picked.value as string] : (picked.value as string[]);
  const keys: string[] = [];
  list.forEach((line, index) => {
    const at = single ? picked.at : [...picked.at, index];
    const [type = '', base64 = ''] = line.split(' ');
    const problem = publicKeyProblem(type, base64);
    if (problem) report(at, `${formatPath(at)} is not a valid ${type} key: ${problem}`);
    else keys.push(`${type} ${base64}`);
  });
  return keys;
}

/** Why `<type> <base64>` is not a public key of that type, if it is not: the blob names its own type. */
export function publicKeyProblem(type: string, base64: string): string | undefined {
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64').replace(/=+$/, '') !== base64.replace(/=+$/, '')) {
    return 'its data is not valid base64';
  }
  if (blob.length < 4) return 'its data is too short';
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return 'its data is not an SSH public key';
  const inner = blob.subarray(4, 4 + length).toString('latin1');
  if (inner !== type) return `its data says ${JSON.stringify(inner)}`;
  return undefined;
}

function resolveKeys(
  name: string,
  host: ManifestHost,
  defaults: ManifestHost,
  localPath: LocalPath,
  report: Report,
): KeyPolicy | undefined {
  if (host.keys === undefined && defaults.keys === undefined) return undefined;
  const own: ManifestKeys = host.keys ?? {};
  const base: ManifestKeys = defaults.keys ?? {};
  const pick = <K extends keyof ManifestKeys>(key: K): Picked<ManifestKeys[K]> | undefined => {
    if (own[key] !== undefined) return { value: own[key], at: ['hosts', name, 'keys', key] };
    if (base[key] !== undefined) return { value: base[key], at: ['defaults', 'keys', key] };
    return undefined;
  };
  const keysAt: PathSegment[] = host.keys !== undefined ? ['hosts', name, 'keys'] : ['defaults', 'keys'];
  const push = pick('push')?.value ?? BUILTIN.keys.push;
  const hostKeyFile = pick('hostKeyFile');
  const search = pick('hostKeySearch');
  const agenix = pick('agenixKeyFile');
  const generate = pick('generate')?.value ?? BUILTIN.keys.generate;
  const hostKeySearch = (search?.value ?? []).map((dir, i) => localPath(dir, [...(search?.at ?? []), i]));

  if (push !== 'never' && !hostKeyFile && hostKeySearch.length === 0 && !agenix) {
    report(
      keysAt,
      `hosts.${name}.keys: push is "${push}" but there is nothing to push (set hostKeyFile, hostKeySearch or agenixKeyFile, or push: never)`,
      'key',
    );
  } else if (generate && !hostKeyFile && hostKeySearch.length === 0) {
    const at = pick('generate')?.at ?? keysAt;
    report(at, `hosts.${name}.keys.generate needs hostKeyFile or hostKeySearch to know where to keep the new key`);
  }

  return {
    push,
    ...(hostKeyFile?.value ? { hostKeyFile: localPath(hostKeyFile.value, hostKeyFile.at) } : {}),
    hostKeySearch,
    generate,
    ...(agenix?.value ? { agenixKeyFile: localPath(agenix.value, agenix.at) } : {}),
    agenixKeyName: pick('agenixKeyName')?.value ?? BUILTIN.keys.agenixKeyName,
    destination: pick('destination')?.value ?? BUILTIN.keys.destination,
  };
}

type BootstrapFields = Exclude<ManifestBootstrap, boolean>;

function resolveBootstrap(
  name: string,
  host: ManifestHost,
  defaults: ManifestHost,
  target: Endpoint | undefined,
  localPath: LocalPath,
  report: Report,
): BootstrapOptions | undefined {
  const asFields = (b: ManifestBootstrap | undefined): BootstrapFields | undefined =>
    b === undefined || b === false ? undefined : b === true ? {} : b;
  const own = host.bootstrap;
  let base: BootstrapFields | undefined;
  let fields: BootstrapFields | undefined;
  let at: PathSegment[];
  if (own === false) return undefined;
  if (own === undefined) {
    fields = asFields(defaults.bootstrap);
    if (!fields) return undefined;
    base = {};
    at = ['defaults', 'bootstrap'];
  } else {
    base = asFields(defaults.bootstrap) ?? {};
    fields = asFields(own) ?? {};
    at = ['hosts', name, 'bootstrap'];
  }
  if (target?.kind === 'local') {
    if (own === undefined) {
      report(
        ['hosts', name, 'target'],
        `hosts.${name}: target local cannot be bootstrapped, but defaults.bootstrap applies to it (set bootstrap: false on this host)`,
      );
    } else {
      report(
        at,
        `hosts.${name}.bootstrap: a host with target: local cannot be bootstrapped (nixos-anywhere would wipe the machine fleet runs on)`,
        'key',
      );
    }
    return undefined;
  }
  const pick = <K extends keyof BootstrapFields>(key: K): Picked<BootstrapFields[K]> | undefined => {
    if (fields?.[key] !== undefined) return { value: fields[key], at: [...at, key] };
    if (base?.[key] !== undefined) return { value: base[key], at: ['defaults', 'bootstrap', key] };
    return undefined;
  };
  const extraFiles = pick('extraFiles');
  const encryption = pick('diskEncryptionKeys');
  const hardware = pick('generateHardwareConfig');
  return {
    noDiskoDeps: pick('noDiskoDeps')?.value ?? false,
    noReboot: pick('noReboot')?.value ?? false,
    debug: pick('debug')?.value ?? false,
    phases: [...(pick('phases')?.value ?? BUILTIN.bootstrap.phases)],
    ...(extraFiles?.value ? { extraFiles: localPath(extraFiles.value, extraFiles.at) } : {}),
    diskEncryptionKeys: (encryption?.value ?? []).map((key, i) => ({
      remote: key.remote,
      local: localPath(key.local, [...(encryption?.at ?? []), i, 'local']),
    })),
    ...(hardware?.value
      ? {
          generateHardwareConfig: {
            backend: hardware.value.backend,
            path: localPath(hardware.value.path, [...hardware.at, 'path']),
          },
        }
      : {}),
    waitTimeout: pick('waitTimeout')?.value ?? BUILTIN.bootstrap.waitTimeout,
  };
}

function resolveHealthChecks(
  picked: Picked<ManifestHost['healthChecks']> | undefined,
  report: Report,
): HealthCheck[] {
  const seen = new Set<string>();
  const listAt = picked?.at ?? [];
  return (picked?.value ?? []).map((check, i) => {
    if (seen.has(check.name)) {
      const at = [...listAt, i, 'name'];
      report(at, `${formatPath(at)} ${showValue(check.name)} is used twice`);
    }
    seen.add(check.name);
    return {
      name: check.name,
      command: typeof check.command === 'string' ? ['sh', '-c', check.command] : [...check.command],
      timeout: check.timeout ?? BUILTIN.healthCheckTimeout,
    };
  });
}

/**
 * A host's secrets: defaults' and the host's merged by name (a host's entry replaces the default of
 * that name whole), each with exactly one source and its own destination. Problems of entries from
 * defaults are reported once.
 */
function resolveSecrets(
  name: string,
  host: ManifestHost,
  defaults: ManifestHost,
  baseDir: string,
  localPath: LocalPath,
  report: Report,
  once: (at: PathSegment[]) => boolean,
): SecretSpec[] {
  const entries = new Map<string, { secret: ManifestSecret; at: PathSegment[] }>();
  for (const [secretName, secret] of Object.entries(defaults.secrets ?? {})) {
    if (secret) entries.set(secretName, { secret, at: ['defaults', 'secrets', secretName] });
  }
  for (const [secretName, secret] of Object.entries(host.secrets ?? {})) {
    if (secret) entries.set(secretName, { secret, at: ['hosts', name, 'secrets', secretName] });
  }
  const specs: SecretSpec[] = [];
  const destinations = new Map<string, string>();
  for (const secretName of [...entries.keys()].sort()) {
    const { secret, at } = entries.get(secretName)!;
    const fresh = once(at);
    const given = (['command', 'file', 'env'] as const).filter((k) => secret[k] !== undefined);
    if (given.length !== 1) {
      if (fresh) {
        const why = given.length === 0 ? 'has no source' : `has ${given.length} sources (${given.join(', ')})`;
        report(at, `${formatPath(at)} ${why}: give exactly one of command, file or env`, 'key');
      }
      continue;
    }
    const destination = secret.destination ?? `${BUILTIN.secret.directory}/${secretName}`;
    if (/\/$/.test(destination) || destination.split('/').some((part) => part === '.' || part === '..')) {
      if (fresh) report([...at, 'destination'], `${formatPath([...at, 'destination'])} ${showValue(destination)} must name a file (no trailing "/", no "." or ".." parts)`);
      continue;
    }
    const clash = destinations.get(destination);
    if (clash !== undefined) {
      report(at, `hosts.${name}: secrets ${showValue(clash)} and ${showValue(secretName)} both go to ${destination}`, 'key');
      continue;
    }
    destinations.set(destination, secretName);
    const source: SecretSpec['source'] =
      secret.command !== undefined
        ? { kind: 'command', argv: [...secret.command], cwd: baseDir }
        : secret.file !== undefined
          ? { kind: 'file', path: localPath(secret.file, [...at, 'file']) }
          : { kind: 'env', name: secret.env as string };
    const mode = secret.mode ?? BUILTIN.secret.mode;
    specs.push({
      name: secretName,
      source,
      destination,
      owner: secret.owner ?? BUILTIN.secret.owner,
      group: secret.group ?? BUILTIN.secret.group,
      mode: mode.padStart(4, '0'),
      upload: secret.upload ?? BUILTIN.secret.upload,
      ...(secret.allowEmpty === true ? { allowEmpty: true } : {}),
    });
  }
  return specs;
}
