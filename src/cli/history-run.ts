// `fleet history <host>`: the host's deploy history, newest first, as a table or JSON.
import { execProcess, type Exec } from '../exec/index.js';
import { readHistory } from '../backends/index.js';
import { historyCommand } from '../plan/index.js';
import { formatHistory } from '../ui/index.js';
import { EXIT } from './exit.js';
import { singleHost } from './operate-run.js';
import type { CommandResult } from './result.js';

export async function runHistory(args: { file?: string; host: string; json: boolean; limit?: number }, exec: Exec = execProcess): Promise<CommandResult> {
  const { host } = await singleHost(args.file, args.host);
  const history = await readHistory(historyCommand(host.ssh), exec, { sshTarget: Boolean(host.ssh) });
  if ('error' in history) {
    const lines = [`fleet: ${host.name}: ${history.error}`, ...history.tail.map((l) => `  │ ${l}`)];
    process.stderr.write(`${lines.join('\n')}\n`);
    return { exitCode: EXIT.hostFailure };
  }
  const newestFirst = [...history.records].reverse().slice(0, args.limit ?? Infinity);
  if (args.json) {
    return { exitCode: EXIT.ok, stdout: [JSON.stringify({ command: 'history', host: host.name, records: newestFirst, unreadable: history.unreadable }, null, 2)] };
  }
  return { exitCode: EXIT.ok, stdout: formatHistory(host.name, [...newestFirst].reverse(), history.unreadable) };
}
