// `fleet validate`: load and check the manifest; print what it defines.
import type { CommandModule } from 'yargs';
import { withFile } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

interface Args {
  file?: string;
}

export function validateCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, Args> {
  return {
    command: 'validate',
    describe: 'check the manifest against its schema and cross-field rules',
    builder: (y) => withFile(y),
    handler: (args) =>
      done(
        (async () => {
          const { loadInventory } = await import('../context.js');
          const inventory = await loadInventory(args.file);
          const hosts = inventory.hosts.length;
          return { exitCode: 0, stdout: [`${inventory.manifestPath}: ok (${hosts} host${hosts === 1 ? '' : 's'})`] };
        })(),
      ),
  };
}
