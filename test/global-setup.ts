// One temporary directory for the whole test run: everything the tests and the fleet processes
// they start put under TMPDIR (manifests, reports, fleet's per-manifest run directories) goes
// there and is removed at the end, with fleet's cache. The lab keeps its own /tmp/fleet-lab-* and removes them itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  // Short: ssh control sockets live below it, and a socket path must stay under ~100 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'fleet-t-'));
  process.env.TMPDIR = dir;
  // Caches under $XDG_CACHE_HOME (nix's flake and fetcher caches) are the run's own.
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  return () => rmSync(dir, { recursive: true, force: true });
}
