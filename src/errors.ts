// The typed errors of fleet: every user-facing failure is one of these, with a code and a hint.

/** Base of every error fleet expects; the CLI prints `message` (and `hint`) without a stack. */
export class FleetError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem in a manifest, located in its file. */
export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  /** e.g. `hosts.vps-pacman.mode must be one of switch, boot, test, dry-activate (got "swtich")` */
  message: string;
}

/** Every problem found in a manifest, reported at once. */
export class ManifestError extends FleetError {
  constructor(readonly problems: ManifestProblem[]) {
    super(
      problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n'),
      'MANIFEST',
      'fix the lines above and run `fleet validate` again',
    );
  }
}

/** A command-line usage problem (unknown host in --only, bad flag value). */
export class UsageError extends FleetError {
  constructor(message: string, hint?: string) {
    super(message, 'USAGE', hint);
  }
}

/** A process exited non-zero (or was killed); carries the argv and the last lines of its output. */
export class CommandError extends FleetError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly tail: string[],
    summary?: string,
  ) {
    super(
      summary ??
        `${argv[0] ?? '?'} ${signal ? `was killed by ${signal}` : `exited with ${exitCode}`}`,
      'COMMAND',
    );
  }
}

/** A failure of one host at one step. */
export class HostError extends FleetError {
  constructor(
    readonly host: string,
    readonly step: string,
    message: string,
    readonly tail: string[] = [],
    hint?: string,
  ) {
    super(message, 'HOST', hint);
  }
}

// The failures of a host's sequence that the runner tells apart: each its own type, so that
// control flow switches on the type and never reads the message.

/** The host could not be reached: ssh itself failed, or no answer came in time. */
export class HostUnreachable extends HostError {}

/** Another run holds the host's deploy lock. */
export class HostLocked extends HostError {
  constructor(
    host: string,
    /** Who holds it, as the lock script said (`another run` when it did not). */
    readonly holder: string,
  ) {
    super(host, 'lock', `locked by ${holder}`, [], 'another fleet run is deploying this host; wait for it, or raise --lock-timeout');
  }
}

/** A step ran out of its time (activationTimeout, copyTimeout, an answer that never came). */
export class StepTimedOut extends HostError {}

/** A manifest health check failed after activation; `check` names it (a rollout's gate says which). */
export class HealthCheckFailed extends HostError {
  constructor(
    host: string,
    readonly check: string,
    /** Why, without what it means for the host: `exit 1`, `timed out after 5s`. */
    readonly detail: string,
    tail: string[],
    hint?: string,
  ) {
    super(host, 'verify', `health check "${check}" failed (${detail}); the new system stays live`, tail, hint);
  }
}

/** The host's own build failed after it had started (locked and probed, nothing changed). */
export class BuildFailed extends HostError {
  constructor(host: string, message: string, tail: string[] = []) {
    super(host, 'build', message, tail);
  }
}

/** Nobody consented to what the step would do (wiping disks, the --confirm question): the host is skipped. */
export class ConsentRefused extends HostError {}

/** The watchdog rolled the host back to its previous system before fleet could confirm the new one. */
export class WatchdogRolledBack extends HostError {
  constructor(
    host: string,
    step: string,
    message: string,
    /** The system the host runs again. */
    readonly system: string,
  ) {
    super(host, step, message);
  }
}

/** Ctrl-C stopped the step. */
export class Interrupted extends HostError {}

/** No fresh connection before the watchdog's deadline, and none after it: the host did not come back. */
export class UnreachableAfterDeadline extends HostUnreachable {}
