// Build step: bundles the compiled CLI (dist/cli/main.js and the packages it uses) into one module,
// dist/bundle/fleet.mjs, which bin/fleet.js runs. Resolving and loading a hundred ES modules costs
// more CPU than everything `fleet validate` does with a small manifest; one file does not.
// It sits two levels below the package root, like dist/cli/main.js, so the URLs the code makes from
// import.meta.url (schemas/, package.json) point at the same files. The `yaml` library is loaded
// with require() only when a manifest needs positions (src/manifest/yaml-source.ts) and stays a
// normal dependency.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../dist/cli/main.js', import.meta.url).pathname],
  outfile: new URL('../dist/bundle/fleet.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages that are CommonJS inside call require(): give the module one.
  banner: { js: "import { createRequire as fleetCreateRequire } from 'node:module'; const require = fleetCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
