// plan/: selection and the pure plan that `fleet plan` prints and `fleet apply` runs.
export * from './types.js';
export * from './selection.js';
export * from './commands.js';
export * from './build-plan.js';
export * from './remote-scripts.js';
export * from './operate-scripts.js';
export * from './rollout.js';
export * from './rollback-commands.js';
export * from './reboot-commands.js';
export * from './check-commands.js';
