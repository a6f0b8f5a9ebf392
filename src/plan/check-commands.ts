// A host's `fleet check` as planned commands: the vitals script, then the manifest's health checks,
// all over one-shot connections; `fleet plan --for check` shows them.
import { checkCommand, healthCheckCommand, oneShotSsh } from './operate-scripts.js';
import type { HostPlan, PlannedCommand, PlannedHealthCheck } from './types.js';

/** What `fleet check` runs on one host, in this order. */
export interface CheckStep {
  kind: 'check';
  /** Load, uptime, failed units and free space of / and /nix (CHECK_SCRIPT). */
  vitals: PlannedCommand;
  /** Every health check of the host, one after the other, each bounded by its own timeout on the target. */
  healthChecks: PlannedHealthCheck[];
}

/** The plan of `fleet check` for one host (`fleet plan --for check` prints it). */
export interface FleetCheckPlan {
  host: string;
  check: CheckStep;
}

/**
 * The host's check. Its health checks are apply's verify commands made for one-shot connections:
 * an operating command leaves no shared master behind.
 */
export function fleetCheckPlan(host: HostPlan): FleetCheckPlan {
  const ssh = host.ssh ? oneShotSsh(host.ssh) : undefined;
  const healthChecks = host.healthChecks.map(({ check, command }) => ({ check, command: { ...command, argv: healthCheckCommand(ssh, check) } }));
  return { host: host.name, check: { kind: 'check', vitals: { purpose: 'vitals', argv: checkCommand(ssh) }, healthChecks } };
}
