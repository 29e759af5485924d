// zerocast e2e helpers: start the real server, drive Debian's chromium with
// playwright-core, speak raw WebSocket for the misbehaving clients, and wait
// on conditions with deadlines (never fixed sleeps).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import crypto from 'node:crypto';

export const SKIP = 77;
const cleanups = [];

export function fail(msg) {
  throw new Error(msg);
}

export function check(cond, msg) {
  if (!cond) fail(msg);
  console.log('ok - ' + msg);
}

// Runs @body, then every cleanup (newest first) whatever happened, and
// exits with 0, 1 or 77.
export async function run(name, body) {
  let code = 0;
  const onSignal = () => { cleanupAll().finally(() => process.exit(1)); };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await body();
    console.log(`PASS ${name}`);
  } catch (e) {
    if (e && e.skip) {
      console.log(`SKIP ${name}: ${e.message}`);
      code = SKIP;
    } else {
      console.error(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
      code = 1;
    }
  }
  await cleanupAll();
  process.exit(code);
}

async function cleanupAll() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try { await fn(); } catch (e) { console.error('cleanup: ' + e); }
  }
}

export function skip(msg) {
  const e = new Error(msg);
  e.skip = true;
  throw e;
}

export async function waitFor(what, fn, timeoutMs = 10000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function buildRoot() {
  const root = process.env.ZC_BUILD_ROOT;
  if (!root) skip('ZC_BUILD_ROOT is not set: run through meson test');
  return root;
}

// Starts zerocast and waits for its "serving URL" line; onSpawn(server)
// gets the server (pid, output()) at once, before that line.
export async function startServer(args, { timeoutMs = 60000, env = {}, onSpawn = null } = {}) {
  const bin = join(buildRoot(), 'server', 'zerocast');
  const proc = spawn(bin, args, {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited = null;
  proc.stdout.on('data', (d) => { out += d; process.stdout.write('[zerocast] ' + d); });
  proc.stderr.on('data', (d) => { out += d; process.stderr.write('[zerocast] ' + d); });
  proc.on('exit', (code, sig) => { exited = { code, sig }; });
  const server = {
    proc, pid: proc.pid, output: () => out, exited: () => exited,
    async stop() {
      if (exited) return exited;
      proc.kill('SIGTERM');
      try {
        await waitFor('zerocast to exit after SIGTERM', () => exited, 20000);
      } catch (e) {
        proc.kill('SIGKILL');
        await waitFor('zerocast to die', () => exited, 5000);
        throw e;
      }
      return exited;
    },
  };
  cleanups.push(() => server.stop());
  if (onSpawn) onSpawn(server);
  const m = await waitFor('zerocast to print its URL', () => {
    if (exited) fail(`zerocast exited early (${JSON.stringify(exited)}):\n${out}`);
    return /serving (\S+)/.exec(out);
  }, timeoutMs);
  server.url = m[1];
  const u = new URL(server.url);
  server.host = u.hostname;
  server.port = Number(u.port);
  server.token = u.searchParams.get('token');
  return server;
}

// Starts tests/producer/zc-test-producer with @args and waits for its node
// id (producer.node). producer.send('move') writes a command to its stdin;
// producer.output() is what it printed; it is stopped at the end of run()
// if the test did not stop it.
export async function startProducer(args) {
  const proc = spawn(join(buildRoot(), 'tests', 'producer', 'zc-test-producer'), args,
    { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let exited = null;
  proc.stdout.on('data', (d) => { out += d; });
  proc.on('exit', (code, sig) => { exited = { code, sig }; });
  const producer = {
    proc, output: () => out, exited: () => exited,
    send(cmd) { proc.stdin.write(cmd + '\n'); },
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        await waitFor('the producer to exit', () => exited, 10000);
      }
      return exited;
    },
  };
  cleanups.push(() => producer.stop());
  const m = await waitFor('the producer', () => {
    if (exited) fail(`zc-test-producer ${args.join(' ')} exited early (${JSON.stringify(exited)})`);
    return /READY (\d+)/.exec(out);
  }, 15000);
  producer.node = m[1];
  return producer;
}

export async function waitStreaming(server, timeoutMs = 30000) {
  await waitFor('zerocast to stream', () => {
    if (server.exited()) fail('zerocast exited:\n' + server.output());
    return /streaming with video mode/.test(server.output());
  }, timeoutMs);
}

// Skips (exit 77) before anything starts when the browser tests cannot run.
export async function needBrowser() {
  try {
    return await import('playwright-core');
  } catch (e) {
    skip('playwright-core is not installed: run `npm ci --prefix tests/e2e`');
  }
}

export async function launchBrowser() {
  const playwright = await needBrowser();
  const exe = process.env.ZC_CHROMIUM || '/usr/bin/chromium';
  try {
    readFileSync(exe);
  } catch (e) {
    skip(`no browser at ${exe}: apt-get install chromium`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'zc-chromium-'));
  const context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic',
      '--disable-sync'],
  });
  cleanups.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

export async function openViewer(context, url) {
  const page = await context.newPage();
  page.on('console', (m) => console.log('[page] ' + m.text()));
  page.on('pageerror', (e) => console.log('[page error] ' + e.message));
  await page.goto(url);
  return page;
}

export async function viewerState(page) {
  return page.evaluate(() => {
    const s = window.zerocast;
    return s ? { ...s, latenciesMs: undefined, latenciesSameClockMs: undefined } : null;
  });
}

export async function waitDecoded(page, n, timeoutMs = 20000) {
  return waitFor(`the viewer to decode ${n} frames`, async () => {
    const s = await viewerState(page);
    return s && s.framesDecoded >= n ? s : null;
  }, timeoutMs);
}

// After page.setViewportSize(): waits until the viewer has refitted the
// picture to that window (it does on the window's resize event, which
// Chromium may fire after setViewportSize returned) and returns its
// on-page box. The picture fills the width or the height, within both.
export async function waitFitted(page, width, height, timeoutMs = 5000) {
  return waitFor(`the picture to fit a ${width}x${height} window`, async () => {
    const b = await page.evaluate(() => {
      const r = document.getElementById('screen').getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height };
    });
    const fills = Math.abs(b.width - width) <= 1 || Math.abs(b.height - height) <= 1;
    return fills && b.width <= width + 1 && b.height <= height + 1 ? b : null;
  }, timeoutMs);
}

export async function metrics(server) {
  const q = server.token ? `?token=${server.token}` : '';
  const r = await fetch(`http://${server.host}:${server.port}/metrics${q}`);
  const text = await r.text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

// A minimal WebSocket client over a raw socket, for clients a browser
// cannot imitate: one that never reads, one that sends garbage.
export function rawWebSocket(host, port, path, { read = true, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const ws = {
      sock, status: null, messages: [], closed: null, ended: false,
      send(payload, opcode = 2) {
        const data = Buffer.from(payload);
        const mask = crypto.randomBytes(4);
        let header;
        if (data.length < 126) {
          header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
        } else if (data.length < 65536) {
          header = Buffer.alloc(4);
          header[0] = 0x80 | opcode; header[1] = 0x80 | 126;
          header.writeUInt16BE(data.length, 2);
        } else {
          header = Buffer.alloc(10);
          header[0] = 0x80 | opcode; header[1] = 0x80 | 127;
          header.writeBigUInt64BE(BigInt(data.length), 2);
        }
        const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
        sock.write(Buffer.concat([header, mask, masked]));
      },
      destroy() { sock.destroy(); },
    };
    cleanups.push(() => sock.destroy());
    sock.on('connect', () => {
      const extra = { Host: `${host}:${port}`, ...headers };
      sock.write(`GET ${path} HTTP/1.1\r\n` +
        Object.entries(extra).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
        'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on('error', (e) => { if (!upgraded) reject(e); });
    sock.on('end', () => { ws.ended = true; });
    sock.on('close', () => { ws.ended = true; });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        ws.status = Number(/^HTTP\/1\.1 (\d+)/.exec(buf.toString('latin1', 0, end))[1]);
        buf = buf.subarray(end + 4);
        upgraded = true;
        if (!read) sock.pause();   // from now on, never read
        resolve(ws);
      }
      // Server frames are unmasked.
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const opcode = buf[0] & 0x0f;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (opcode === 8) {
          ws.closed = { code: payload.length >= 2 ? payload.readUInt16BE(0) : null,
            reason: payload.subarray(2).toString('utf8') };
        } else if (opcode === 2 || opcode === 1) {
          ws.messages.push(Buffer.from(payload));
        }
      }
    });
  });
}

// The processes below @root (its children, theirs, ...), from /proc.
export function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      // The command may hold spaces and parentheses: parse after the last ')'.
      const fields = st.slice(st.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
    } catch (e) { /* exited meanwhile */ }
  }
  const out = [];
  const walk = (pid) => {
    for (const [child, ppid] of parent) if (ppid === pid) { out.push(child); walk(child); }
  };
  walk(root);
  return out;
}

// Running (not gone, not a zombie).
export function alive(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (e) {
    return false;
  }
}

export function comm(pid) {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch (e) { return '?'; }
}
