// docs/cli.md against the real command line: its flag tables are generated from the parser, and
// every flag it documents for a command, in a table or a "Flags:" sentence, is accepted by the
// real yargs parser for that command (not a pre-parsed object), so a documented flag that does
// not exist fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_DOC_URL, commandNames, commandUsage, documentedCommands, renderCliDoc } from '../../../scripts/gen-cli-docs.js';
import { fleetParser } from '../../../src/cli/parser.js';

const doc = readFileSync(CLI_DOC_URL, 'utf8');

/** The rows of each command's table in docs/cli.md: spellings and yargs' type note. */
function documentedTables(text: string): Map<string, { spellings: string[]; type: string }[]> {
  const tables = new Map<string, { spellings: string[]; type: string }[]>();
  for (const m of text.matchAll(/<!-- flags: ([a-z-]+) -->\n([\s\S]*?)<!-- \/flags -->/g)) {
    const rows = m[2]!
      .split('\n')
      .slice(2)
      .filter((line) => line.startsWith('|'))
      .map((line) => {
        const [flags, type] = line.split(' | ');
        return { spellings: [...flags!.matchAll(/`(-[^`]+)`/g)].map((f) => f[1]!), type: type!.trim() };
      });
    tables.set(m[1]!, rows);
  }
  return tables;
}

/** Each section's commands (named in its heading) and the flags its "Flags: …" sentences name. */
function flagSentences(text: string): { commands: string[]; flags: string[]; heading: string }[] {
  const sections = text.split(/\n(?=#{2,3} )/);
  return sections.flatMap((section) => {
    const heading = section.split('\n')[0]!;
    const commands = [...heading.matchAll(/`fleet ([a-z-]+)/g)].map((m) => m[1]!);
    const prose = section.replace(/```[\s\S]*?```/g, '').replace(/<!-- flags:[\s\S]*?<!-- \/flags -->/g, '');
    const flags = prose
      .split(/\n\s*\n/)
      .filter((paragraph) => paragraph.includes('Flags:'))
      // From "Flags:" to the end of its sentence.
      .map((paragraph) => paragraph.slice(paragraph.indexOf('Flags:')).split(/\.(?:\s+(?=[A-Z])|\s*$)/)[0]!)
      .flatMap((sentence) => [...sentence.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]));
    return commands.length > 0 && flags.length > 0 ? [{ commands, flags: [...new Set(flags)], heading }] : [];
  });
}

class Accepted extends Error {}
class Refused extends Error {}

/** Runs argv through the real parser up to the command's handler: true when it accepts it, else yargs' message. */
async function parse(argv: string[]): Promise<true | string> {
  let failure: string | undefined;
  const parser = fleetParser(argv, {
    done: () => {
      throw new Error(`fleet ${argv.join(' ')}: the command ran`);
    },
    usageFailure: (message) => {
      failure ??= message;
    },
  }).middleware(() => {
    // After validation, before the handler: the command line was accepted or refused; the command never runs.
    throw failure === undefined ? new Accepted() : new Refused(failure);
  }, false);
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof Accepted) return true;
    if (error instanceof Refused) return error.message;
    throw error;
  }
  return failure ?? 'not accepted';
}

/** A value of the type a row documents (none for a boolean). */
function valueFor(type: string): string[] {
  const choice = /choices: "([^"]+)"/.exec(type);
  if (choice) return [choice[1]!];
  if (type.startsWith('boolean')) return [];
  if (type.startsWith('number')) return ['1'];
  return ['x'];
}

/** The command with its required positionals filled in: `bootstrap host-1`. */
async function commandWords(command: string): Promise<string[]> {
  const usage = await commandUsage(command);
  return [command, ...[...usage.matchAll(/<[^>]+>/g)].map(() => 'host-1')];
}

const tables = documentedTables(doc);

describe('docs/cli.md and the command line', () => {
  it('has every flag table as the parser generates it (run `npm run gen:docs`)', async () => {
    expect(doc).toBe(await renderCliDoc(doc));
  });

  it('has a flag table for every command fleet --help lists', async () => {
    const names = await commandNames();
    expect(names.length).toBeGreaterThan(10);
    expect([...documentedCommands(doc)].sort()).toEqual([...names].sort());
  });

  it('every flag in a table is accepted by the real parser for its command', async () => {
    let checked = 0;
    for (const [command, rows] of tables) {
      const words = await commandWords(command);
      for (const row of rows) {
        for (const spelling of row.spellings) {
          const argv = [...words, spelling, ...valueFor(row.type)];
          expect(await parse(argv), `fleet ${argv.join(' ')}`).toBe(true);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("every flag a section's Flags: sentence names is in the table, and accepted, of each command the section is about", async () => {
    const sentences = flagSentences(doc);
    expect(sentences.map((s) => s.commands.join(' '))).toEqual(expect.arrayContaining(['plan', 'apply', 'diff', 'rollback', 'build push-keys push-secrets bootstrap']));
    for (const { commands, flags, heading } of sentences) {
      for (const command of commands) {
        const words = await commandWords(command);
        for (const flag of flags) {
          // yargs negates every boolean: `--no-eval-cache` is the row `--eval-cache` (boolean).
          const negated = flag.startsWith('--no-') ? `--${flag.slice('--no-'.length)}` : undefined;
          const row = tables.get(command)?.find((r) => r.spellings.includes(flag) || (r.type === 'boolean' && negated !== undefined && r.spellings.includes(negated)));
          expect(row, `${heading}: ${flag} is not in the flag table of fleet ${command}`).toBeDefined();
          const argv = [...words, flag, ...(row!.spellings.includes(flag) ? valueFor(row!.type) : [])];
          expect(await parse(argv), `fleet ${argv.join(' ')}`).toBe(true);
        }
      }
    }
  });

  it('an undocumented flag is refused by the parser (the check can fail)', async () => {
    expect(await parse(['bootstrap', 'host-1', '--rebuild-flavour', 'ng'])).toMatch(/Unknown argument/);
    expect(await parse(['apply', '--no-such-flag'])).toMatch(/Unknown argument/);
  });
});
