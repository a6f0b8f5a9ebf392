// run/: the executor — bounded parallelism, per-host steps, cancellation, events, outcomes.
export * from './events.js';
export { runPlan, prepareRunFiles, type RunDeps, type RunResult } from './run-plan.js';
export { forEachHost, worstExitCode, type HostPlace, type OperateOptions } from './operate.js';
export { ConfirmGate, type AskConfirm, type GateArrival } from './confirm-gate.js';
export * from './operate-run.js';
export * from './operate-change.js';
