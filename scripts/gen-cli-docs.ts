// Writes the flag table of every command into docs/cli.md, from the command line's own parser
// (src/cli/parser.ts): each table sits between `<!-- flags: <command> -->` and `<!-- /flags -->`.
// The rows come from yargs' help for the command, its public output: a flag, its aliases, its type
// and its description, as `fleet <command> --help` prints them.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { fleetParser } from '../src/cli/parser.js';

export const CLI_DOC_URL = new URL('../docs/cli.md', import.meta.url);

/** One flag of a command, as its help shows it. */
export interface FlagRow {
  /** Every spelling, short alias first: `['-f', '--file']`. */
  spellings: string[];
  /** yargs' type note without brackets: `boolean`, `number`, `string`, `array`, `choices: "a", "b"`. */
  type: string;
  describe: string;
}

/** Flags every command has, documented once at the top of docs/cli.md rather than in each table. */
const GLOBAL = new Set(['--help', '--version']);

/** The help text yargs prints for `fleet <words…> --help`, unwrapped (one line per flag). */
export async function helpText(words: string[]): Promise<string> {
  const argv = [...words, '--help'];
  const parser = fleetParser(argv, {
    done: () => {
      throw new Error(`fleet ${argv.join(' ')} started a command instead of printing help`);
    },
    usageFailure: (message) => {
      throw new Error(`fleet ${argv.join(' ')}: ${message}`);
    },
  }).wrap(null);
  return new Promise((resolve, reject) => {
    // With a callback, yargs hands the help text over instead of printing it.
    void parser.parse(argv, {}, (error, _argv, output) => (error ? reject(error) : resolve(output)));
  });
}

/** The commands `fleet --help` lists, by name (`apply`, `push-keys`, …), without `completion`. */
export async function commandNames(): Promise<string[]> {
  const help = await helpText([]);
  const section = help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .map((line) => /^\s+fleet ([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'completion');
}

/** The first line of a command's help: `fleet bootstrap <host>`. */
export async function commandUsage(command: string): Promise<string> {
  return (await helpText([command])).split('\n')[0]!.trim();
}

/** The flags of one command, in the order its help lists them. */
export async function flagRows(command: string): Promise<FlagRow[]> {
  const help = await helpText([command]);
  const section = help.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
  const rows: FlagRow[] = [];
  for (const line of section.split('\n')) {
    const m = /^\s+((?:-[A-Za-z], )?--[A-Za-z][\w-]*)\s{2,}(.*?)\s*((?:\[[^\]]*\]\s*)*)$/.exec(line);
    if (!m) {
      if (line.trim()) throw new Error(`fleet ${command} --help: cannot read the option line ${JSON.stringify(line)}`);
      continue;
    }
    const spellings = m[1]!.split(', ');
    if (spellings.some((s) => GLOBAL.has(s))) continue;
    const notes = [...m[3]!.matchAll(/\[([^\]]*)\]/g)].map((n) => n[1]!);
    rows.push({ spellings, type: notes.join('; '), describe: m[2]! });
  }
  return rows;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** A command's flag table in Markdown. */
export function renderTable(rows: readonly FlagRow[]): string {
  const lines = ['| flag | type | what it does |', '|---|---|---|'];
  for (const row of rows) lines.push(`| ${row.spellings.map((s) => `\`${s}\``).join(', ')} | ${cell(row.type)} | ${cell(row.describe)} |`);
  return lines.join('\n');
}

const TABLE = /(<!-- flags: ([a-z-]+) -->\n)([\s\S]*?)(<!-- \/flags -->)/g;

/** The commands whose tables `text` holds, in order. */
export function documentedCommands(text: string): string[] {
  return [...text.matchAll(TABLE)].map((m) => m[2]!);
}

/** docs/cli.md with every flag table regenerated. */
export async function renderCliDoc(text: string): Promise<string> {
  const tables = new Map<string, string>();
  for (const command of documentedCommands(text)) tables.set(command, renderTable(await flagRows(command)));
  return text.replace(TABLE, (_all, open: string, command: string, _old: string, close: string) => `${open}${tables.get(command)}\n${close}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = readFileSync(CLI_DOC_URL, 'utf8');
  const missing = (await commandNames()).filter((name) => !documentedCommands(text).includes(name));
  if (missing.length > 0) {
    process.stderr.write(`gen-cli-docs: docs/cli.md has no <!-- flags: … --> table for ${missing.join(', ')}\n`);
    process.exit(1);
  }
  writeFileSync(CLI_DOC_URL, await renderCliDoc(text));
}
