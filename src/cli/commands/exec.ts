// `fleet exec`: run one command on every selected host; output grouped per host; the worst exit code.
import type { CommandModule } from 'yargs';
import { operateArgsFrom, positiveSeconds, type CommonArgs } from '../options.js';
import { withHostSelection } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export interface ExecArgs extends CommonArgs {
  timeout?: number;
  plain?: boolean;
  '--'?: (string | number)[];
}

export function execCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, ExecArgs> {
  return {
    command: 'exec [hosts..]',
    describe: 'run a command on every selected host: fleet exec [hosts..] -- <cmd…>',
    builder: (y) =>
      withHostSelection(y)
        .option('json', { type: 'boolean', describe: "print each host's exit code, stdout and stderr as JSON" })
        .option('timeout', { type: 'number', describe: 'seconds before a host\'s command is killed (default: none)' })
        .option('plain', { type: 'boolean', describe: 'plain output even on a terminal: each host\'s block when it finishes' })
        .epilog(
          'The command runs as the ssh user. Several words run as they are; one word runs with sh -c, so\n' +
            "  fleet exec -- 'uptime; df -h /'  uses the shell, and  fleet exec -- ls -l /etc  does not.\n" +
            'Exit code: 0 when every host exits 0, else the highest non-zero one (255: ssh failed).',
        ),
    handler: (args) =>
      done(
        (async () => {
          const { runExec } = await import('../operate-run.js');
          return runExec({
            ...operateArgsFrom(args),
            command: (args['--'] ?? []).map(String),
            timeout: positiveSeconds('timeout', args.timeout),
          });
        })(),
      ),
  };
}
