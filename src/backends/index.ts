// backends/: verbs over the real tools (nix, nixos-rebuild, nixos-anywhere, ssh), run through exec/.
export * from './probe.js';
export * from './ssh-failure.js';
export * from './known-hosts.js';
export * from './build.js';
export * from './keys.js';
export * from './deploy.js';
export * from './lock.js';
export * from './watchdog.js';
export * from './status.js';
export * from './health.js';
export * from './generations.js';
export * from './reboot.js';
export * from './rollback.js';
export * from './install.js';
export * from './history.js';
export * from './host-verbs.js';
export * from './secrets.js';
