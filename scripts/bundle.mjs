// Build step: bundles the compiled CLI (dist/cli/main.js and the packages it uses) into one module,
// dist/bundle/fleet.mjs, which bin/fleet.js runs. Resolving and loading a hundred ES modules costs
// more CPU than everything `fleet validate` does with a small manifest; one file does not.
// It sits two levels below the package root, like dist/cli/main.js, so the URLs the code makes from
// import.meta.url (schemas/, package.json) point at the same files. The `yaml` library is loaded
// with require() only when a manifest needs positions (src/manifest/yaml-source.ts) and stays a
// normal dependency.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';

// string-width (yargs, cliui, listr2's wrap-ansi) builds an Intl.Segmenter (~9 ms) and, in v8, a
// /^\p{RGI_Emoji}$/v (~13 ms) when its module loads, and yargs loads it at start-up, before fleet
// runs anything; only help text and the live view measure widths. The plugin makes both lazy:
// built on the first measurement. A string-width whose source no longer has these lines fails the
// build, so an update cannot quietly undo it.
const LAZY = [
  ['const segmenter = new Intl.Segmenter();', 'let segmenterMade; const segmenter = { segment: (text) => (segmenterMade ??= new Intl.Segmenter()).segment(text) };'],
  ['const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;', 'let rgiEmojiMade; const rgiEmojiRegex = { test: (text) => (rgiEmojiMade ??= /^\\p{RGI_Emoji}$/v).test(text) };'],
];
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(build) {
    build.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      for (const [eager, lazy] of LAZY) source = source.replace(eager, lazy);
      if (!source.includes('segmenterMade')) throw new Error(`bundle: ${args.path} no longer builds its Intl.Segmenter as expected; update scripts/bundle.mjs`);
      return { contents: source, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

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
  plugins: [lazyStringWidth],
});
