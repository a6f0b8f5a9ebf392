// The flags most commands share, declared once for yargs.
import type { Argv } from 'yargs';

export function withFile<T>(y: Argv<T>) {
  return y.option('file', {
    alias: 'f',
    type: 'string',
    describe: 'manifest to read (default: $FLEET_FILE, else ./fleet.yaml)',
    // One manifest per run: `-f a -f b` is a usage error, not a list.
    coerce: (value: unknown) => {
      if (Array.isArray(value)) throw new Error(`-f/--file given ${value.length} times: name one manifest`);
      return value as string | undefined;
    },
  });
}

export function withSelection<T>(y: Argv<T>) {
  return withFile(y)
    .option('only', {
      type: 'string',
      array: true,
      describe: 'hosts to act on: names, globs (web-*) or @tags; comma-separated or repeated',
    })
    .option('tag', { type: 'string', array: true, describe: 'hosts with this tag (repeatable)' })
    .option('exclude', { type: 'string', array: true, describe: 'hosts to leave out: names, globs or @tags' })
    .option('parallel', { alias: 'p', type: 'number', describe: 'hosts at once (0 = unlimited; default from the manifest, else 10)' });
}

/** The selection with positional host selectors: `fleet <command> [hosts..]`. */
export function withHostSelection<T>(y: Argv<T>) {
  return withSelection(y).positional('hosts', { type: 'string', array: true, describe: 'host names, globs or @tags (same as --only)' });
}

export function withModes<T>(y: Argv<T>) {
  return y
    .option('switch', { type: 'boolean', describe: 'activate now and make it the boot default' })
    .option('boot', { type: 'boolean', describe: 'make it the boot default only; activates at next boot' })
    .option('test', { type: 'boolean', describe: 'activate now, not the boot default' })
    .option('dry-activate', { type: 'boolean', describe: 'show what activation would change; changes nothing' });
}

export function withOutput<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'boolean', describe: 'print a JSON report on stdout instead of progress' })
    .option('report', { type: 'string', describe: 'also write the JSON report to this file' });
}

/** `--ask-sudo-password` (nixos-rebuild-ng's name): for every command that runs privileged steps. */
export function withSudoPassword<T>(y: Argv<T>) {
  return y.option('ask-sudo-password', {
    type: 'boolean',
    describe: 'ask for the sudo password once on the terminal and hand it to every privileged command on its stdin (hosts that escalate with sudo; same as askSudoPassword: true)',
  });
}

/** `--verbose`: on a terminal, the per-step tree of every host instead of one line per running host. */
export const VERBOSE_OPTION = { type: 'boolean', describe: 'on a terminal: every host\'s steps as a tree, not one line per running host' } as const;

/** A rollout's flags (apply, plan): each overrides the manifest's `rollout:` field of its name. */
export function withRollout<T>(y: Argv<T>) {
  return y
    .option('canary', { type: 'string', array: true, describe: 'deploy these hosts first, alone: names, globs or @tags (overrides rollout.canary)' })
    .option('waves', { type: 'string', describe: 'then the rest in waves of N hosts or N% of them (overrides rollout.waves)' })
    .option('pause', { type: 'number', describe: 'seconds between waves (overrides rollout.pause)' })
    .option('on-failure', { choices: ['stop', 'rollback'] as const, describe: 'when a wave fails: stop, or also roll its changed hosts back (overrides rollout.onFailure)' })
    .option('rollout', { type: 'boolean', hidden: true })
    .option('no-rollout', { type: 'boolean', describe: "ignore the manifest's rollout: every host at once (up to --parallel)" });
}

/** How closures travel (apply, plan): --no-substitutes overrides the manifest's `substitutes`; --keep-result roots the results. */
export function withClosureFlags<T>(y: Argv<T>) {
  return y
    .option('substitutes', { type: 'boolean', hidden: true })
    .option('no-substitutes', { type: 'boolean', describe: 'targets substitute nothing from their binary caches: all they lack is uploaded from here (overrides substitutes)' })
    .option('keep-result', { type: 'boolean', describe: 'keep a GC root of each built system in .fleet/gcroots/<host> beside the manifest after the run' });
}
