// Browser test harness: runs the real onemap binary on a free port against a
// temporary demo database, drives Debian's Chromium through playwright-core
// (never a downloaded browser), saves screenshots as artifacts, and prints
// "N passed, N failed". Prerequisites missing outside CI -> exit 77 (skipped).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SRC = process.env.ONEMAP_SOURCE_DIR || path.resolve(here, '..', '..');
export const BIN = process.env.ONEMAP_BIN || path.join(SRC, 'build', 'onemap');
export const ARTIFACTS = process.env.ONEMAP_ARTIFACTS || path.join(SRC, 'build', 'browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SKIP = 77;

function prerequisite(ok, what) {
  if (ok) return;
  console.log(`browser tests: ${what}`);
  if (process.env.CI) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  process.exit(SKIP);
}

export function loadPlaywright() {
  const require = createRequire(path.join(SRC, 'package.json'));
  let pw = null;
  try {
    pw = require('playwright-core');
  } catch (e) {
    pw = null;
  }
  prerequisite(pw, 'playwright-core is not installed (run `npm ci` at the top of the tree)');
  prerequisite(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  prerequisite(existsSync(path.join(SRC, 'static', 'dist', 'app.js')), 'static/dist/app.js is missing (run `npm run build`)');
  prerequisite(existsSync(BIN), `${BIN} is missing (build onemap first)`);
  return pw;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function onemap(...args) {
  const p = spawnSync(BIN, args, { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`onemap ${args.join(' ')} failed (${p.status}): ${p.stderr}`);
  return p.stdout;
}

async function waitForPort(port, proc, logPath) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited; log in ${logPath}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

// A running onemap on a fresh demo database, or with {empty: true} on a
// database with the layers and nothing in them (a test that writes all it
// reads, so that its expected figures are exactly its own).
export async function startServer(args = [], { empty = false } = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'onemap-browser-'));
  const db = path.join(tmp, 'demo.db');
  onemap(empty ? 'init' : 'demo', db);
  const port = await freePort();
  const logPath = path.join(tmp, 'server.log');
  const log = openSync(logPath, 'w');
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--threads', '2', ...args], {
    stdio: ['ignore', log, log],
  });
  await waitForPort(port, proc, logPath);
  const base = `http://127.0.0.1:${port}`;
  return {
    tmp, db, port, base, logPath,
    async json(p, init) {
      const r = await fetch(base + p, { headers: { Accept: 'application/json' }, ...init });
      const body = await r.json();
      if (!r.ok) throw new Error(`${p}: ${r.status} ${JSON.stringify(body)}`);
      return body;
    },
    token(name, role) {
      return onemap('token', 'add', db, name, '--role', role).trim().split('\n').pop();
    },
    async stop(keep) {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            proc.kill('SIGKILL');
            r();
          }, 10000);
          proc.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      if (!keep) rmSync(tmp, { recursive: true, force: true });
      else console.log(`server log kept in ${logPath}`);
    },
  };
}

export async function launch(pw) {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'onemap-chromium-'));
  const context = await pw.chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
    locale: 'zh-CN',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

export function writeArtifact(name, text) {
  writeFileSync(artifact(name), text);
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function near(a, b, tol, msg) {
  if (!(Math.abs(a - b) <= tol)) throw new Error(`assertion failed: ${msg}: ${a} vs ${b} (tolerance ${tol})`);
}

// Runs the named async tests in order; prints a summary line CTest reads.
export async function run(tests) {
  let passed = 0;
  let failed = 0;
  for (const [name, f] of tests) {
    const t0 = Date.now();
    try {
      await f();
      passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}\n${e && e.stack ? e.stack : e}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
