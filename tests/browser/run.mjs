// `npm run test:browser`: runs every tests/browser/test_*.mjs in turn, each in
// its own node (this one), and exits 1 when any fails, 77 when none failed but
// some were skipped (missing prerequisites), else 0. Arguments pick the tests
// whose names contain them: `npm run test:browser -- modules`.
//
// The tests find the onemap binary through ONEMAP_BIN, by default
// build/onemap in the source tree (harness.mjs), e.g.
// `ONEMAP_BIN=build-web/onemap npm run test:browser`; screenshots go to
// ONEMAP_ARTIFACTS, by default build/browser-artifacts. CTest runs the same
// files one by one (tests/CMakeLists.txt), with ONEMAP_BIN set to its build.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
const picks = process.argv.slice(2);
const tests = readdirSync(here)
  .filter((f) => /^test_.*\.mjs$/.test(f) && (!picks.length || picks.some((p) => f.includes(p))))
  .sort();
if (!tests.length) {
  console.log(`browser tests: none match ${picks.join(' ')}`);
  process.exit(1);
}

const results = [];
for (const f of tests) {
  console.log(`== ${f}`);
  const r = spawnSync(process.execPath, [path.join(here, f)], { stdio: 'inherit' });
  const status = r.status === 0 ? 'passed' : r.status === SKIP ? 'skipped' : 'FAILED';
  results.push([f, status]);
}
console.log(`browser tests: ${results.map(([f, s]) => `${f} ${s}`).join(', ')}`);
if (results.some(([, s]) => s === 'FAILED')) process.exit(1);
process.exit(results.some(([, s]) => s === 'skipped') ? SKIP : 0);
