// Owns `npm run lab -- up N | down [prefix] | status`: the lab for a person, remembered under /tmp.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { checkLabPrerequisites, listLabDirs, readLabRecord, startLab, teardownSync, type LabHostSpec } from './lab.js';

const STATE = '/tmp/fleet-lab-cli.json';

interface CliState {
  labs: string[];
}

function readState(): CliState {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8')) as CliState;
  } catch {
    return { labs: [] };
  }
}

function writeState(state: CliState): void {
  if (state.labs.length === 0) rmSync(STATE, { force: true });
  else writeFileSync(STATE, JSON.stringify(state, null, 2) + '\n');
}

const USAGE = `usage: npm run lab -- <command>
  up [N] [--bare K] [--prefix P]   start N hosts (default 3); the last K of them bare (default 0)
     [--cache] [--uplink MBIT] [--rtt MS]
                                   with a binary-cache host the hosts trust, this machine's uplink
                                   capped, every ssh connection delayed (docs/lab.md)
  down [PREFIX]                    stop the lab(s) started with \`up\` (or the one with PREFIX)
  status                           list labs, hosts, addresses and how to reach them
  check                            explain what the lab needs on this machine`;

function describe(dir: string): string {
  const rec = readLabRecord(dir);
  if (!rec) return `${dir}: (no state)`;
  const cfg = `${dir}/client/ssh_config`;
  const lines = [`lab ${rec.prefix} (${dir}, started ${rec.createdAt})`];
  for (const h of rec.hosts) {
    const mode = (() => {
      try {
        return readFileSync(`${h.dir}/lab/mode`, 'utf8').trim();
      } catch {
        return 'down';
      }
    })();
    lines.push(`  ${h.name.padEnd(12)} ${h.address.padEnd(16)} ${mode.padEnd(10)} ssh -F ${cfg} ${h.name}`);
  }
  lines.push(`  flake: ${dir}/flake   stand-ins: PATH=${new URL('./bin', import.meta.url).pathname}:$PATH`);
  lines.push(`  NIX_SSHOPTS='-o UserKnownHostsFile=${dir}/client/known_hosts -o StrictHostKeyChecking=yes -i ${dir}/client/id_ed25519'`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      let n = 3;
      let bare = 0;
      let prefix: string | undefined;
      let cache = false;
      let uplinkMbit: number | undefined;
      let rttMs: number | undefined;
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i]!;
        if (a === '--bare') bare = Number(rest[++i]);
        else if (a === '--prefix') prefix = rest[++i];
        else if (a === '--cache') cache = true;
        else if (a === '--uplink') uplinkMbit = Number(rest[++i]);
        else if (a === '--rtt') rttMs = Number(rest[++i]);
        else if (/^\d+$/.test(a)) n = Number(a);
        else {
          console.error(`unknown argument: ${a}\n${USAGE}`);
          return 2;
        }
      }
      const hosts: LabHostSpec[] = Array.from({ length: n }, (_, i) => ({
        name: `host${i + 1}`,
        state: i >= n - bare ? 'bare' : 'installed',
      }));
      const t0 = Date.now();
      const lab = await startLab({ hosts, prefix, keepOnExit: true, cache, uplinkMbit, rttMs });
      const state = readState();
      state.labs.push(lab.dir);
      writeState(state);
      console.log(`started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      console.log(describe(lab.dir));
      if (lab.cache) console.log(`  binary cache: ${lab.cache.url} (key ${lab.cache.publicKey}); push: nix copy --to '${lab.cache.pushUrl}' PATH`);
      if (lab.network === 'bridge') console.log(`  network: bridge fb-${lab.prefix}${uplinkMbit ? `, this machine's uplink capped at ${uplinkMbit} Mbit/s` : ''}`);
      if (lab.rttMs) console.log(`  round-trip time: +${lab.rttMs} ms on every ssh connection (ssh option ${lab.fleetSshOptions.join(' ')})`);
      return 0;
    }
    case 'down': {
      const state = readState();
      const targets = rest[0] ? [`/tmp/fleet-lab-${rest[0]}`] : state.labs;
      if (targets.length === 0) console.log('no lab started with `up`');
      for (const dir of targets) {
        if (!existsSync(dir)) console.log(`${dir}: already gone`);
        teardownSync(dir);
        console.log(`stopped ${dir}`);
      }
      writeState({ labs: state.labs.filter((d) => !targets.includes(d)) });
      return 0;
    }
    case 'status': {
      const dirs = listLabDirs();
      if (dirs.length === 0) console.log('no labs');
      const mine = new Set(readState().labs);
      for (const dir of dirs) console.log((mine.has(dir) ? '' : '(not started with `up`) ') + describe(dir));
      return 0;
    }
    case 'check': {
      const pre = checkLabPrerequisites();
      console.log(pre.ok ? 'the lab can run here' : pre.explanation);
      return pre.ok ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
