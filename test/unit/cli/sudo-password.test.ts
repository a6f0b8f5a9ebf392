// The terminal side of --ask-sudo-password: which hosts take it, how the prompt names them, and the hidden line reader.
import { PassThrough } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { describe, expect, it } from 'vitest';
import { hostsAskingPassword, passwordSubjects, readHidden } from '../../../src/cli/sudo-password.js';
import { buildPlan } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

/** A stand-in terminal: bytes in, and whether raw mode is on. */
function terminal(): { input: ReadStream; raw: () => boolean } {
  const stream = new PassThrough() as unknown as ReadStream & { isRaw: boolean };
  stream.isRaw = false;
  stream.setRawMode = (on: boolean) => {
    stream.isRaw = on;
    return stream;
  };
  return { input: stream, raw: () => stream.isRaw };
}

describe('--ask-sudo-password on the terminal', () => {
  it('asks for the hosts that take the password, named by user@host, a few at most', () => {
    const admin = (name: string) => host(name, { target: { kind: 'ssh', user: 'admin', host: `${name}.lan`, port: 22 } });
    const plan = buildPlan(inventory([admin('a'), admin('b'), host('root-host'), admin('c'), admin('d')]), planOptions({ askSudoPassword: true }));
    const asking = hostsAskingPassword(plan.hosts);
    expect(asking.map((h) => h.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(passwordSubjects(asking.slice(0, 2))).toBe('admin@a.lan, admin@b.lan');
    expect(passwordSubjects(asking)).toBe('admin@a.lan, admin@b.lan, admin@c.lan and 1 more');
    expect(hostsAskingPassword(buildPlan(inventory([admin('a')]), planOptions()).hosts)).toEqual([]);
  });

  it('reads a line without echo: backspace and Ctrl-U edit it, Enter ends it', async () => {
    const { input } = terminal();
    const line = readHidden(input);
    (input as unknown as PassThrough).write('pa\u007fassx\bword\r');
    expect(await line).toBe('password');
    const cleared = readHidden(input);
    (input as unknown as PassThrough).write('wrong\u0015right\n');
    expect(await cleared).toBe('right');
  });

  it('Ctrl-C during a run answers nothing and hands the interrupt to fleet', async () => {
    const { input, raw } = terminal();
    input.setRawMode(true);
    let interrupted = 0;
    const line = readHidden(input, () => interrupted++);
    (input as unknown as PassThrough).write('half\u0003');
    expect(await line).toBe('');
    expect(interrupted).toBe(1);
    expect(raw()).toBe(false);
  });
});
