// runPlan: the build stage once, and every host's sequence under one bounded-parallelism limit, each
// host starting as soon as its own system is evaluated (a pipeline: it locks and probes while it builds, and other chunks may still evaluate).
import { mkdirSync, chmodSync } from 'node:fs';
import { knownHostsLines, lockEarly, newDigestKey, runBuildStage, SecretReader, writeJumpConfigs, writeKnownHosts, type BuildFailure, type BuildResult, type HeldLock, type HostBuild, type LockSession } from '../backends/index.js';
import { closureTravel } from './closure-travel.js';
import { execProcess, type Exec } from '../exec/index.js';
import { sshControlExit } from '../ssh/index.js';
import { needsSystems, type Plan } from '../plan/index.js';
import { existsSync, readFileSync } from 'node:fs';
import type { HostOutcome, Reporter, RunEvent } from './events.js';
import { runHost, type HostRunContext } from './host-sequence.js';
import type { HostResult } from './host-stage.js';
import { changedTarget, failedHealthCheck, rollBackHost } from './rollout-rollback.js';
import { bounded, forEachHost } from './operate.js';
import { ConfirmGate, type AskConfirm } from './confirm-gate.js';
import { runRollout } from './rollout.js';

export interface RunDeps {
  exec?: Exec;
  reporter: Reporter;
  /** Aborted on the first Ctrl-C. */
  signal?: AbortSignal;
  confirmBootstrap?: (host: string, target: string) => Promise<boolean>;
  /** apply --confirm: the one question, with every host's diff; without it nothing is confirmed. */
  confirmApply?: AskConfirm;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RunResult {
  outcomes: HostOutcome[];
  interrupted: boolean;
  startedAt: number;
  finishedAt: number;
  /** `nix build` invocations of the build stage (each one evaluator). */
  evaluations: number;
  /** Hosts evaluated, and hosts the evaluation cache answered. */
  evaluatedHosts: number;
  cachedHosts: number;
}

/** known_hosts lines from the manifest's pins and the public halves of keys fleet will push. */
function pinnedLines(plan: Plan): string[] {
  const lines: string[] = [];
  for (const host of plan.hosts) {
    if (host.target.kind !== 'ssh') continue;
    const keys = [...host.pinnedKeys];
    for (const candidate of host.keys?.hostKeyCandidates ?? []) {
      if (existsSync(`${candidate}.pub`)) {
        keys.push(readFileSync(`${candidate}.pub`, 'utf8').trim());
        break;
      }
    }
    lines.push(...knownHostsLines(host.target, keys));
    if (host.ssh?.jump) lines.push(...knownHostsLines(host.ssh.jump.endpoint, host.ssh.jump.hostKeys));
  }
  for (const chunk of plan.build.chunks) {
    if (chunk.buildHost.kind === 'ssh') lines.push(...knownHostsLines(chunk.buildHost, chunk.buildHostKeys));
  }
  return [...new Set(lines)];
}

/** Creates the run's private directories and the pinned known_hosts. */
export function prepareRunFiles(plan: Plan): void {
  mkdirSync(plan.paths.runtimeDir, { recursive: true, mode: 0o700 });
  chmodSync(plan.paths.runtimeDir, 0o700);
  writeKnownHosts(plan.paths.knownHosts, pinnedLines(plan));
  writeJumpConfigs(plan);
  if (plan.hosts.some((h) => h.ssh?.trustOnFirstUse)) mkdirSync(plan.paths.stateDir, { recursive: true, mode: 0o700 });
}

/** The build stage of a run that needs no system: every host is ready at once, with none. */
function noBuild(plan: Plan, callbacks: Parameters<typeof runBuildStage>[4]): BuildResult {
  const result: BuildResult = { built: new Map(), failed: new Map(), evaluations: 0, evaluatedHosts: 0, cachedHosts: 0 };
  for (const host of plan.hosts) {
    const none: HostBuild = { toplevel: '' };
    result.built.set(host.name, none);
    callbacks.onReady(host.name, none);
  }
  return result;
}

/** Waits `ms`, or until `signal` is aborted (a rollout's pause ends on Ctrl-C). */
function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs a plan to the end (or the interrupt) and returns one outcome per selected host. */
export async function runPlan(plan: Plan, deps: RunDeps): Promise<RunResult> {
  const exec = deps.exec ?? execProcess;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const signal = deps.signal ?? new AbortController().signal;
  const emit = (event: RunEvent) => deps.reporter.emit(event);
  const startedAt = now();

  prepareRunFiles(plan);

  // Each early host's lock session (connection, lock, probe), started right after the evaluators
  // (below), overlaps the evaluation; its host takes it over once evaluated. A host that cannot be
  // reached is reported by its lock step, not here.
  const early = new Map<string, { lock: Promise<HeldLock>; digestKey: string; closure: LockSession['closure'] }>();

  // Each host waits for its own evaluation: ready when its outputs are known (it locks and probes
  // while they are built; only what needs them here waits for `realised`), when its build failed,
  // or when the whole stage has ended (interrupted, or it threw).
  const evaluated = new Map<string, HostBuild>();
  const built = new Map<string, HostBuild>();
  const failed = new Map<string, BuildFailure>();
  const readiness = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const realised = new Map<string, { promise: Promise<BuildFailure | undefined>; resolve: (failure: BuildFailure | undefined) => void }>();
  for (const host of plan.hosts) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    readiness.set(host.name, { promise, resolve });
    let settle!: (failure: BuildFailure | undefined) => void;
    const outputs = new Promise<BuildFailure | undefined>((r) => (settle = r));
    realised.set(host.name, { promise: outputs, resolve: settle });
  }
  // Built systems stay rooted for the run; with cache.push, each goes to the cache before its hosts copy it.
  const travel = closureTravel(plan, { exec, signal, emit });
  const callbacks: Parameters<typeof runBuildStage>[4] = {
    onCached: (hosts, evaluating) => emit({ type: 'build-cached', hosts, evaluating }),
    onStart: (hosts, chunk, chunks) => emit({ type: 'build-start', hosts, chunk, chunks }),
    onLine: (hosts, line) => emit({ type: 'build-line', hosts, line }),
    onBuilt: (host, output, storePath) => emit({ type: 'build-done', host, output, storePath }),
    onFailed: (host, failure) => {
      failed.set(host, failure);
      emit({ type: 'build-failed', host, reason: failure.reason, tail: failure.tail });
      readiness.get(host)?.resolve();
      realised.get(host)?.resolve(failure);
    },
    onEvaluated: (host, outputs) => {
      evaluated.set(host, outputs);
      // Asked now, the answer follows the probe's in the same round trip, before the host needs it.
      early.get(host)?.closure(outputs.toplevel);
      readiness.get(host)?.resolve();
    },
    onReady: (host, result) => {
      built.set(host, result);
      readiness.get(host)?.resolve();
      void travel.pushed(host, result).then(
        () => realised.get(host)?.resolve(undefined),
        () => realised.get(host)?.resolve(undefined),
      );
    },
  };
  // A run that installs, deploys and verifies nothing (push-keys, push-secrets) builds nothing.
  const buildStage = needsSystems(plan.scope)
    ? runBuildStage(plan.build, plan.commands, plan.flake, exec, callbacks, { evaluators: bounded(plan.build.evalJobs), signal, resultLink: travel.resultLink })
    : Promise.resolve(noBuild(plan, callbacks));
  // The evaluators start first (within a few microtasks): they are the run's longest path, and
  // every process started before them would delay them.
  if (!plan.scope.buildOnly) {
    await new Promise((resolve) => setImmediate(resolve));
    for (const host of plan.hosts) {
      const digestKey = newDigestKey();
      const session = lockEarly(host, exec, signal, digestKey);
      if (!session) continue;
      session.held.catch(() => undefined);
      early.set(host.name, { lock: session.held, digestKey, closure: session.closure });
      // A host the evaluation cache answered was evaluated before its session opened: ask now.
      const known = evaluated.get(host.name);
      if (known) session.closure(known.toplevel);
    }
  }
  const stageOver = buildStage.then(
    () => undefined,
    () => undefined,
  );
  void stageOver.then(() => {
    for (const { resolve } of readiness.values()) resolve();
    // Evaluated but neither built nor failed: the stage was interrupted (or threw) first.
    for (const [host, { resolve }] of realised) {
      if (!built.has(host) && !failed.has(host)) resolve({ reason: signal.aborted ? 'interrupted during the build' : 'not built', tail: [] });
    }
  });

  if (plan.scope.buildOnly) {
    const build = await buildStage;
    const outcomes = plan.hosts.map((host): HostOutcome => {
      const failure = build.failed.get(host.name);
      const built = build.built.get(host.name);
      const outcome: HostOutcome = {
        host: host.name,
        kind: failure ? 'failed' : built ? 'unchanged' : 'skipped',
        mode: host.mode,
        step: 'build',
        reason: failure ? `build failed: ${failure.reason}` : built ? `built ${built.toplevel}` : 'interrupted during the build',
        storePath: built?.toplevel,
        tail: failure?.tail ?? [],
        startedAt,
        finishedAt: now(),
        steps: [],
      };
      emit({ type: 'host-done', outcome });
      return outcome;
    });
    await travel.finish(build.built);
    return { outcomes, interrupted: signal.aborted, startedAt, finishedAt: now(), evaluations: build.evaluations, evaluatedHosts: build.evaluatedHosts, cachedHosts: build.cachedHosts };
  }

  // Secret sources are read once per run, whichever hosts share them; overwritten when it ends.
  const secrets = new SecretReader(exec);

  // --confirm: each host waits after its diff, outside its place among `parallel`, for one answer.
  const confirms = plan.hosts.some((h) => !('never' in h.diff) && h.diff.use === 'confirm');
  // Without a way to ask, no host gets a confirmation (each says so).
  const gate = confirms && deps.confirmApply ? new ConfirmGate(plan.hosts.map((h) => h.name), deps.confirmApply) : undefined;

  // Fail-fast stops new hosts from starting; running ones finish their sequence.
  const stopNew = new AbortController();
  const reportsItself = new Set<string>();
  // Each host's result once its sequence has ended: what a rollout reads (never a live run).
  const results = new Map<string, { result: HostResult; system: HostBuild; ctx: HostRunContext }>();
  // Hosts whose end a rollout announces itself, after its wave's verdict (it may roll them back first).
  const held = new Set<string>();
  const emitHost = (event: RunEvent) => {
    if (event.type === 'host-done' && held.has(event.outcome.host)) return;
    emit(event);
  };
  const skipped = (host: Plan['hosts'][number], reason: string): HostOutcome => {
    const at = now();
    return { host: host.name, kind: 'skipped', mode: host.mode, step: 'build', reason, tail: [], startedAt: at, finishedAt: at, steps: [] };
  };
  const buildFailed = (host: Plan['hosts'][number], failure: BuildFailure): HostOutcome => {
    const at = now();
    return { host: host.name, kind: 'failed', mode: host.mode, step: 'build', reason: `build failed: ${failure.reason}`, tail: failure.tail, startedAt: at, finishedAt: at, steps: [] };
  };
  const runHosts = (hosts: readonly Plan['hosts'][number][], holdDone: boolean) => {
    if (holdDone) for (const host of hosts) held.add(host.name);
    return forEachHost(
      hosts,
      async (host, place): Promise<HostOutcome> => {
        if (stopNew.signal.aborted) return skipped(host, `not started: ${String(stopNew.signal.reason)}`);
        const failure = failed.get(host.name);
        if (failure) return buildFailed(host, failure);
        const system = built.get(host.name) ?? evaluated.get(host.name);
        if (!system) return skipped(host, signal.aborted ? 'interrupted during the build' : 'not built');
        reportsItself.add(host.name);
        const outputs = realised.get(host.name)!.promise;
        const confirmDiff = gate ? (diff: Parameters<ConfirmGate['arrive']>[1]) => place.outside(gate.arrive(host.name, diff)) : undefined;
        const earlyLock = early.get(host.name);
        const ctx: HostRunContext = { plan, exec, emit: emitHost, signal, confirmBootstrap: deps.confirmBootstrap, confirmDiff, now, sleep, realised: () => outputs, secrets, ...(earlyLock ? { earlyLock } : {}) };
        const result = await runHost(host, system, ctx);
        results.set(host.name, { result, system, ctx });
        return result.outcome;
      },
      {
        parallel: plan.parallel,
        signal,
        ready: (name) => readiness.get(name)!.promise,
        onSkipped: (name) => skipped(plan.hosts.find((h) => h.name === name)!, 'interrupted before it started'),
        onError: (host, error): HostOutcome => ({ ...skipped(host, ''), kind: 'failed', reason: error instanceof Error ? error.message : String(error) }),
        onDone: (name, outcome) => {
          gate?.leave(name);
          // A host's sequence reports its own end; the others end here.
          if (!reportsItself.has(name)) emitHost({ type: 'host-done', outcome });
          if (plan.failFast && ['failed', 'rolled-back', 'unreachable'].includes(outcome.kind)) stopNew.abort(`--fail-fast after ${outcome.host} failed`);
        },
      },
    );
  };
  const outcomes = await (plan.rollout
    ? runRollout({
        plan,
        rollout: plan.rollout,
        runWave: runHosts,
        notStarted: (host, reason) => {
          const failure = failed.get(host.name);
          return failure ? buildFailed(host, failure) : skipped(host, reason);
        },
        changedTarget: (name) => changedTarget(plan.hosts.find((h) => h.name === name)!, results.get(name)?.result),
        failedCheck: (name) => failedHealthCheck(results.get(name)?.result),
        rollBack: (host, outcome, why) => {
          const ran = results.get(host.name);
          return ran ? rollBackHost(host, ran.system, { ...ran.result, outcome }, ran.ctx, why) : Promise.resolve(outcome);
        },
        emit,
        signal,
        pause: pauseFor,
        bounded: bounded(plan.parallel),
      })
    : runHosts(plan.hosts, false)
  ).finally(() => secrets.dispose());

  // A host that never ran (its build failed, fail-fast, an interrupt), or stopped before it took
  // its lock over, still holds the lock session started for it: release it (again is harmless),
  // and retire the connection of one that never ran rather than leave it for its ControlPersist.
  await Promise.all(
    plan.hosts
      .filter((host) => early.has(host.name) && host.ssh)
      .map(async (host) => {
        const held = await early.get(host.name)!.lock.catch(() => undefined);
        await held?.release();
        if (!reportsItself.has(host.name)) await exec({ argv: sshControlExit(host.ssh!, 'stop'), timeoutMs: 10_000 }).catch(() => undefined);
      }),
  );

  // Every host has ended, so has the build stage (each waited for it); a stage that threw throws here.
  const build = await buildStage.finally(() => travel.finish(built));
  return { outcomes, interrupted: signal.aborted, startedAt, finishedAt: now(), evaluations: build.evaluations, evaluatedHosts: build.evaluatedHosts, cachedHosts: build.cachedHosts };
}
