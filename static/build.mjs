// Bundles the viewer: static/src/main.js (OpenLayers included) into
// static/dist/app.js and app.css. `node static/build.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const options = {
  entryPoints: { app: path.join(here, 'src', 'main.js') },
  outdir: path.join(here, 'dist'),
  bundle: true,
  minify: !process.env.NOMINIFY,
  sourcemap: 'linked',
  format: 'iife',
  target: ['chrome90', 'firefox90', 'safari15'],
  legalComments: 'linked',
  logLevel: 'info',
  metafile: true,
};

if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const result = await esbuild.build(options);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith('.map') && !f.endsWith('.txt'))
    .map(([f, o]) => `${path.basename(f)} ${(o.bytes / 1024).toFixed(0)} KiB`);
  console.log(`bundle: ${sizes.join(', ')}`);
}
