// Installs what the fleet lab (test/lab) needs on Debian/Ubuntu: Nix, sshd, namespaces and mount tools.
// Run as root: `npx tsx scripts/install-lab-deps.ts` (npm test and npm run demo run it when something is missing).
import { $, which } from 'zx';

/** Debian packages of the lab: Nix (single-user, as root), sshd per lab host, namespaces, mounts, a pty. */
const LAB_PACKAGES = ['nix-bin', 'openssh-server', 'openssh-client', 'iproute2', 'sudo', 'opendoas', 'util-linux', 'mount', 'psmisc', 'tar', 'procps'];

if (process.getuid?.() !== 0) {
  console.error('install-lab-deps: must run as root (the lab itself also needs root: network namespaces, mounts).');
  console.error('  run: sudo npx tsx scripts/install-lab-deps.ts');
  process.exit(1);
}
if (!(await which('apt-get', { nothrow: true }))) {
  console.error(`install-lab-deps: only Debian/Ubuntu (apt-get) are supported; install: ${LAB_PACKAGES.join(' ')}`);
  process.exit(1);
}

$.verbose = true;
$.env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
await $`apt-get update`;
await $`apt-get install -y --no-install-recommends ${LAB_PACKAGES}`;

// The Debian package starts no sshd for the lab; the lab runs one per host. Nix runs single-user as root.
console.log('install-lab-deps: done. Check with: npm run lab -- check');
