// `fleet ssh`: a shell (or one command) on a host with fleet's own ssh options; exit code = ssh's.
import type { CommandModule } from 'yargs';
import { withFile } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export interface SshArgs {
  file?: string;
  host: string;
  '--'?: (string | number)[];
}

export function sshCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, SshArgs> {
  return {
    command: 'ssh <host>',
    describe: 'open a shell on a host (or run: fleet ssh <host> -- <cmd…>) with its pinned host key, identity and port',
    builder: (y) =>
      withFile(y)
        .positional('host', { type: 'string', demandOption: true, describe: 'a host name from the manifest' }),
    handler: (args) =>
      done(
        (async () => {
          const { runSsh } = await import('../operate-run.js');
          return runSsh({ file: args.file, host: args.host, command: (args['--'] ?? []).map(String) });
        })(),
      ),
  };
}
