// `fleet install`: build a host's system and install it, with its keys, into a mounted root (from an installer).
import type { CommandModule } from 'yargs';
import { withFile } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export interface InstallArgs {
  file?: string;
  host: string;
  root?: string;
  force?: boolean;
  json?: boolean;
  plain?: boolean;
}

export function installCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, InstallArgs> {
  return {
    command: 'install <host>',
    describe: "on a machine booted from the NixOS installer: build <host>'s system and nixos-install it into --root with its keys",
    builder: (y) =>
      withFile(y)
        .positional('host', { type: 'string', demandOption: true, describe: 'a host name from the manifest' })
        .option('root', { type: 'string', default: '/mnt', describe: 'the mounted root file system of the new system' })
        .option('force', { type: 'boolean', describe: 'install even if the root is not a mount point or already holds a NixOS system' })
        .option('json', { type: 'boolean', describe: 'print the result as JSON' }),
    handler: (args) =>
      done(
        (async () => {
          const { runInstall } = await import('../operate-change.js');
          return runInstall({ file: args.file, host: args.host, root: args.root ?? '/mnt', force: args.force ?? false, json: args.json ?? false, plain: args.plain ?? false });
        })(),
      ),
  };
}
