// The files a host's sequence reads and writes on this machine: the trust-on-first-use
// known_hosts, the pin of a pushed host key, the staging of bootstrap key files.
import { readFileSync, rmSync } from 'node:fs';
import type { BootstrapStep, HostPlan, Plan } from '../plan/index.js';
import { knownHostsName, knownKeysFor, sha256Fingerprint } from '../ssh/index.js';
import { addKnownHosts, knownHostsLines } from './known-hosts.js';
import { stageBootstrapFiles, type KeyFile } from './keys.js';

/** With trustOnFirstUse: the keys fleet's TOFU known_hosts holds for this host now; else undefined. */
export function trustedOnFirstUse(host: HostPlan): { type: string; key: string }[] | undefined {
  const ssh = host.ssh;
  if (!ssh?.trustOnFirstUse) return undefined;
  let text = '';
  try {
    text = readFileSync(ssh.knownHostsFiles[0] as string, 'utf8');
  } catch {
    // No file yet: nothing trusted yet.
  }
  return knownKeysFor(text, knownHostsName(ssh.endpoint));
}

/** The fingerprints (`ED25519 SHA256:…`) of the keys ssh accepted on first use, to check out of band. */
export function firstUseFingerprints(host: HostPlan): string[] {
  return (trustedOnFirstUse(host) ?? []).map((key) => `${key.type} ${sha256Fingerprint(key)}`);
}

/** Pins a host key fleet pushes itself, for every later connection of the run. */
export function pinPushedHostKey(plan: Plan, host: HostPlan, publicKey: string): void {
  if (host.target.kind !== 'ssh') return;
  addKnownHosts(plan.paths.knownHosts, knownHostsLines(host.target, [publicKey]));
}

/** Lays out the key files (and the manifest's extra files) for nixos-anywhere's --extra-files. */
export function stageForInstall(step: BootstrapStep, destination: string, files: readonly KeyFile[]): void {
  if (step.staging) stageBootstrapFiles(step.staging, destination, files, step.options.extraFiles);
}

/** Removes the staged files once nixos-anywhere has copied them (or failed). */
export function removeInstallStaging(step: BootstrapStep): void {
  if (step.staging) rmSync(step.staging, { recursive: true, force: true });
}
