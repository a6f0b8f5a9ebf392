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
