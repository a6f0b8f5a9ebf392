// Lab stand-in for nixos-rebuild (started by its front, ../nixos-rebuild): the CONTRACTS.md subset, argument for argument, doing the real
// build/copy/profile/activation over ssh, with the real tools' parsing and failure modes. Flavours
// (FLEET_LAB_REBUILD_FLAVOUR): `ng` (default; nixos-rebuild-ng with --store-path), `ng-old`
// (nixos-rebuild-ng from before --store-path) and `bash` (the nixos-rebuild.sh of NixOS ≤ 25.05).
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NIX_FLAGS, exit, fail, logStart, logStep, outPaths, remoteCommand, run, shellSplit } from './common.mjs';

const argv = process.argv.slice(2);
logStart('nixos-rebuild', argv);
// A tool that finishes what it is doing before it yields to Ctrl-C (test 7b needs one).
if (process.env.FLEET_LAB_REBUILD_IGNORES_SIGINT) process.on('SIGINT', () => undefined);
const flavour = process.env.FLEET_LAB_REBUILD_FLAVOUR || 'ng';
if (!['ng', 'ng-old', 'bash'].includes(flavour)) {
  fail(`(lab) FLEET_LAB_REBUILD_FLAVOUR must be ng, ng-old or bash (got ${JSON.stringify(flavour)})`);
}
const bash = flavour === 'bash';

/** Writes to stderr and exits, without the stand-in's own prefix (the real tools' exact words). */
function die(text, code) {
  process.stderr.write(text);
  exit(code);
}

// `exec man nixos-rebuild` (bash) and `man 8 nixos-rebuild` (ng, for -h/--help or no action): on a
// machine without the man page (the lab, Debian, CI) man-db says so on stderr and exits 16.
function man() {
  die(bash ? 'No manual entry for nixos-rebuild\n' : 'No manual entry for nixos-rebuild in section 8\n', 16);
}

// ---------------------------------------------------------------------------------------------------
// bash flavour: nixos-rebuild.sh's `while [ "$#" -gt 0 ]; do i="$1"; shift 1; case "$i" in …` loop.
// Only `--help` calls man (`-h` is an unknown option); an unknown option is
// `log "$0: unknown option \`$i'"; exit 1`; a missing value makes `shift 1` fail under `set -e` (exit 1).
const BASH_ACTIONS = [
  'switch', 'boot', 'test', 'build', 'edit', 'repl', 'dry-build', 'dry-run', 'dry-activate', 'build-vm',
  'build-vm-with-bootloader', 'build-image', 'list-generations',
];

function parseBash(args) {
  const self = process.env.FLEET_LAB_REBUILD_SELF ?? process.argv[1];
  const o = { verbose: 0, nixOptions: [] };
  const rest = [...args];
  const take = () => {
    if (rest.length === 0) exit(1); // `shift 1` with nothing left, under set -e
    return rest.shift();
  };
  while (rest.length > 0) {
    const i = rest.shift();
    switch (i) {
      case '--help':
        man();
        break;
      case '--flake':
        o.flake = take();
        break;
      case '--target-host':
        o.targetHost = take();
        break;
      case '--build-host':
        o.buildHost = take();
        break;
      case '--use-remote-sudo':
        o.sudo = true;
        break;
      case '--no-ssh-tty':
        o.noSshTty = true;
        break;
      case '--fast':
        o.noReexec = true;
        break;
      case '--no-build-nix':
      case '--upgrade':
      case '--upgrade-all':
        break;
      case '--use-substitutes':
      case '--substitute-on-destination':
      case '-s':
        o.substitutes = true;
        break;
      case '--show-trace':
        o.showTrace = true;
        break;
      case '--install-bootloader':
        o.installBootloader = true;
        break;
      case '--rollback':
        o.rollback = true;
        break;
      case '--json':
        o.json = true;
        break;
      case '--profile-name':
      case '-p':
        if (!rest[0]) die(`${self}: ‘--profile-name’ requires an argument\n`, 1);
        o.profileName = rest.shift();
        break;
      case '--specialisation':
      case '-c':
        if (!rest[0]) die(`${self}: ‘--specialisation’ requires an argument\n`, 1);
        o.specialisation = rest.shift();
        break;
      case '--option': {
        const k = take();
        const v = take();
        o.nixOptions.push('--option', k, v);
        break;
      }
      case '--verbose':
      case '-v':
      case '-vv':
      case '-vvv':
      case '-vvvv':
      case '-vvvvv':
        o.verbose += i === '--verbose' ? 1 : i.length - 1;
        break;
      default:
        if (BASH_ACTIONS.includes(i)) {
          if (o.action) man(); // exactly one action
          o.action = i === 'dry-run' ? 'dry-build' : i;
        } else {
          die(`${self}: unknown option \`${i}'\n`, 1);
        }
    }
  }
  if (!o.action) man();
  return o;
}

// ---------------------------------------------------------------------------------------------------
// ng flavours: Python argparse (add_help=False, allow_abbrev=False), parsed the way argparse does it.
// The usage lines are what argparse prints for a replica of nixos-rebuild-ng's parser (nixpkgs
// pkgs/by-name/ni/nixos-rebuild-ng/src/nixos_rebuild/__init__.py, plus --no-reexec and --store-path),
// formatted by Python 3.11's argparse at 80 columns (stderr is not a terminal).
const USAGE_NG = `usage: nixos-rebuild [--verbose] [--max-jobs MAX_JOBS] [--cores CORES]
                     [--log-format LOG_FORMAT] [--keep-going] [--keep-failed]
                     [--fallback] [--repair] [--option OPTION OPTION]
                     [--builders BUILDERS] [--include INCLUDE] [--quiet]
                     [--print-build-logs] [--show-trace]
                     [--accept-flake-config] [--refresh] [--impure]
                     [--offline] [--no-net] [--recreate-lock-file]
                     [--no-update-lock-file] [--no-write-lock-file]
                     [--no-registries] [--commit-lock-file]
                     [--update-input UPDATE_INPUT]
                     [--override-input OVERRIDE_INPUT OVERRIDE_INPUT]
                     [--no-build-output] [--use-substitutes] [--help]
                     [--debug] [--file FILE] [--attr ATTR] [--flake [FLAKE]]
                     [--no-flake] [--install-bootloader] [--install-grub]
                     [--profile-name PROFILE_NAME]
                     [--specialisation SPECIALISATION] [--rollback]
                     [--upgrade] [--upgrade-all] [--json]
                     [--ask-sudo-password] [--sudo] [--use-remote-sudo]
                     [--no-ssh-tty] [--no-reexec] [--build-host BUILD_HOST]
                     [--target-host TARGET_HOST] [--store-path STORE_PATH]
                     [--no-build-nix] [--image-variant IMAGE_VARIANT]
                     [{switch,boot,test,build,edit,repl,dry-build,dry-run,dry-activate,build-vm,build-vm-with-bootloader,build-image,list-generations}]
`;
const USAGE_NG_OLD = `usage: nixos-rebuild [--verbose] [--max-jobs MAX_JOBS] [--cores CORES]
                     [--log-format LOG_FORMAT] [--keep-going] [--keep-failed]
                     [--fallback] [--repair] [--option OPTION OPTION]
                     [--builders BUILDERS] [--include INCLUDE] [--quiet]
                     [--print-build-logs] [--show-trace]
                     [--accept-flake-config] [--refresh] [--impure]
                     [--offline] [--no-net] [--recreate-lock-file]
                     [--no-update-lock-file] [--no-write-lock-file]
                     [--no-registries] [--commit-lock-file]
                     [--update-input UPDATE_INPUT]
                     [--override-input OVERRIDE_INPUT OVERRIDE_INPUT]
                     [--no-build-output] [--use-substitutes] [--help]
                     [--debug] [--file FILE] [--attr ATTR] [--flake [FLAKE]]
                     [--no-flake] [--install-bootloader] [--install-grub]
                     [--profile-name PROFILE_NAME]
                     [--specialisation SPECIALISATION] [--rollback]
                     [--upgrade] [--upgrade-all] [--json]
                     [--ask-sudo-password] [--sudo] [--use-remote-sudo]
                     [--no-ssh-tty] [--no-reexec] [--build-host BUILD_HOST]
                     [--target-host TARGET_HOST] [--no-build-nix]
                     [--image-variant IMAGE_VARIANT]
                     [{switch,boot,test,build,edit,repl,dry-build,dry-run,dry-activate,build-vm,build-vm-with-bootloader,build-image,list-generations}]
`;

const NG_ACTIONS = BASH_ACTIONS;
/** [option strings, dest, kind]: kind is flag | count | one (nargs=None) | two (nargs=2) | opt (nargs='?'). */
const NG_OPTIONS = [
  [['--verbose', '-v'], 'verbose', 'count'],
  [['--max-jobs', '-j'], 'maxJobs', 'one'],
  [['--cores'], 'cores', 'one'],
  [['--log-format'], 'logFormat', 'one'],
  [['--keep-going', '-k'], 'keepGoing', 'flag'],
  [['--keep-failed', '-K'], 'keepFailed', 'flag'],
  [['--fallback'], 'fallback', 'flag'],
  [['--repair'], 'repair', 'flag'],
  [['--option'], 'option', 'two'],
  [['--builders'], 'builders', 'one'],
  [['--include', '-I'], 'include', 'one'],
  [['--quiet'], 'quiet', 'flag'],
  [['--print-build-logs', '-L'], 'printBuildLogs', 'flag'],
  [['--show-trace'], 'showTrace', 'flag'],
  ...['--accept-flake-config', '--refresh', '--impure', '--offline', '--no-net', '--recreate-lock-file',
    '--no-update-lock-file', '--no-write-lock-file', '--no-registries', '--commit-lock-file'].map((n) => [[n], n, 'flag']),
  [['--update-input'], 'updateInput', 'one'],
  [['--override-input'], 'overrideInput', 'two'],
  [['--no-build-output', '-Q'], 'noBuildOutput', 'flag'],
  [['--use-substitutes', '--substitute-on-destination', '-s'], 'substitutes', 'flag'],
  [['--help', '-h'], 'help', 'flag'],
  [['--debug'], 'debug', 'flag'],
  [['--file', '-f'], 'file', 'one'],
  [['--attr', '-A'], 'attr', 'one'],
  [['--flake'], 'flake', 'opt'],
  [['--no-flake'], 'noFlake', 'flag'],
  [['--install-bootloader'], 'installBootloader', 'flag'],
  [['--install-grub'], 'installGrub', 'flag'],
  [['--profile-name', '-p'], 'profileName', 'one'],
  [['--specialisation', '-c'], 'specialisation', 'one'],
  [['--rollback'], 'rollback', 'flag'],
  [['--upgrade'], 'upgrade', 'flag'],
  [['--upgrade-all'], 'upgradeAll', 'flag'],
  [['--json'], 'json', 'flag'],
  [['--ask-sudo-password'], 'askSudoPassword', 'flag'],
  [['--sudo'], 'sudo', 'flag'],
  [['--use-remote-sudo'], 'useRemoteSudo', 'flag'],
  [['--no-ssh-tty'], 'noSshTty', 'flag'],
  [['--no-reexec', '--fast'], 'noReexec', 'flag'],
  [['--build-host'], 'buildHost', 'one'],
  [['--target-host'], 'targetHost', 'one'],
  ...(flavour === 'ng' ? [[['--store-path'], 'storePath', 'one']] : []),
  [['--no-build-nix'], 'noBuildNix', 'flag'],
  [['--image-variant'], 'imageVariant', 'one'],
];

function ngError(message) {
  die(`${flavour === 'ng' ? USAGE_NG : USAGE_NG_OLD}nixos-rebuild: error: ${message}\n`, 2);
}

/** argparse's parse_args over NG_OPTIONS and the one positional `action` (nargs='?', choices). */
function parseNg(args) {
  const byName = new Map();
  for (const spec of NG_OPTIONS) for (const name of spec[0]) byName.set(name, spec);
  const o = { verbose: 0, nixOptions: [] };
  const extras = [];
  let actionPending = true;

  // Classify each string: 'O' (looks like an option, known or not) or 'A' (an argument).
  const items = [];
  let afterDashDash = false;
  for (const s of args) {
    if (afterDashDash) items.push({ s, kind: 'A' });
    else if (s === '--') afterDashDash = true;
    else if (s.startsWith('-') && s.length > 1 && !/^-\d+$|^-\d*\.\d+$/.test(s) && !(s.includes(' ') && !byName.has(s.split('=')[0]))) {
      items.push({ s, kind: 'O' });
    } else items.push({ s, kind: 'A' });
  }
  const name = (spec) => spec[0].join('/');
  const store = (spec, value) => {
    const [, dest, kind] = spec;
    if (kind === 'count') o[dest] = (o[dest] ?? 0) + 1;
    else if (kind === 'flag') o[dest] = true;
    else if (kind === 'two') o.nixOptions.push(`--${dest}`, ...value), (o[dest] = value);
    else o[dest] = value;
  };
  const consumeAction = (i) => {
    if (!actionPending || i >= items.length || items[i].kind !== 'A') return i;
    actionPending = false;
    const value = items[i].s;
    if (!NG_ACTIONS.includes(value)) {
      ngError(`argument action: invalid choice: '${value}' (choose from ${NG_ACTIONS.map((a) => `'${a}'`).join(', ')})`);
    }
    o.action = value;
    return i + 1;
  };
  let i = 0;
  while (i < items.length) {
    if (items[i].kind === 'A') {
      const next = consumeAction(i);
      if (next === i) extras.push(items[i++].s);
      else i = next;
      continue;
    }
    let s = items[i++].s;
    let explicit = null;
    let spec = byName.get(s);
    if (!spec && s.startsWith('--') && s.includes('=')) {
      spec = byName.get(s.slice(0, s.indexOf('=')));
      if (spec) explicit = s.slice(s.indexOf('=') + 1);
    }
    if (!spec && !s.startsWith('--') && byName.has(s.slice(0, 2))) {
      // -pNAME, or a run of single-letter flags such as -vv
      spec = byName.get(s.slice(0, 2));
      explicit = s.slice(2);
      while (['flag', 'count'].includes(spec[2]) && explicit) {
        store(spec, true);
        const more = byName.get(`-${explicit[0]}`);
        if (!more) ngError(`argument ${name(spec)}: ignored explicit argument '${explicit}'`);
        spec = more;
        explicit = explicit.slice(1) || null;
      }
    }
    if (!spec) {
      extras.push(s);
      continue;
    }
    const kind = spec[2];
    if (kind === 'flag' || kind === 'count') {
      if (explicit !== null) ngError(`argument ${name(spec)}: ignored explicit argument '${explicit}'`);
      store(spec, true);
    } else if (kind === 'one') {
      if (explicit !== null) store(spec, explicit);
      else if (i < items.length && items[i].kind === 'A') store(spec, items[i++].s);
      else ngError(`argument ${name(spec)}: expected one argument`);
    } else if (kind === 'two') {
      if (explicit !== null || !(items[i]?.kind === 'A' && items[i + 1]?.kind === 'A')) {
        ngError(`argument ${name(spec)}: expected 2 arguments`);
      }
      store(spec, [items[i].s, items[i + 1].s]);
      i += 2;
    } else {
      // nargs='?': the next argument if there is one, else const=True
      if (explicit !== null) store(spec, explicit);
      else if (i < items.length && items[i].kind === 'A') store(spec, items[i++].s);
      else store(spec, true);
    }
  }
  if (extras.length > 0) ngError(`unrecognized arguments: ${extras.join(' ')}`);
  if (o.help || !o.action) man();
  if (o.action === 'dry-run') o.action = 'dry-build';
  if (o.askSudoPassword) o.sudo = true;
  if (o.useRemoteSudo) {
    process.stderr.write('nixos-rebuild: warning: --use-remote-sudo deprecated, use --sudo instead\n');
    o.sudo = true;
  }
  if (o.installGrub) {
    process.stderr.write('nixos-rebuild: warning: --install-grub deprecated, use --install-bootloader instead\n');
    o.installBootloader = true;
  }
  if ((o.targetHost || o.buildHost) && !['switch', 'boot', 'test', 'build', 'dry-build', 'dry-activate', 'build-vm', 'build-vm-with-bootloader'].includes(o.action)) {
    ngError(`--target-host/--build-host is not supported with '${o.action}'`);
  }
  if (o.flake && (o.file || o.attr)) ngError('--flake cannot be used with --file or --attr');
  if (o.storePath !== undefined) {
    if (!['switch', 'boot', 'test', 'dry-activate'].includes(o.action)) ngError(`--store-path is not supported with '${o.action}'`);
    if (o.rollback) ngError('--store-path cannot be used with --rollback');
    if (o.flake || o.file || o.attr) ngError('--store-path cannot be used with --flake, --file or --attr');
  }
  if (o.flake === true) o.flake = null; // `--flake` alone: /etc/nixos/flake.nix, which the lab has not
  return o;
}

const opts = bash ? parseBash(argv) : parseNg(argv);
const action = opts.action;
const LAB_ACTIONS = ['switch', 'boot', 'test', 'build', 'dry-activate', 'dry-build', 'list-generations'];
if (!LAB_ACTIONS.includes(action)) fail(`(lab) the action ${action} is not supported by the lab`);
// bash checks this before anything (after parsing); ng only in switch_to_configuration, after the
// copy and the profile (there, below).
if (bash && opts.specialisation && action !== 'switch' && action !== 'test') {
  die('error: ‘--specialisation’ can only be used with ‘switch’ and ‘test’\n', 1);
}
if (opts.file || opts.attr) fail('(lab) --file/--attr are not supported by the lab: use --flake F#NAME');

const profile = opts.profileName && opts.profileName !== 'system'
  ? `/nix/var/nix/profiles/system-profiles/${opts.profileName}`
  : '/nix/var/nix/profiles/system';
const target = opts.targetHost ?? process.env.FLEET_LAB_LOCAL_TARGET ?? null;

// ---------------------------------------------------------------------------------------------------
// ssh, the way each real tool calls it. bash: SSHOPTS="$NIX_SSHOPTS -o ControlMaster=auto
// -o ControlPath=$tmpDir/ssh-%n -o ControlPersist=60", plus `-t` for the commands it runs through
// targetHostSudoCmd (profile, activation) unless --no-ssh-tty. ng: NIX_SSHOPTS plus its defaults, which
// NIXOS_REBUILD_SSH_DEFAULT_OPTS replaces; never -t.
const controlDir = mkdtempSync(join(tmpdir(), bash ? 'nixos-rebuild.' : 'nrb-'));
function sshOptions() {
  const user = shellSplit(process.env.NIX_SSHOPTS ?? '');
  const defaults =
    !bash && process.env.NIXOS_REBUILD_SSH_DEFAULT_OPTS !== undefined
      ? shellSplit(process.env.NIXOS_REBUILD_SSH_DEFAULT_OPTS)
      : ['-o', 'ControlMaster=auto', '-o', `ControlPath=${controlDir}/ssh-%n`, '-o', 'ControlPersist=60'];
  return [...user, ...defaults];
}
async function onHost(host, cmd, { capture = false, sudo = false, tty = false } = {}) {
  const full = sudo ? ['sudo', ...shellSplit(process.env.NIX_SUDOOPTS ?? ''), ...cmd] : cmd;
  if (host === null) {
    logStep('local', full);
    return run(full, { capture });
  }
  logStep('ssh', [host, ...full]);
  const t = bash && tty && !opts.noSshTty ? ['-t'] : [];
  return run(['ssh', ...sshOptions(), ...t, host, '--', remoteCommand(full)], { capture });
}
async function finish(code) {
  // Both close their ssh control masters on exit (bash: its EXIT trap).
  try {
    for (const name of readdirSync(controlDir)) {
      await run(['ssh', '-o', `ControlPath=${join(controlDir, name)}`, '-O', 'exit', 'dummyhost'], { quiet: true });
    }
    rmSync(controlDir, { recursive: true, force: true });
  } catch {
    // best effort
  }
  exit(code);
}
async function must(result, what) {
  if (result.code !== 0) {
    if (!bash) process.stderr.write(`error: ${what} failed with exit code ${result.code}\n`);
    await finish(result.code);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
function flakeAttr() {
  if (!opts.flake) fail('(lab) give --flake FLAKE#NAME or --store-path (no <nixpkgs/nixos> in the lab)');
  const hash = opts.flake.lastIndexOf('#');
  if (hash < 0) fail(`(lab) --flake needs an explicit #NAME: ${opts.flake}`);
  const ref = opts.flake.slice(0, hash) || '.';
  const name = opts.flake.slice(hash + 1).replace(/^nixosConfigurations\./, '').replace(/^"(.*)"$/, '$1');
  return { ref, name, attr: (suffix) => `${ref}#nixosConfigurations."${name}".config.system.build.${suffix}` };
}

function nixFlags() {
  return [...NIX_FLAGS, ...opts.nixOptions, ...(opts.showTrace ? ['--show-trace'] : []), ...(opts.verbose ? ['-v'] : [])];
}

async function reexec() {
  // Both re-exec the nixos-rebuild of the new configuration for switch/boot/test unless --fast
  // (--no-reexec). bash runs the build bare under `set -e`: a flake without
  // config.system.build.nixos-rebuild ends the run with nix's error. ng warns and carries on.
  if (opts.noReexec || !['switch', 'boot', 'test'].includes(action) || !opts.flake) return;
  if (process.env._NIXOS_REBUILD_REEXEC) return;
  const f = flakeAttr();
  logStep('reexec', [f.attr('nixos-rebuild')]);
  const r = await run(['nix', ...nixFlags(), 'build', '--out-link', join(controlDir, 'nixos-rebuild'), f.attr('nixos-rebuild')], { quiet: !bash });
  if (r.code !== 0) {
    if (bash) await finish(r.code);
    process.stderr.write('warning: could not build a newer version of nixos-rebuild, using current version\n');
  }
}

async function buildSystem() {
  const f = flakeAttr();
  const attr = f.attr('toplevel');
  if (opts.buildHost) {
    // Evaluate here, build on the build host, stream the result back through this machine.
    const drv = (await must(await run(['nix', ...nixFlags(), 'eval', '--raw', `${attr}.drvPath`], { capture: true }), 'evaluation')).stdout.trim();
    logStep('copy-derivation', [drv, opts.buildHost]);
    await must(await run(['nix', ...nixFlags(), 'copy', '--derivation', '--to', `ssh://${opts.buildHost}`, drv]), 'copying the derivation');
    const built = await must(await onHost(opts.buildHost, ['nix-store', '--realise', drv, '--quiet'], { capture: true }), 'remote build');
    const path = built.stdout.trim().split('\n').pop();
    // The closure streams build host → this machine → target (the target copy follows in main()).
    logStep('copy-from', [opts.buildHost, path]);
    await must(await run(['nix', ...nixFlags(), 'copy', '--no-check-sigs', '--from', `ssh://${opts.buildHost}`, path]), 'copying from the build host');
    return path;
  }
  logStep('build', [attr]);
  if (bash) {
    // nix build F#…toplevel --out-link $tmpDir/result; readlink -f $tmpDir/result
    const link = action === 'build' ? 'result' : join(controlDir, 'result');
    await must(await run(['nix', ...nixFlags(), 'build', attr, '--out-link', link]), 'building the system');
    return readlinkSync(link);
  }
  const linkArgs = action === 'build' ? ['--out-link', 'result'] : ['--no-link'];
  const r = await must(await run(['nix', ...nixFlags(), 'build', '--json', ...linkArgs, attr], { capture: true }), 'building the system');
  return outPaths(r.stdout)[0];
}

/** nix-copy-closure --to T P, with the same ssh options (and so the same shared connection) as the ssh calls. */
async function copyToTarget(path) {
  logStep('copy', [target, path]);
  const env = { ...process.env, NIX_SSHOPTS: sshOptions().join(' ') };
  const copy = await run(['nix-copy-closure', ...(opts.substitutes ? ['-s'] : []), '--to', target, path], { env });
  if (copy.code !== 0) {
    if (!bash) process.stderr.write(`error: copying ${path} to ${target} failed\n`);
    await finish(copy.code);
  }
}

const LIST_GENERATIONS = `
profile="$1"
nix-env -p "$profile" --list-generations | while read -r gen date time current; do
  link="$profile-$gen-link"
  version=$(cat "$link/nixos-version" 2>/dev/null || true)
  printf '%s\\t%s %s\\t%s\\t%s\\t%s\\n' "$gen" "$date" "$time" "$version" "$(readlink "$link")" "$current"
done
`;

async function readGenerations() {
  const r = await onHost(target, ['sh', '-c', LIST_GENERATIONS, 'sh', profile], { capture: true });
  if (r.code !== 0) await finish(r.code);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [generation, date, nixosVersion, storePath, current] = line.split('\t');
      return { generation: Number(generation), date, nixosVersion, storePath, current: current === '(current)' };
    });
}

async function listGenerations() {
  const gens = (await readGenerations()).map((g) => ({
    generation: g.generation,
    date: g.date,
    nixosVersion: g.nixosVersion,
    kernelVersion: '',
    configurationRevision: '',
    specialisations: [],
    current: g.current,
    storePath: g.storePath,
  }));
  if (opts.json) process.stdout.write(JSON.stringify(gens, null, 2) + '\n');
  else {
    process.stdout.write('Generation  Build-date           NixOS version  Current\n');
    for (const g of gens) {
      process.stdout.write(`${String(g.generation).padEnd(12)}${g.date.padEnd(21)}${g.nixosVersion.padEnd(15)}${g.current ? 'True' : ''}\n`);
    }
  }
}

// systemd-run as both tools use it where the target has systemd (the lab hosts have not).
const SYSTEMD_RUN = (installBootloader) => [
  'systemd-run', '-E', 'LOCALE_ARCHIVE', '-E', `NIXOS_INSTALL_BOOTLOADER=${installBootloader}`, '--collect',
  '--no-ask-password', '--pipe', '--quiet', '--service-type=exec', '--unit=nixos-rebuild-switch-to-configuration', '--wait',
];

/** bash: probe `systemd-run … true`, fall back to `env -i`, and turn any failure into exit 1. */
async function activateBash(path) {
  const bootloader = opts.installBootloader ? '1' : '';
  let cmd = SYSTEMD_RUN(bootloader);
  const probe = await onHost(target, [...cmd, 'true'], { sudo: opts.sudo, tty: true });
  if (probe.code !== 0) cmd = ['env', '-i', `LOCALE_ARCHIVE=${process.env.LOCALE_ARCHIVE ?? ''}`, `NIXOS_INSTALL_BOOTLOADER=${bootloader}`];
  // `$pathToConfig/specialisation/$specialisation/bin/switch-to-configuration`, looked for with
  // `test -f` on the target (after the profile was set): missing is `log "error: specialisation not
  // found: …"; exit 1`.
  const stcPath = opts.specialisation ? `${path}/specialisation/${opts.specialisation}/bin/switch-to-configuration` : `${path}/bin/switch-to-configuration`;
  if (opts.specialisation) {
    const found = await onHost(target, ['test', '-f', stcPath]);
    if (found.code !== 0) {
      process.stderr.write(`error: specialisation not found: ${opts.specialisation}\n`);
      return finish(1);
    }
  }
  const stc = await onHost(target, [...cmd, stcPath, action], { sudo: opts.sudo, tty: true });
  if (stc.code !== 0) {
    process.stderr.write('warning: error(s) occurred while switching to the new configuration\n');
    return finish(1);
  }
  return finish(0);
}

// ---------------------------------------------------------------------------------------------------
async function main() {
  if (action === 'list-generations') {
    await listGenerations();
    return finish(0);
  }
  await reexec();
  if (action === 'build' || action === 'dry-build') {
    if (action === 'dry-build') {
      const f = flakeAttr();
      const r = await run(['nix', ...nixFlags(), 'build', '--dry-run', f.attr('toplevel')]);
      return finish(r.code);
    }
    const path = await buildSystem();
    process.stdout.write(path + '\n');
    return finish(0);
  }
  // Without --target-host the real tool activates the machine it runs on. The lab allows that only
  // inside a lab host (its own /nix, /run and sshd), never on the machine running the lab.
  if (target === null && !existsSync('/run/lab/mntns')) {
    fail('(lab) activating this machine is only supported inside a lab host; use --target-host (or FLEET_LAB_LOCAL_TARGET=user@host)');
  }

  let path;
  if (opts.rollback) {
    if (action === 'switch' || action === 'boot') {
      await must(await onHost(target, ['nix-env', '--rollback', '-p', profile], { sudo: opts.sudo, tty: true }), 'rolling back the profile');
      path = (await must(await onHost(target, ['readlink', '-f', profile], { capture: true }), 'reading the profile')).stdout.trim();
    } else {
      const gens = await readGenerations();
      const idx = gens.findIndex((g) => g.current);
      if (idx <= 0) fail('error: no previous generation to roll back to');
      path = gens[idx - 1].storePath;
    }
  } else {
    path = opts.storePath ?? (await buildSystem());
    if (target !== null) await copyToTarget(path);
  }

  if (bash) {
    if ((action === 'switch' || action === 'boot') && !opts.rollback) {
      const set = await onHost(target, ['nix-env', '-p', profile, '--set', path], { sudo: opts.sudo, tty: true });
      if (set.code !== 0) return finish(set.code);
    }
    return activateBash(path);
  }

  const check = await onHost(target, ['test', '-f', `${path}/nixos-version`]);
  if (check.code !== 0) {
    if (check.code === 255) return finish(255);
    process.stderr.write(`error: ${path} does not look like a NixOS system (no nixos-version)\n`);
    return finish(1);
  }
  if ((action === 'switch' || action === 'boot') && !opts.rollback) {
    await must(await onHost(target, ['nix-env', '-p', profile, '--set', path], { sudo: opts.sudo }), 'setting the profile');
  }
  // switch_to_configuration: with a specialisation, switch and test only, and the path must exist
  // on this machine (ng checks Path.exists() locally, where it built or was given the system).
  let config = path;
  if (opts.specialisation) {
    const refused =
      action !== 'switch' && action !== 'test'
        ? "error: '--specialisation' can only be used with 'switch' and 'test'"
        : existsSync(`${path}/specialisation/${opts.specialisation}`) ? undefined : `error: specialisation not found: ${opts.specialisation}`;
    if (refused) {
      process.stderr.write(`${refused}\n`);
      return finish(1);
    }
    config = `${path}/specialisation/${opts.specialisation}`;
  }
  const stc = await onHost(
    target,
    ['env', `NIXOS_INSTALL_BOOTLOADER=${opts.installBootloader ? 1 : 0}`, `${config}/bin/switch-to-configuration`, action],
    { sudo: opts.sudo },
  );
  if (stc.code !== 0) process.stderr.write(`error: switch-to-configuration ${action} exited with ${stc.code}\n`);
  return finish(stc.code);
}

main().catch((err) => fail(String(err?.stack ?? err)));
