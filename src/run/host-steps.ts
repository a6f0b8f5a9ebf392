// The steps of a host's sequence before its deploy: connect, diff, confirm, secrets, push-keys,
// bootstrap. Each takes the host from one stage to the next (host-stage.ts), says what it did or
// why it skipped, or throws a typed failure; every command runs through the host's verbs.
import { BuildFailed, ConsentRefused, HostError, HostUnreachable, Interrupted } from '../errors.js';
import {
  describeOutOfPlace,
  diffSummary,
  firstUseFingerprints,
  keysToPush,
  pinPushedHostKey,
  provenNotNixos,
  removeInstallStaging,
  REBOOT_POLL_BACKOFF,
  resolveKeys,
  retryDelayMs,
  SecretReader,
  stageForInstall,
  type ClosureDiff,
  type HeldLock,
  type HostBuild,
  type HostVerbs,
  type ProbeFacts,
  type SecretReader as Reader,
} from '../backends/index.js';
import type { Exec } from '../exec/index.js';
import type { BootstrapStep, DiffStep, HostPlan, Plan, PushKeysStep, SecretsStep, StepKind } from '../plan/index.js';
import type { RunEvent } from './events.js';
import { withChange, type Contacted } from './host-stage.js';

/** What a host run needs from the fleet-wide run. */
export interface HostRunContext {
  plan: Plan;
  exec: Exec;
  emit: (event: RunEvent) => void;
  /** Aborted on Ctrl-C: no new step starts; running processes get SIGINT. */
  signal: AbortSignal;
  /** Asks before wiping disks; undefined means only --yes gives consent. */
  confirmBootstrap?: (host: string, target: string) => Promise<boolean>;
  /**
   * The --confirm gate for this host: resolves once every host's diff is in and the one question
   * is answered (true: go on). Undefined with a plan that confirms: nobody can answer, so no.
   */
  confirmDiff?: (diff: ClosureDiff) => Promise<boolean>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /**
   * Resolves once the host's outputs are built here (undefined) or could not be (the failure).
   * The host starts as soon as they are evaluated: only installing and copying wait for this.
   * Absent: built already.
   */
  realised?: () => Promise<{ reason: string; tail: string[] } | undefined>;
  /** Reads secret sources once per run for every host (a host run without one reads its own). */
  secrets?: Reader;
  /** The host's lock session, started when the run started (`lockEarly`, with `digestKey`). */
  earlyLock?: { lock: Promise<HeldLock>; digestKey: string };
}

/** One host's run: its plan, its built system, the run's context and its verbs. */
export interface HostScope {
  host: HostPlan;
  build: HostBuild;
  ctx: HostRunContext;
  verbs: HostVerbs;
  /** A notice for the user and the outcome's reason. */
  note(level: 'info' | 'warn', message: string): void;
}

/** A step that decided not to run: the host stays where it was. */
export class Skip {
  constructor(readonly reason: string) {}
}

/** What a step that ran did: where the host is now, and a short result. */
export interface Moved {
  stage: Contacted;
  detail: string;
}

export function requested(s: HostScope, kind: StepKind): boolean {
  return s.ctx.plan.scope.steps.includes(kind);
}

/** Waits for this host's outputs to exist here; a failed build ends the host at `build`. */
export async function outputsBuilt(s: HostScope): Promise<void> {
  const failure = await s.ctx.realised?.();
  if (!failure) return;
  if (s.ctx.signal.aborted) throw new BuildFailed(s.host.name, 'interrupted during the build');
  throw new BuildFailed(s.host.name, `build failed: ${failure.reason}`, failure.tail);
}

/** The probe's facts in a few words: the connect step's result. */
function describeFacts(host: HostPlan, facts: ProbeFacts): string {
  const locked = host.connect.kind === 'lock-and-probe' ? 'locked; ' : '';
  if (!facts.nixos && !facts.current) return `${locked}not NixOS (bare)`;
  return `${locked}NixOS, running ${facts.current || 'nothing'}${facts.generation !== undefined ? `, generation ${facts.generation}` : ''}`;
}

/** First contact: lock and probe (or take over the early lock session); notes a key trusted on first use. */
export async function connect(s: HostScope, trustedBefore: readonly unknown[] | undefined): Promise<Moved> {
  const connection = await s.verbs.connect(s.ctx.earlyLock?.lock);
  const facts = connection.facts;
  if (trustedBefore && trustedBefore.length === 0) {
    for (const fingerprint of firstUseFingerprints(s.host)) s.note('info', `trusted on first use: ${fingerprint}`);
  }
  return { stage: { at: 'locked', contact: { connection, before: facts, facts, closureOnTarget: false } }, detail: describeFacts(s.host, facts) };
}

/**
 * Whether the built closure is already on the target: from the probe, or asked over the held
 * lock session when that started before the system was evaluated.
 */
export async function closurePresent(s: HostScope, stage: Contacted): Promise<boolean> {
  const { facts, connection } = stage.contact;
  if (facts.closure !== undefined || !connection.closure) return facts.closure === 'present';
  return (await connection.closure(s.build.toplevel)) === 'present';
}

/**
 * Copies the closure (the copy deploy makes anyway) and compares the live system with the built
 * one on the target; shows the diff (--diff) or leaves it for the one question (--confirm).
 */
export async function diff(s: HostScope, stage: Contacted, step: DiffStep): Promise<Moved> {
  const facts = stage.contact.facts;
  const toplevel = s.build.toplevel;
  let found: ClosureDiff;
  let copied = stage.contact.closureOnTarget;
  if (provenNotNixos(facts)) found = { kind: 'not-installed', to: toplevel };
  else if (facts.current === toplevel) found = { kind: 'same', system: toplevel };
  else {
    // The built system is needed here to copy it, or to list it when this machine is the target.
    const present = await closurePresent(s, stage);
    if (!present || !step.copy) await outputsBuilt(s);
    if (step.copy && !present) await s.verbs.copyClosure(step.copy, step.copyTimeoutSeconds, 'diff');
    else if (step.copy) s.ctx.emit({ type: 'step-line', host: s.host.name, step: 'diff', line: 'closure already on the target: nothing to copy' });
    copied = true;
    found = await s.verbs.diff(step.compare);
  }
  if (step.use === 'show') s.ctx.emit({ type: 'host-diff', host: s.host.name, diff: found });
  return { stage: { ...stage, contact: { ...stage.contact, diff: found, closureOnTarget: copied } }, detail: diffSummary(found) };
}

/** --confirm: waits for the one answer (given once every host's diff is in); no means skipped. */
export async function confirm(s: HostScope, stage: Contacted): Promise<void> {
  const yes = s.ctx.confirmDiff && stage.contact.diff ? await s.ctx.confirmDiff(stage.contact.diff) : false;
  if (yes) return;
  const why = s.ctx.signal.aborted ? 'interrupted at the confirmation' : s.ctx.confirmDiff ? 'not confirmed at the prompt' : 'not confirmed (no one to ask)';
  throw new ConsentRefused(s.host.name, 'diff', `${why}; nothing was activated`);
}

/** Reads every secret's source (once per run) and sees, by the probe's keyed digests, which are in place. */
export async function readSecrets(s: HostScope, stage: Contacted): Promise<Moved | Skip> {
  const planned: HostPlan['secrets'] = s.host.secrets;
  if ('never' in planned) return new Skip(planned.never);
  const step: SecretsStep = planned;
  const reader = s.ctx.secrets ?? new SecretReader(s.ctx.exec);
  let contents: Buffer[];
  try {
    contents = await reader.readAll(s.host.name, 'secrets', step.secrets, s.ctx.signal);
  } catch (error) {
    if (!(error instanceof HostError) || s.ctx.signal.aborted) throw error;
    throw new HostError(s.host.name, 'secrets', `${error.message}; nothing on the host was changed`, error.tail, error.hint);
  }
  const states = s.verbs.secretStates(step.secrets, stage.contact.facts.secrets, contents);
  const out = describeOutOfPlace(step.secrets, states);
  const read = `read ${step.secrets.length} secret${step.secrets.length === 1 ? '' : 's'} here`;
  const detail = out.length === 0 ? `${read}; all in place on the target` : `${read}; not in place: ${out.join(', ')}`;
  return { stage: { ...stage, contact: { ...stage.contact, secrets: { contents, states } } }, detail };
}

/** Pushes the host's keys that differ on the target, or stages them for nixos-anywhere. */
export async function pushKeys(s: HostScope, stage: Contacted, bootstrapping: boolean): Promise<Moved | Skip> {
  const planned: HostPlan['pushKeys'] = s.host.pushKeys;
  if ('never' in planned) return new Skip(planned.never);
  const step: PushKeysStep = planned;
  if (!bootstrapping && step.keys.push === 'bootstrap' && !s.ctx.plan.scope.forceKeyPush) {
    return new Skip('keys.push is bootstrap and the host is already installed');
  }
  const resolved = await resolveKeys(s.host.name, step.keys, s.ctx.exec, s.ctx.signal);
  const known: Contacted = { ...stage, contact: { ...stage.contact, keys: resolved } };
  if (resolved.generated) s.note('info', `generated host key ${resolved.hostKeyPath}`);
  // fleet pushes this key itself, so it is pinned for every later connection.
  if (resolved.hostPublicKey && step.pinPushedKey) pinPushedHostKey(s.ctx.plan, s.host, resolved.hostPublicKey);
  if (bootstrapping && 'install' in s.host.bootstrap) {
    stageForInstall(s.host.bootstrap, step.keys.destination, resolved.files);
    return { stage: known, detail: `staged ${resolved.files.length} key file(s) for nixos-anywhere --extra-files` };
  }
  const changed = keysToPush(resolved.files, stage.contact.facts.keys);
  if (changed.length === 0) return new Skip('identical keys already on the target');
  // From here the target may have changed, whatever the push answers.
  const pushing = withChange(known, 'keys pushed');
  await changing(pushing, () => s.verbs.pushKeys(step.push, changed));
  return { stage: pushing, detail: `pushed ${changed.map((f) => f.name).join(', ')} to ${step.keys.destination}` };
}

/**
 * Runs a verb that changes the target: its failure is one of a host at `stage` (already changed),
 * which the sequence must know to say "failed", never "skipped", and to record what was activated.
 */
export async function changing<T>(stage: Contacted, verb: () => Promise<T>): Promise<T> {
  try {
    return await verb();
  } catch (error) {
    throw error instanceof StageFailure ? error : new StageFailure(stage, error);
  }
}

/** A step's failure with the stage the host had reached when it failed. */
export class StageFailure extends Error {
  constructor(
    readonly stage: Contacted,
    readonly failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}

/** Installs NixOS with nixos-anywhere on a host the probe proved bare, with consent, and waits for it. */
export async function bootstrap(s: HostScope, stage: Contacted, bootstrapping: boolean): Promise<Moved | Skip> {
  const planned: HostPlan['bootstrap'] = s.host.bootstrap;
  if ('never' in planned) return new Skip(planned.never);
  const step: BootstrapStep = planned;
  if (!bootstrapping) return new Skip('already NixOS — not bootstrapping');
  const target = s.host.target;
  const where = target.kind === 'ssh' ? `${target.user}@${target.host}` : 'this machine';
  if (!s.ctx.plan.allowBootstrap) {
    const consent = s.ctx.confirmBootstrap ? await s.ctx.confirmBootstrap(s.host.name, where) : false;
    if (!consent) throw new ConsentRefused(s.host.name, 'bootstrap', `bootstrap wipes the disks of ${where}: not confirmed (run with --yes to allow it)`);
  }
  await outputsBuilt(s);
  const installing = withChange(stage, 'installed');
  const facts = await changing(installing, async () => {
    try {
      await s.verbs.install(step.install);
    } finally {
      removeInstallStaging(step);
    }
    // The old system's master connection is gone with it.
    await s.verbs.close();
    return waitForInstalled(s, installing, step);
  });
  const installed: Contacted = { ...installing, contact: { ...installing.contact, facts, closureOnTarget: true } };
  return { stage: installed, detail: `installed ${s.build.toplevel}` };
}

/** Waits for the installed system to answer with the pushed host key and run the built system. */
async function waitForInstalled(s: HostScope, stage: Contacted, step: BootstrapStep): Promise<ProbeFacts> {
  const pinned = s.verbs.pinInstalledKey(step.waitForInstalled, stage.contact.keys?.hostPublicKey, s.ctx.plan.paths.runtimeDir);
  const deadline = s.ctx.now() + step.waitSeconds * 1000;
  let last: HostError | undefined;
  let poll = 0;
  for (;;) {
    if (s.ctx.signal.aborted) throw new Interrupted(s.host.name, 'bootstrap', 'interrupted while waiting for the installed system');
    try {
      const facts = await s.verbs.probe('bootstrap', pinned);
      if (facts.current !== s.build.toplevel) {
        throw new HostError(s.host.name, 'bootstrap', `the host came back running ${facts.current || 'no system'}, not ${s.build.toplevel}`);
      }
      return facts;
    } catch (error) {
      if (!(error instanceof HostError)) throw error;
      last = error;
      // Only a host that does not answer yet (rebooting) is asked again.
      if (!(error instanceof HostUnreachable) || s.ctx.now() >= deadline) break;
      await s.ctx.sleep(retryDelayMs(poll++, REBOOT_POLL_BACKOFF));
    }
  }
  throw new HostError(s.host.name, 'bootstrap', `the installed system did not answer as expected within ${step.waitSeconds}s: ${last?.message ?? 'no answer'}`, last?.tail ?? []);
}

/** Uploads the secrets of one upload that are not in place (all of them on a host just installed). */
export async function uploadSecrets(s: HostScope, stage: Contacted, when: 'before' | 'after'): Promise<Moved | Skip> {
  const step = s.host.secrets as SecretsStep;
  const upload = when === 'before' ? step.beforeActivation : step.afterActivation;
  const read = stage.contact.secrets;
  if (!upload || !read) return new Skip('no secrets read');
  const installed = stage.at !== 'locked' && stage.changes.some((c) => c === 'installed');
  const files = upload.secrets.flatMap((secret, index) => {
    const at = step.secrets.indexOf(secret);
    // A host just installed runs a new system: nothing the probe saw on the installer counts.
    const inPlace = !installed && read.states[at]?.kind === 'in-place';
    return inPlace ? [] : [{ index, secret, content: read.contents[at] as Buffer }];
  });
  if (files.length === 0) return new Skip('identical secrets already on the target');
  const names = files.map((f) => `${f.secret.name} → ${f.secret.destination}`).join(', ');
  if (!step.uploads) return new Skip(`dry-activate uploads nothing; would upload ${names}`);
  // A host whose build then fails must end with nothing changed: its system is built first.
  if (when === 'before' && requested(s, 'deploy')) await outputsBuilt(s);
  const uploading = withChange(stage, 'secrets uploaded');
  await changing(uploading, () => s.verbs.pushSecrets(upload, files, when === 'after'));
  return { stage: uploading, detail: `uploaded ${names}` };
}
