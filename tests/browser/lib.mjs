// Helpers shared by the browser tests: free ports, the server process, watched pages.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MARQUEE_BIN = path.resolve(process.env.MARQUEE_BIN || path.join(HERE, '../../target/debug/marquee'));
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const IN_CI = process.env.CI === 'true';
// From /work/shared/notes/playback-and-browser.md: what works for headless Chromium here.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the server; resolves with {proc, baseUrl, adminPassword, output()} once it is ready. */
export function startServer(dataDir, port, serveArgs = ['--demo']) {
  const proc = spawn(
    MARQUEE_BIN,
    ['--data-dir', dataDir, 'serve', ...serveArgs, '--listen', `127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let out = '';
  const output = () => out;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the server was not ready within 30 s; output so far:\n${out}`));
    }, 30_000);
    const onData = (chunk) => {
      out += chunk.toString();
      const ready = /Marquee is ready at (http:\/\/\S+?)\/?\s/.exec(out);
      if (ready) {
        clearTimeout(timer);
        const admin = /username 'admin', password '([^']+)'/.exec(out);
        resolve({ proc, baseUrl: ready[1], adminPassword: admin ? admin[1] : null, output });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData); // logs; also keeps the pipe drained
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${MARQUEE_BIN}: ${e.message} (build it with \`cargo build\` or set MARQUEE_BIN)`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited early (code ${code}, signal ${signal}); output:\n${out}`));
    });
  });
}

export async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM'); // the server shuts down gracefully on SIGTERM
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A page that records console errors, page errors, dialogs, requests and navigations. */
export async function watchedPage(context) {
  const page = await context.newPage();
  const log = { consoleErrors: [], pageErrors: [], dialogs: [], requests: [], navigations: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(`${m.text()} @ ${m.location()?.url ?? '?'}`);
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  page.on('dialog', (d) => {
    log.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('request', (r) => log.requests.push(`${r.method()} ${r.url()}`));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) log.navigations.push(f.url());
  });
  return { page, log };
}

export function assertClean(log, what) {
  assert.deepEqual(log.pageErrors, [], `${what}: uncaught page errors`);
  assert.deepEqual(log.consoleErrors, [], `${what}: console errors`);
  assert.deepEqual(log.dialogs, [], `${what}: a dialog opened`);
}

