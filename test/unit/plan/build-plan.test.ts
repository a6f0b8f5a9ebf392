import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { argvForDisplay, ARM_WATCHDOG_SCRIPT, buildPlan, EVALUATED_MARK, chunkSize, evalLimitFromMemory, evaluatorMemoryMiB, resolveArgv, selectHosts, STEP_ORDER, type PlanOptions, type PlannedCommand } from '../../../src/plan/index.js';
import type { SecretSpec } from '../../../src/manifest/inventory.js';
import { host, inventory, planOptions } from './inventory-fixture.js';
import { SUDO_PASSWORD_NAME, SUDO_PASSWORD_SCRIPT } from '../../../src/ssh/index.js';

const bootstrapOptions = { noDiskoDeps: true, noReboot: false, debug: false, phases: ['disko', 'install', 'reboot'], diskEncryptionKeys: [], waitTimeout: 300 };

function argvOf(command: PlannedCommand): string[] {
  return argvForDisplay(command.argv);
}

/** What the remote shell would run: the words after the destination, joined as ssh joins them, as sh splits them. */
function remoteWords(sshArgv: string[]): string[] {
  const line = sshArgv.slice(sshArgv.indexOf('--') + 2).join(' ');
  const out = execFileSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('buildPlan', () => {
  const fleet = inventory([
    host('workstation', { target: { kind: 'local' }, mode: 'boot' }),
    host('vps-pacman', {
      bootstrap: bootstrapOptions,
      keys: { push: 'bootstrap', hostKeySearch: ['/srv/fleet/secrets/host-keys'], generate: true, agenixKeyName: 'global_ed25519', destination: '/persist/etc/ssh' },
    }),
    host('web-1', { tags: ['web'], hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4Jw0KqgV3xk2S1r4fE2qQ0vS0v9d8m1fHqC7y3mJxK'] }),
    host('web-2', { tags: ['web'] }),
  ]);

  it('orders every host diff → push-keys → bootstrap → secrets → deploy → verify, each a typed step', () => {
    const plan = buildPlan(fleet, planOptions());
    for (const h of plan.hosts) expect([h.diff, h.pushKeys, h.bootstrap, h.secrets, h.deploy, h.verify].map((s) => s.kind)).toEqual([...STEP_ORDER]);
    expect(plan.scope).toEqual({ steps: [...STEP_ORDER], forceKeyPush: false, buildOnly: false });
  });

  it('takes the deploy lock and probes in one ssh session when the run starts; the closure is asked later over it', () => {
    const web = buildPlan(fleet, planOptions()).hosts.find((h) => h.name === 'web-1')!;
    if (web.connect.kind !== 'lock-and-probe') throw new Error('web-1 is reached over ssh');
    expect(web.connect).toMatchObject({ early: true, closure: 'ask' });
    // No <toplevel>: the session starts before the system is evaluated.
    expect(web.connect.command.argv.some((a) => typeof a !== 'string' && a.ref === 'toplevel')).toBe(false);
    const words = remoteWords(resolveArgv(web.connect.command.argv, {}));
    expect(words.slice(-5)).toEqual(['fleet-lock', '30', 'alice@laptop', '-', '/etc/ssh']);
    // It opens the shared connection itself (ControlMaster=auto): there is no separate early master.
    expect(argvOf(web.connect.command)).toEqual(expect.arrayContaining(['ControlMaster=auto', 'ControlPath=/tmp/fleet-x/%C']));
    const local = buildPlan(fleet, planOptions()).hosts.find((h) => h.name === 'workstation')!;
    expect(local.connect.kind).toBe('probe');
  });

  it('never chooses ssh algorithms: no KexAlgorithms (or Ciphers, MACs) unless ssh.options set it, one shared socket for every host', () => {
    const secret: SecretSpec = { name: 'db', source: { kind: 'env', name: 'DB' }, destination: '/run/keys/db', owner: 'root', group: 'root', mode: '0400', upload: 'before-activation' };
    const keys = { push: 'always' as const, hostKeyFile: '/srv/keys/k', hostKeySearch: [], generate: false, agenixKeyName: 'global_ed25519', destination: '/etc/ssh' };
    const hosts = [host('plain'), host('with-secret', { secrets: [secret] }), host('with-keys', { keys }), host('never-pushes', { keys: { ...keys, push: 'never' } })];
    // Every word of every ssh argv the plan holds (lock, copy's NIX_SSHOPTS, push, arm, confirm, checks).
    const allWords = (plan: ReturnType<typeof buildPlan>): string[] => {
      const words: string[] = [];
      const walk = (value: unknown): void => {
        if (typeof value === 'string') words.push(...value.split(/\s+/));
        else if (Array.isArray(value)) value.forEach(walk);
        else if (value && typeof value === 'object') Object.values(value).forEach(walk);
      };
      walk(plan.hosts);
      return words;
    };
    const algorithm = /^(KexAlgorithms|Ciphers|MACs|HostKeyAlgorithms|PubkeyAcceptedAlgorithms)=/i;
    const plain = buildPlan(inventory(hosts), planOptions());
    const words = allWords(plain);
    expect(words.filter((w) => w.startsWith('ControlPath=')).length).toBeGreaterThan(4);
    expect(words.filter((w) => algorithm.test(w))).toEqual([]);
    expect(words.filter((w) => w.startsWith('ControlPath=')).every((w) => w === 'ControlPath=/tmp/fleet-x/%C' || w === 'ControlPath=none')).toBe(true);
    expect(words.some((w) => w.startsWith('<') && /kex/i.test(w))).toBe(false);

    // The manifest's choice is passed as it is, on every connection (the fresh one included), never rewritten.
    const chosen = buildPlan(inventory(hosts, { sshOptions: ['KexAlgorithms=sntrup761x25519-sha512@openssh.com'] }), planOptions());
    const sshArgvs = chosen.hosts.flatMap((h) => {
      const act = h.deploy.activation;
      return [h.connect.command, ...(act.kind === 'watched' ? [act.confirm] : [])].map(argvOf);
    });
    expect(sshArgvs.length).toBe(8);
    for (const argv of sshArgvs) expect(argv.filter((w) => algorithm.test(w))).toEqual(['KexAlgorithms=sntrup761x25519-sha512@openssh.com']);
  });

  it('a trust-on-first-use host locks when it starts (its first contact is reported), and its probe answers the closure', () => {
    const tofu = buildPlan(inventory([host('new', { trustOnFirstUse: true })]), planOptions()).hosts[0]!;
    if (tofu.connect.kind !== 'lock-and-probe') throw new Error('reached over ssh');
    expect(tofu.connect).toMatchObject({ early: false, closure: 'probe' });
    const words = remoteWords(resolveArgv(tofu.connect.command.argv, { toplevel: '/nix/store/abc-system' }));
    expect(words.slice(-2)).toEqual(['/nix/store/abc-system', '/etc/ssh']);
  });

  it('only the first `parallel` ssh hosts lock with the run; the others lock when they start, their probe answering the closure', () => {
    const three = inventory([host('a'), host('b'), host('c')]);
    const connects = buildPlan(three, planOptions({ parallel: 2 })).hosts.map((h) => (h.connect.kind === 'lock-and-probe' ? [h.connect.early, h.connect.closure] : []));
    expect(connects).toEqual([
      [true, 'ask'],
      [true, 'ask'],
      [false, 'probe'],
    ]);
    // parallel 0 runs every host at once: every one locks with the run.
    expect(buildPlan(three, planOptions({ parallel: 0 })).hosts.every((h) => h.connect.kind === 'lock-and-probe' && h.connect.early)).toBe(true);
  });

  it('evaluates every host in one evaluator, with the disko script of the bootstrap host, then builds', () => {
    const plan = buildPlan(fleet, planOptions());
    expect(plan.build.chunks).toHaveLength(1);
    const evaluate = argvOf(plan.build.chunks[0]!.evaluate);
    expect(evaluate.slice(0, 3)).toEqual(['nix', 'eval', '--json']);
    expect(evaluate).toContain('/srv/fleet#nixosConfigurations');
    const apply = evaluate.at(-1)!;
    for (const h of ['workstation', 'vps-pacman', 'web-1', 'web-2']) expect(apply).toContain(`{ host = "${h}";`);
    expect(apply).toContain('cs."vps-pacman".config.system.build."diskoScriptNoDeps"');
    expect(argvOf(plan.build.chunks[0]!.build)).toEqual(['nix', 'build', '--json', '--out-link', '<resultLink>', '--keep-going', '--extra-experimental-features', 'nix-command flakes', '<derivations>']);
    expect(plan.build.derivationSuffix).toBe('');
    expect(buildPlan(fleet, planOptions({ nixVersion: 'nix (Nix) 2.24.9' })).build.derivationSuffix).toBe('^*');
  });

  it('the evaluation picks exactly the planned attributes, as Nix evaluates them', () => {
    const plan = buildPlan(fleet, planOptions());
    const apply = argvOf(plan.build.chunks[0]!.evaluate).at(-1)!;
    const result = spawnSync('nix', ['eval', '--json', '--extra-experimental-features', 'nix-command', '--expr', `(${apply}) (let sys = n: { config.system.build = { toplevel = { drvPath = "d-" + n; outPath = "o-" + n; }; diskoScriptNoDeps = { drvPath = "dd-" + n; outPath = "do-" + n; }; }; }; in { workstation = sys "w"; vps-pacman = sys "v"; web-1 = sys "1"; web-2 = sys "2"; })`], { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: 'substituters =\nbuild-users-group =' } });
    expect(result.status).toBe(0);
    // In the manifest's order, each traced as soon as it is evaluated.
    const entries = [
      { host: 'workstation', v: { toplevel: { drv: 'd-w', out: 'o-w' } } },
      { host: 'vps-pacman', v: { toplevel: { drv: 'd-v', out: 'o-v' }, diskoScript: { drv: 'dd-v', out: 'do-v' } } },
      { host: 'web-1', v: { toplevel: { drv: 'd-1', out: 'o-1' } } },
      { host: 'web-2', v: { toplevel: { drv: 'd-2', out: 'o-2' } } },
    ];
    expect(JSON.parse(result.stdout)).toEqual(entries);
    const traces = result.stderr.split('\n').filter((l) => l.startsWith('trace: '));
    expect(traces.map((l) => JSON.parse(l.slice(`trace: ${EVALUATED_MARK}`.length)))).toEqual(entries);
  });

  it('chunks the build by the eval limit', () => {
    const plan = buildPlan(fleet, planOptions({ evalLimit: 3 }));
    expect(plan.build.chunks.map((c) => new Set(c.attributes.map((a) => a.host)).size)).toEqual([3, 1]);
  });

  describe('chunks and evaluators at once', () => {
    const hosts = (n: number) => inventory(Array.from({ length: n }, (_, i) => host(`h${i + 1}`)));
    const sizes = (n: number, options: Partial<PlanOptions>) =>
      buildPlan(hosts(n), planOptions(options)).build.chunks.map((c) => new Set(c.attributes.map((a) => a.host)).size);

    it.each<[string, number, Partial<PlanOptions>, number[]]>([
      ['a limit from memory is cut so that each evaluator has a chunk', 8, { evalLimit: 45, evalLimitSource: 'memory', evalJobs: 2 }, [4, 4]],
      ['an uneven split keeps the larger chunks first', 9, { evalLimit: 45, evalLimitSource: 'memory', evalJobs: 2 }, [5, 4]],
      ['more evaluators than chunks of the memory bound: the memory bound still holds', 8, { evalLimit: 3, evalLimitSource: 'memory', evalJobs: 2 }, [3, 3, 2]],
      ['as many hosts as evaluators: one host each', 4, { evalLimit: 45, evalLimitSource: 'memory', evalJobs: 4 }, [1, 1, 1, 1]],
      ['fewer hosts than evaluators: one evaluator takes them all (the shared cost once)', 3, { evalLimit: 45, evalLimitSource: 'memory', evalJobs: 4 }, [3]],
      ['one evaluator at a time: one chunk within memory', 8, { evalLimit: 45, evalLimitSource: 'memory', evalJobs: 1 }, [8]],
      ['a given limit (--eval-limit, evalLimit) is taken as is', 8, { evalLimit: 8, evalLimitSource: 'given', evalJobs: 2 }, [8]],
      ['a given limit of 1: one chunk per host', 3, { evalLimit: 1, evalLimitSource: 'given', evalJobs: 2 }, [1, 1, 1]],
    ])('%s', (_name, n, options, expected) => {
      expect(sizes(n, options)).toEqual(expected);
    });

    it('records the hosts per chunk and the evaluators at once, which fleet plan shows', () => {
      const plan = buildPlan(hosts(8), planOptions({ evalLimit: 45, evalLimitSource: 'memory', evalJobs: 2 }));
      expect(plan.build).toMatchObject({ evalLimit: 4, evalJobs: 2 });
      expect(chunkSize(8, { evalLimit: 45, evalLimitSource: 'memory', evalJobs: 2 })).toBe(4);
    });

    it('evaluators at once share free memory: each chunk fits its share at 512 MiB a host', () => {
      const GiB = 1024 ** 3;
      expect(evalLimitFromMemory(23 * GiB)).toBe(46);
      expect(evalLimitFromMemory(23 * GiB, 2)).toBe(23);
      expect(evalLimitFromMemory(23 * GiB, 8)).toBe(5);
      expect(evalLimitFromMemory(GiB / 4, 2)).toBe(1); // at least one host, however little memory
      expect(evaluatorMemoryMiB(8 * GiB, 2)).toBe(4096);
      // 100 hosts, 2 evaluators, 23 GiB free: chunks of 23, never two chunks of 50 (2 × 25 GiB).
      const plan = buildPlan(hosts(100), planOptions({ evalLimit: evalLimitFromMemory(23 * GiB, 2), evalLimitSource: 'memory', evalJobs: 2, evaluatorMemoryMiB: evaluatorMemoryMiB(23 * GiB, 2) }));
      expect(plan.build.chunks.map((c) => c.attributes.length)).toEqual([23, 23, 23, 23, 8]);
      expect(plan.build.evaluatorMemoryMiB).toBe(11776);
      expect(Math.max(...plan.build.chunks.map((c) => c.attributes.length)) * 512).toBeLessThanOrEqual(plan.build.evaluatorMemoryMiB!);
    });

    it('every host is in exactly one chunk, each chunk one evaluator and one build', () => {
      const plan = buildPlan(hosts(7), planOptions({ evalLimit: 45, evalLimitSource: 'memory', evalJobs: 3 }));
      const names = plan.build.chunks.flatMap((c) => c.attributes.map((a) => a.host));
      expect(names).toEqual(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7']);
      for (const chunk of plan.build.chunks) {
        expect(argvOf(chunk.evaluate).slice(0, 2)).toEqual(['nix', 'eval']);
        expect(argvOf(chunk.build).slice(0, 2)).toEqual(['nix', 'build']);
      }
    });
  });

  it('plans the bootstrap host with nixos-anywhere on prebuilt store paths and staged keys', () => {
    const plan = buildPlan(fleet, planOptions());
    const vps = plan.hosts.find((h) => h.name === 'vps-pacman')!;
    const bootstrap = vps.bootstrap;
    if ('never' in bootstrap) throw new Error('vps-pacman has bootstrap options');
    expect(bootstrap.guard).toMatch(/not NixOS/);
    const argv = argvOf(bootstrap.install);
    expect(argv.slice(0, 4)).toEqual(['nixos-anywhere', '--store-paths', '<diskoScript>', '<toplevel>']);
    // Nix < 2.20 has no `nix config show`, which --build-on auto runs even with prebuilt store paths.
    expect(argv).toEqual(expect.arrayContaining(['--phases', 'disko,install,reboot', '--build-on', 'local', '--no-disko-deps', '--extra-files', '/tmp/fleet-x/bootstrap-vps-pacman']));
    expect(bootstrap.staging).toBe('/tmp/fleet-x/bootstrap-vps-pacman');
    expect(argv.slice(-2)).toEqual(['--target-host', 'root@vps-pacman.example.org']);
    expect(vps.keys?.generateAt).toBe('/srv/fleet/secrets/host-keys/vps-pacman/ssh_host_ed25519_key');
  });

  it('deploys a local target with nixos-rebuild on this machine and no ssh at all', () => {
    const plan = buildPlan(fleet, planOptions());
    const ws = plan.hosts.find((h) => h.name === 'workstation')!;
    expect(ws.ssh).toBeUndefined();
    expect(ws.deploy.activation.kind).toBe('plain');
    expect(ws.deploy.copy).toBeUndefined();
    const all = [ws.connect.command, ws.deploy.activation.activate].map(argvOf);
    expect(all.some((argv) => argv.includes('ssh'))).toBe(false);
    expect(all.flat().some((a) => a.includes('--target-host'))).toBe(false);
    expect(argvOf(ws.deploy.activation.activate)).toEqual(['nixos-rebuild', 'boot', '--store-path', '<toplevel>', '--no-reexec']);
  });

  it('deploys remote hosts with --store-path, --target-host and NIX_SSHOPTS carrying the pinned known_hosts', () => {
    const plan = buildPlan(fleet, planOptions());
    const web = plan.hosts.find((h) => h.name === 'web-1')!;
    const activation = web.deploy.activation;
    if (activation.kind !== 'watched') throw new Error('a live switch over ssh is watched');
    const { arm, activate: deploy, confirm } = activation;
    // nixos-rebuild-ng activates from this machine: the watchdog is armed by a call of its own first.
    if (arm === 'in-activate') throw new Error('nixos-rebuild-ng cannot arm the watchdog');
    const copy = web.deploy.copy!;
    expect(argvOf(copy)).toEqual(['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--substitute-on-destination', '--to', 'ssh://root@web-1.example.org', '<toplevel>']);
    expect(arm.purpose).toBe('arm watchdog');
    expect(remoteWords(resolveArgv(arm.argv, { deployId: '0123abcd' })).slice(-3)).toEqual(['0123abcd', '90', 'switch']);
    expect(argvOf(deploy)).toEqual(['nixos-rebuild', 'switch', '--store-path', '<toplevel>', '--use-substitutes', '--no-reexec', '--target-host', 'root@web-1.example.org']);
    expect(deploy.env?.NIX_SSHOPTS).toContain('UserKnownHostsFile=/tmp/fleet-x/known_hosts');
    expect(deploy.env?.NIX_SSHOPTS).toContain('StrictHostKeyChecking=yes');
    expect(activation.timeoutSeconds).toBe(90);
    // One fresh connection confirms the watchdog and reports what runs.
    expect(confirm.purpose).toBe('confirm watchdog and verify');
    for (const c of [confirm, activation.afterDeadline]) expect(argvOf(c)).toEqual(expect.arrayContaining(['ControlMaster=no', 'ControlPath=none']));
  });

  it('with the bash nixos-rebuild, activates the prebuilt system itself (no second evaluation), with sudo for a non-root user', () => {
    const fleet2 = inventory([host('db', { target: { kind: 'ssh', user: 'deploy', host: 'db', port: 2222 } })]);
    const plan = buildPlan(fleet2, planOptions({ rebuildFlavour: 'bash' }));
    const activation = plan.hosts[0]!.deploy.activation;
    // A live switch: the same call arms the watchdog first (fleet's own scripts both), no arm call of its own.
    if (activation.kind !== 'watched' || activation.arm !== 'in-activate') throw new Error('the bash flavour arms in its activation');
    const activate = activation.activate;
    expect(activate.arms).toBe('watchdog');
    const argv = argvOf(activate);
    expect(argv).not.toContain('nixos-rebuild');
    expect(argv.join(' ')).not.toContain('--flake');
    expect(argv).toEqual(expect.arrayContaining(['-p', '2222', '--', 'deploy@db']));
    // The remote line: sudo sh -c <armed-activate script> fleet-armed-activate <arm script> <deployId> 90 '<toplevel>' switch.
    const line = resolveArgv(activate.argv, { toplevel: '/nix/store/abc-nixos-system-db', deployId: '0123abcd' });
    const words = remoteWords(line);
    expect(words.slice(0, 5)).toEqual(['sudo', '-n', '--', 'sh', '-c']);
    expect(words.slice(-6)).toEqual(['fleet-armed-activate', ARM_WATCHDOG_SCRIPT, '0123abcd', '90', '/nix/store/abc-nixos-system-db', 'switch']);
    expect(words[5]).toContain('timeout 60 sh -c "$1" fleet-arm "$2" "$3" "$mode" || exit 1');
    expect(words[5]).toContain('nix-env -p /nix/var/nix/profiles/system --set');
    // boot changes nothing live: no watchdog, the activation alone.
    const boot = buildPlan(fleet2, planOptions({ rebuildFlavour: 'bash', modeOverride: 'boot' })).hosts[0]!.deploy.activation;
    expect(boot.kind).toBe('plain');
    const bootWords = remoteWords(resolveArgv(boot.activate.argv, { toplevel: '/nix/store/abc-nixos-system-db' }));
    expect(bootWords.slice(-3)).toEqual(['fleet-activate', '/nix/store/abc-nixos-system-db', 'boot']);
    expect(bootWords[5]).not.toContain('fleet-arm');
    const probe = plan.hosts[0]!.connect.command;
    expect(argvOf(probe)).toEqual(expect.arrayContaining(['-p', '2222', '--', 'deploy@db']));
    expect(remoteWords(resolveArgv(probe.argv, { toplevel: '/nix/store/abc' })).slice(0, 4)).toEqual(['sudo', '-n', '--', 'sh']);
  });

  it('applies a mode override and arms the watchdog only for live activations', () => {
    const boot = buildPlan(fleet, planOptions({ modeOverride: 'boot', selection: { only: ['web-1'], tags: [], exclude: [] } }));
    expect(boot.hosts.map((h) => [h.name, h.mode, h.deploy.activation.kind])).toEqual([['web-1', 'boot', 'plain']]);
    const dry = buildPlan(fleet, planOptions({ modeOverride: 'dry-activate', selection: { only: ['web-1'], tags: [], exclude: [] } }));
    expect(dry.hosts[0]!.verify).toEqual({ kind: 'verify', never: 'dry-activate changes nothing' });
  });

  it('records each verified change in the host history, with a record known only at run time, quoted once', () => {
    const provenance = { operator: 'octocat', ci: { system: 'github-actions', actor: 'octocat', runUrl: null }, revision: 'abc1234', fleetVersion: '0.1.0' };
    const plan = buildPlan(fleet, planOptions({ provenance }));
    expect(plan.provenance).toEqual(provenance);
    const web = plan.hosts.find((h) => h.name === 'web-1')!;
    if ('never' in web.history) throw new Error('switch records');
    expect(web.history.file).toBe('/nix/var/fleet/history.jsonl');
    const hostile = `{"operator":"it's $(touch /tmp/pwned)"}`;
    expect(remoteWords(resolveArgv(web.history.append.argv, { historyRecord: hostile })).slice(-3)).toEqual(['fleet-history', '/nix/var/fleet/history.jsonl', hostile]);
    const dry = buildPlan(fleet, planOptions({ modeOverride: 'dry-activate' }));
    expect(dry.hosts.map((h) => h.history)).toEqual(dry.hosts.map(() => ({ kind: 'record-history', never: 'dry-activate changes nothing' })));
    expect(buildPlan(fleet, planOptions()).provenance).toEqual({ operator: 'alice@laptop', ci: null, revision: null, fleetVersion: 'unknown' });
  });

  it('runs the health checks after verify, where the new system is live (switch, test), bounded on the target', () => {
    const checked = inventory([host('web-1', { healthChecks: [{ name: 'http', command: ['curl', '-fs', 'http://localhost/'], timeout: 7 }] })]);
    const verify = (mode?: 'boot' | 'test') => {
      const step = buildPlan(checked, planOptions({ modeOverride: mode })).hosts[0]!.verify;
      if ('never' in step) throw new Error('verify runs in this mode');
      return step;
    };
    const live = verify();
    expect(live.healthChecks.map((c) => c.command.purpose)).toEqual(['health check http']);
    expect(remoteWords(argvOf(live.healthChecks[0]!.command))).toEqual(['timeout', '7', 'curl', '-fs', 'http://localhost/']);
    expect(live.guard).toMatch(/health checks \(http\) must all pass/);
    expect(verify('test').healthChecks.map((c) => c.command.purpose)).toContain('health check http');
    expect(verify('boot').healthChecks).toEqual([]);
  });

  it('builds on a build host with Nix remote building, reaching it with its own identity', () => {
    const builder = host('builder', { identityFile: '/keys/builder' });
    const web = host('web-1', { identityFile: '/keys/web', buildHost: builder.target });
    const other = host('web-2', { identityFile: '/keys/web', buildHost: { kind: 'ssh', user: 'nix', host: 'big.example.org', port: 2200 } });
    const plan = buildPlan(inventory([builder, web, other]), planOptions());
    const chunkFor = (name: string) => plan.build.chunks.find((c) => c.attributes.some((a) => a.host === name))!;
    const remote = chunkFor('web-1').build;
    expect(argvOf(remote)).toEqual(expect.arrayContaining(['--builders', 'ssh://root@builder.example.org', '--max-jobs', '0']));
    expect(remote.env?.NIX_SSHOPTS).toContain('IdentityFile=/keys/builder');
    const raw = chunkFor('web-2').build;
    expect(argvOf(raw)).toEqual(expect.arrayContaining(['--builders', 'ssh://nix@big.example.org?port=2200']));
    expect(raw.env?.NIX_SSHOPTS).toContain('IdentityFile=/keys/web');
    expect(argvOf(chunkFor('builder').build)).not.toContain('--builders');
  });

  it("checks a host whose key fleet does not know against the user's own known_hosts, strictly", () => {
    const plan = buildPlan(fleet, planOptions());
    const sshOf = (name: string) => argvOf(plan.hosts.find((h) => h.name === name)!.connect.command);
    // web-2: no hostKey, no key policy, no TOFU.
    expect(sshOf('web-2').join(' ')).not.toMatch(/UserKnownHostsFile|GlobalKnownHostsFile/);
    expect(sshOf('web-2')).toContain('StrictHostKeyChecking=yes');
    // web-1 (hostKey) and vps-pacman (a key policy that pushes its host key): fleet's file only.
    for (const name of ['web-1', 'vps-pacman']) {
      expect(sshOf(name)).toEqual(expect.arrayContaining(['UserKnownHostsFile=/tmp/fleet-x/known_hosts', 'GlobalKnownHostsFile=/dev/null', 'StrictHostKeyChecking=yes']));
    }
  });

  it('plans secrets as a step of their own: the probe asks for keyed digests, one upload before and one after activation', () => {
    const secrets = [
      { name: 'db', source: { kind: 'file' as const, path: '/srv/db' }, destination: '/run/keys/db', owner: 'postgres', group: 'postgres', mode: '0400', upload: 'after-activation' as const },
      { name: 'token', source: { kind: 'env' as const, name: 'TOKEN' }, destination: '/run/keys/the token', owner: 'root', group: 'root', mode: '0440', upload: 'before-activation' as const },
    ];
    const [web, plain, dry] = buildPlan(
      inventory([host('web', { secrets }), host('plain'), host('dry', { secrets, mode: 'dry-activate' })]),
      planOptions(),
    ).hosts;
    if (!web || 'never' in web.secrets) throw new Error('web has secrets');
    expect(web.secrets.beforeActivation?.secrets.map((s) => s.name)).toEqual(['token']);
    expect(web.secrets.afterActivation?.secrets.map((s) => s.name)).toEqual(['db']);
    expect(web.secrets.uploads).toBe(true);
    // Paths, owners, modes are argv words of the upload, quoted once; no content anywhere in the plan.
    expect(resolveArgv(web.secrets.beforeActivation!.push.argv, {}).at(-1)).toMatch(/fleet-push-secrets '\/run\/keys\/the token' root root 0440$/);
    const connect = web.connect.kind === 'lock-and-probe' ? web.connect.command : undefined;
    expect(argvForDisplay(connect!.argv).join(' ')).toMatch(/ \/etc\/ssh --secrets <digestKey> \/run\/keys\/db '\/run\/keys\/the token'$/);
    expect(resolveArgv(connect!.argv, { toplevel: '/nix/store/x', digestKey: 'abc' }).join(' ')).toMatch(/ \/etc\/ssh --secrets abc \/run\/keys\/db '\/run\/keys\/the token'$/);
    expect(plain!.secrets).toEqual({ kind: 'secrets', never: 'no secrets' });
    expect(dry!.secrets).toMatchObject({ uploads: false, guard: expect.stringMatching(/dry-activate: compared only, nothing is uploaded/) });
  });

  it('is plain data: JSON round-trips it unchanged', () => {
    const plan = buildPlan(fleet, planOptions());
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('argv builders with hostile input', () => {
  const hostile = "/srv/my fleet/it's $(touch /tmp/pwned)\n`id`";
  const fleet = inventory(
    [
      host('web-1', {
        identityFile: "/srv/it's$(touch${IFS}x)`id`/id",
        keys: { push: 'always', hostKeyFile: `${hostile}/key`, hostKeySearch: [], generate: false, agenixKeyName: 'global_ed25519', destination: "/persist/etc/ssh dir'$(x)" },
        bootstrap: { ...bootstrapOptions, extraFiles: hostile, diskEncryptionKeys: [{ remote: '/tmp/disk.key', local: hostile }] },
      }),
    ],
    { flake: hostile },
  );
  const plan = buildPlan(fleet, planOptions());
  const web = plan.hosts[0]!;

  it('keeps hostile paths as single argv words', () => {
    if ('never' in web.bootstrap) throw new Error('web-1 has bootstrap options');
    const anywhere = argvOf(web.bootstrap.install);
    expect(anywhere).toContain("/srv/it's$(touch${IFS}x)`id`/id");
    expect(anywhere.slice(anywhere.indexOf('--disk-encryption-keys'), anywhere.indexOf('--disk-encryption-keys') + 3)).toEqual(['--disk-encryption-keys', '/tmp/disk.key', hostile]);
    const evaluate = argvOf(plan.build.chunks[0]!.evaluate);
    expect(evaluate).toContain(`${hostile}#nixosConfigurations`);
  });

  it('quotes remote commands once: the remote shell sees exactly the intended words', () => {
    if ('never' in web.pushKeys) throw new Error('web-1 pushes keys');
    const push = argvOf(web.pushKeys.push);
    const words = remoteWords(push);
    expect(words[0]).toBe('sh');
    expect(words.at(-1)).toBe("/persist/etc/ssh dir'$(x)");
  });

  it('refuses an ssh host that ssh would read as an option', () => {
    const evil = inventory([host('evil', { target: { kind: 'ssh', user: 'root', host: '-oProxyCommand=touch /tmp/x', port: 22 } })]);
    expect(() => buildPlan(evil, planOptions())).toThrow(/host evil: refusing unsafe ssh host/);
  });

  it('refuses to carry white space in NIX_SSHOPTS rather than have nix split it', () => {
    expect(() => buildPlan(fleet, planOptions({ paths: { ...planOptions().paths, knownHosts: '/tmp/a b/known_hosts' } }))).toThrow(/host web-1: .*white space/);
  });
});

describe('selectHosts', () => {
  const hosts = inventory([host('web-1', { tags: ['web'] }), host('web-2', { tags: ['web', 'eu'] }), host('db', { tags: ['eu'] })]).hosts;
  const names = (only: string[], tags: string[] = [], exclude: string[] = []) => selectHosts(hosts, { only, tags, exclude }).map((h) => h.name);

  it.each([
    [[], [], [], ['web-1', 'web-2', 'db']],
    [['db'], [], [], ['db']],
    [['web-*'], [], [], ['web-1', 'web-2']],
    [['@eu'], [], [], ['web-2', 'db']],
    [[], ['web'], [], ['web-1', 'web-2']],
    [['web-*'], [], ['web-2'], ['web-1']],
    [[], [], ['@web'], ['db']],
    [['db', 'web-1'], [], [], ['web-1', 'db']],
  ])('only=%j tags=%j exclude=%j → %j', (only, tags, exclude, expected) => {
    expect(names(only, tags, exclude)).toEqual(expected);
  });

  it('names the known hosts when a name is unknown', () => {
    expect(() => names(['web-3'])).toThrow('unknown host "web-3"');
    try {
      names(['web-3']);
    } catch (error) {
      expect((error as { hint: string }).hint).toBe('known hosts: web-1, web-2, db');
    }
  });

  it('rejects a tag or glob matching nothing', () => {
    expect(() => names(['@nope'])).toThrow('tag @nope matches no host');
    expect(() => names(['x-*'])).toThrow('x-* matches no host');
  });
});

describe('the diff step', () => {
  const fleet = inventory([host('web-1'), host('laptop', { target: { kind: 'local' } })]);

  it('is never planned unless asked for', () => {
    for (const h of buildPlan(fleet, planOptions()).hosts) expect(h.diff).toEqual({ kind: 'diff', never: 'not asked (fleet diff, apply --diff or --confirm)' });
  });

  it('copies the closure and lists both closures on the target (ssh), or lists them here (local)', () => {
    const plan = buildPlan(fleet, planOptions({ diff: 'confirm' }));
    const [web, laptop] = plan.hosts;
    if (!web || 'never' in web.diff || !laptop || 'never' in laptop.diff) throw new Error('diff step expected');
    expect(web.diff.use).toBe('confirm');
    expect(web.diff.copy?.argv).toEqual(web.deploy.copy?.argv);
    const remote = resolveArgv(web.diff.compare.argv, { toplevel: '/nix/store/new system' });
    expect(remote[0]).toBe('ssh');
    expect(remote.at(-1)).toBe("'/nix/store/new system'");
    expect(remote.at(-2)).toMatch(/ fleet-diff$/);
    expect(laptop.diff.copy).toBeUndefined();
    expect(resolveArgv(laptop.diff.compare.argv, { toplevel: '/nix/store/x' })).toEqual(['sh', '-c', expect.stringContaining('nix-store --query --requisites'), 'fleet-diff', '/nix/store/x']);
    expect(web.diff.guard).toMatch(/one question is answered yes \(--confirm\)$/);
  });
});

describe('how closures travel', () => {
  const bootstrapOptions = { phases: ['disko', 'install', 'reboot'], waitTimeout: 300, noReboot: false, noDiskoDeps: false, debug: false, diskEncryptionKeys: [], extraFiles: undefined } as never;

  it('copies let the target substitute unless the host or --no-substitutes says no; nixos-anywhere is told so; the fallback copy uploads', () => {
    const fleet = inventory([host('web-1'), host('web-2', { substitutes: false }), host('new', { bootstrap: bootstrapOptions })]);
    const plan = buildPlan(fleet, planOptions({ rebuildFlavour: 'ng' }));
    const [web1, web2, fresh] = plan.hosts;
    expect(argvOf(web1!.deploy.copy!)).toContain('--substitute-on-destination');
    expect(web1!.substitutes).toBe(true);
    expect(argvOf(web1!.copyFallback!)).not.toContain('--substitute-on-destination');
    expect(web1!.deploy.guard).toContain('the target substitutes what its binary caches have, the rest is uploaded from here');
    expect(argvOf(web2!.deploy.copy!)).not.toContain('--substitute-on-destination');
    expect(web2!.copyFallback).toBeUndefined();
    expect(web2!.deploy.guard).toContain('no substitution on the target: all it lacks is uploaded from here');
    const install = 'never' in fresh!.bootstrap ? [] : argvOf(fresh!.bootstrap.install);
    expect(install).not.toContain('--no-substitute-on-destination');

    const off = buildPlan(fleet, planOptions({ rebuildFlavour: 'ng', substitutes: false }));
    for (const h of off.hosts) {
      expect(argvOf(h.deploy.copy!)).not.toContain('--substitute-on-destination');
      const activation = h.deploy.activation;
      expect(argvOf(activation.activate)).not.toContain('--use-substitutes');
    }
    const bootstrap = off.hosts[2]!.bootstrap;
    expect('never' in bootstrap ? [] : argvOf(bootstrap.install)).toContain('--no-substitute-on-destination');
  });

  it('buildHost: target: evaluated here apart from the others, built by the target, nothing copied or sized', () => {
    const plan = buildPlan(inventory([host('x86'), host('arm', { buildOnTarget: true })]), planOptions({ evalLimit: 8, evalLimitSource: 'given' }));
    expect(plan.build.chunks.map((c) => [c.attributes.map((a) => a.host), c.targetBuilds?.map((t) => t.host)])).toEqual([
      [['x86'], undefined],
      [['arm'], ['arm']],
    ]);
    const target = plan.build.chunks[1]!.targetBuilds![0]!;
    expect(argvOf(target.copyDerivations)).toEqual(['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--derivation', '--to', 'ssh://root@arm.example.org', '<derivations>']);
    expect(resolveArgv(target.realise.argv, { derivations: ['/nix/store/a.drv'] }).slice(-2)).toEqual(['nix-store --realise', '/nix/store/a.drv']);
    const arm = plan.hosts[1]!;
    expect(arm.deploy.copy).toBeUndefined();
    expect(arm.uploadSizes).toBeUndefined();
    expect(arm.deploy.guard).toContain('the target built <toplevel> itself (buildHost: target): nothing to copy');
    expect(plan.hosts[0]!.uploadSizes).toBeDefined();
  });

  it('roots the results in the run directory, keeps them with --keep-result, and plans the cache push (signed with a key)', () => {
    const fleet = inventory([host('web-1')], { cache: { push: 's3://c?region=x', signingKey: '/keys/c.sec' } });
    const plan = buildPlan(fleet, planOptions({ keepResult: true }));
    expect(plan.build.results).toEqual({ dir: `${plan.paths.runtimeDir}/results`, rootCached: expect.anything(), keep: { dir: `${plan.paths.stateDir}/gcroots`, command: expect.anything() } });
    // What the evaluation cache answered is rooted for the run in one call.
    expect(argvOf(plan.build.results.rootCached)).toEqual(['nix-store', '--add-root', '<resultLink>', '--indirect', '--realise', '<cachedOutputs>']);
    expect(argvOf(plan.build.results.keep!.command)).toEqual(['nix-store', '--add-root', '<resultLink>', '--indirect', '--realise', '<toplevel>']);
    expect(argvOf(plan.cache!.sign!)).toEqual(['nix', '--extra-experimental-features', 'nix-command flakes', 'store', 'sign', '--key-file', '/keys/c.sec', '--recursive', '<toplevels>']);
    expect(argvOf(plan.cache!.push)).toEqual(['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--to', 's3://c?region=x', '<toplevels>']);
    expect(plan.hosts[0]!.deploy.guard).toContain('the copy starts once <toplevel> is pushed to the cache s3://c?region=x');
    expect(buildPlan(fleet, planOptions()).build.results.keep).toBeUndefined();
    // A run that builds nothing pushes nothing.
    expect(buildPlan(fleet, planOptions({ scope: { steps: ['secrets'] } })).cache).toBeUndefined();
  });
});

describe('privilege escalation in the plan', () => {
  const wrapped = (words: string[]) => words.slice(0, 4).join(' ') === `sh -c ${SUDO_PASSWORD_SCRIPT} ${SUDO_PASSWORD_NAME}`;
  const admin = (overrides: Parameters<typeof host>[1] = {}) => host('db', { target: { kind: 'ssh', user: 'admin', host: 'db', port: 22 }, ...overrides });
  const secret: SecretSpec = { name: 'token', source: { kind: 'env', name: 'T' }, destination: '/run/keys/token', owner: 'root', group: 'root', mode: '0400', upload: 'before-activation' };
  const values = { toplevel: '/nix/store/abc-nixos-system-db', deployId: '0123abcd', historyRecord: '{}', digestKey: 'k' };
  /** Every privileged command of a host's plan, as the remote shell gets it. */
  function privileged(plan: ReturnType<typeof buildPlan>): string[][] {
    const h = plan.hosts[0]!;
    if ('never' in h.secrets || !h.secrets.beforeActivation) throw new Error('the host has secrets');
    if ('never' in h.history || 'never' in h.verify) throw new Error('switch records and verifies');
    const a = h.deploy.activation;
    if (a.kind !== 'watched') throw new Error('switch is watched');
    const commands = [h.connect.command, h.secrets.beforeActivation.push, a.activate, a.confirm, h.history.append, ...h.verify.healthChecks.map((c) => c.command)];
    return commands.map((c) => remoteWords(resolveArgv(c.argv, values)));
  }

  it('with a password: every privileged command runs the wrapper, over a connection whose key exchange fleet leaves alone, activated as the bash flavour does', () => {
    const fleet = inventory([admin({ secrets: [secret], healthChecks: [{ name: 'up', command: ['true'], timeout: 5 }], escalation: { method: 'sudo', askPassword: true } })]);
    const plan = buildPlan(fleet, planOptions({ rebuildFlavour: 'ng' }));
    expect(plan.hosts[0]!.escalation).toEqual({ method: 'sudo', askPassword: true });
    const commands = privileged(plan);
    expect(commands).toHaveLength(6);
    for (const words of commands) expect(wrapped(words), words.slice(0, 6).join(' ')).toBe(true);
    // nixos-rebuild-ng would ask for the password on the terminal itself.
    expect(plan.hosts[0]!.deploy.flavour).toBe('bash');
    expect(argvOf(plan.hosts[0]!.deploy.activation.activate)).not.toContain('nixos-rebuild');
  });

  it('--ask-sudo-password takes every host that escalates with sudo, not doas or root ones', () => {
    const fleet = inventory([
      admin(),
      host('doer', { target: { kind: 'ssh', user: 'doer', host: 'd', port: 22 }, escalation: { method: 'doas', askPassword: false } }),
      host('root'),
    ]);
    const plan = buildPlan(fleet, planOptions({ askSudoPassword: true }));
    expect(plan.hosts.map((h) => h.escalation)).toEqual([{ method: 'sudo', askPassword: true }, { method: 'doas', askPassword: false }, undefined]);
    const doas = remoteWords(resolveArgv(plan.hosts[1]!.connect.command.argv, values));
    expect(doas.slice(0, 5)).toEqual(['doas', '-n', '--', 'sh', '-c']);
    expect(remoteWords(resolveArgv(plan.hosts[2]!.connect.command.argv, values)).slice(0, 2)).toEqual(['sh', '-c']);
  });

  it('doas, run0 and own words before each privileged command; nixos-rebuild-ng (which knows only sudo) leaves the activation to fleet', () => {
    for (const [method, words] of [
      ['doas', ['doas', '-n', '--']],
      ['run0', ['run0', '--no-ask-password', '--']],
      [{ argv: ['sudo', '-H', '--'] }, ['sudo', '-H', '--']],
    ] as const) {
      const plan = buildPlan(inventory([admin({ secrets: [secret], healthChecks: [{ name: 'up', command: ['true'], timeout: 5 }], escalation: { method: typeof method === 'string' ? method : { argv: [...method.argv] }, askPassword: false } })]), planOptions({ rebuildFlavour: 'ng' }));
      for (const remote of privileged(plan)) expect(remote.slice(0, 3)).toEqual(words);
      expect(plan.hosts[0]!.deploy.flavour).toBe('bash');
    }
    // Plain sudo: nixos-rebuild-ng --sudo, as before.
    const sudo = buildPlan(inventory([admin()]), planOptions({ rebuildFlavour: 'ng' })).hosts[0]!;
    expect(sudo.deploy.flavour).toBe('ng');
    expect(argvOf(sudo.deploy.activation.activate)).toContain('--sudo');
  });

  it('a local target escalates as the host says when fleet is not root, and not at all when it is', () => {
    const local = (localRoot: boolean) =>
      buildPlan(inventory([host('desk', { target: { kind: 'local' }, mode: 'boot', escalation: { method: 'doas', askPassword: false } })]), planOptions({ rebuildFlavour: 'bash', localRoot })).hosts[0]!;
    expect(resolveArgv(local(false).deploy.activation.activate.argv, values).slice(0, 4)).toEqual(['doas', '-n', '--', 'sh']);
    expect(resolveArgv(local(true).deploy.activation.activate.argv, values).slice(0, 2)).toEqual(['sh', '-c']);
    expect(local(true).escalation).toBeUndefined();
  });
});
