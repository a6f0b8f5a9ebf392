// Hand-built inventories for plan tests (independent of the YAML loader).
import type { HostSpec, Inventory } from '../../../src/manifest/inventory.js';
import type { PlanOptions } from '../../../src/plan/index.js';

export function host(name: string, overrides: Partial<HostSpec> = {}): HostSpec {
  return {
    name,
    target: { kind: 'ssh', user: 'root', host: `${name}.example.org`, port: 22 },
    hostKeys: [],
    trustOnFirstUse: false,
    mode: 'switch',
    buildHost: { kind: 'local' },
    buildOnTarget: false,
    substitutes: true,
    tags: [],
    rollback: { enabled: true, timeout: 90 },
    healthChecks: [],
    secrets: [],
    tolerateUnitFailures: false,
    escalation: { method: 'sudo', askPassword: false },
    ...overrides,
  };
}

export function inventory(hosts: HostSpec[], overrides: Partial<Inventory> = {}): Inventory {
  return {
    manifestPath: '/srv/fleet/fleet.yaml',
    flake: '/srv/fleet',
    parallel: 10,
    rebuildFlavour: 'auto',
    copyTimeout: 300,
    activationTimeout: 3600,
    commands: { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] },
    sshOptions: [],
    hosts,
    ...overrides,
  };
}

export function planOptions(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    selection: { only: [], tags: [], exclude: [] },
    evalLimit: 8,
    evalLimitSource: 'given',
    evalJobs: 1,
    force: false,
    failFast: false,
    allowBootstrap: false,
    paths: { stateDir: '/srv/fleet/.fleet', knownHosts: '/tmp/fleet-x/known_hosts', tofuKnownHosts: '/srv/fleet/.fleet/known_hosts.tofu', runtimeDir: '/tmp/fleet-x' },
    rebuildFlavour: 'ng',
    nixVersion: 'nix (Nix) 2.8.0',
    localRoot: true,
    connectTimeout: 10,
    lockTimeout: 30,
    operator: 'alice@laptop',
    ...overrides,
  };
}
