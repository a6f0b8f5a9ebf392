// `fleet history <host>`: the host's deploy history, newest first, as a table or JSON — arguments,
// the operating runner (run/operate-run.ts, on the host verbs), output and exit code.
import type { Exec } from '../exec/index.js';
import { historyOf } from '../run/index.js';
import { formatHistory } from '../ui/format-operate.js';
import { EXIT } from './exit.js';
import { interruptSignal } from './interrupt.js';
import { singleHost } from './operate-run.js';
import type { CommandResult } from './result.js';

export async function runHistory(args: { file?: string; host: string; json: boolean; limit?: number; askSudoPassword?: boolean }, given?: Exec): Promise<CommandResult> {
  const { plan, host, exec } = await singleHost(args.file, args.host, { exec: given, askSudoPassword: args.askSudoPassword });
  const { signal, dispose } = interruptSignal();
  const answer = await historyOf(plan, { exec, signal }).finally(dispose);
  if ('error' in answer) {
    const lines = [`fleet: ${host.name}: ${answer.error}`, ...answer.tail.map((l) => `  │ ${l}`)];
    process.stderr.write(`${lines.join('\n')}\n`);
    return { exitCode: EXIT.hostFailure };
  }
  const history = answer.history;
  const newestFirst = [...history.records].reverse().slice(0, args.limit ?? Infinity);
  if (args.json) {
    return { exitCode: EXIT.ok, stdout: [JSON.stringify({ command: 'history', host: host.name, records: newestFirst, unreadable: history.unreadable }, null, 2)] };
  }
  return { exitCode: EXIT.ok, stdout: formatHistory(host.name, [...newestFirst].reverse(), history.unreadable) };
}
