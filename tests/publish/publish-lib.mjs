// Helpers shared by the publish tests: free ports, child processes whose
// output a test waits on, the labelled zerocast_publish_* metrics, and a
// WebSocket viewer that counts frames (the viewers that must never stall).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { join } from 'node:path';
import { buildRoot, waitFor, fail, rawWebSocket } from '../e2e/lib.mjs';

const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch (e) { /* gone */ } } });

// A TCP port nobody listens on now (the kernel's pick).
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function udpFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// An even UDP port P with P and P+1 free (RTP and RTCP).
export async function freeUdpPair() {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 20000);
    if (await udpFree(p) && await udpFree(p + 1)) return p;
  }
  fail('no free UDP port pair');
}

// Starts a program of ours (or any), keeps its output, and stops it at exit.
export function startChild(name, cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  const child = { proc, out: '', exited: null, name };
  children.add(proc);
  proc.stdout.on('data', (d) => {
    child.out += d;
    if (!opts.quiet) process.stdout.write(String(d).split('\n').filter(Boolean).map((l) => `[${name}] ${l}\n`).join(''));
  });
  proc.stderr.on('data', (d) => { process.stderr.write(`[${name}] ${d}`); });
  proc.on('exit', (code, sig) => { child.exited = { code, sig }; children.delete(proc); });
  child.lines = (re) => child.out.split('\n').filter((l) => re.test(l));
  child.kill = async (sig = 'SIGTERM') => {
    if (child.exited) return;
    proc.kill(sig);
    await waitFor(`${name} to exit`, () => child.exited, 10000);
  };
  child.waitLine = (re, what, ms = 15000) => waitFor(what || `${name}: ${re}`, () => {
    if (child.exited) fail(`${name} exited (${JSON.stringify(child.exited)}):\n${child.out}`);
    return re.exec(child.out);
  }, ms);
  return child;
}

export function tool(...path) {
  return join(buildRoot(), ...path);
}

// { name: { labelValue: number } } for labelled series, plain ones under ''.
export async function metricsByTarget(server) {
  const r = await fetch(`http://${server.host}:${server.port}/metrics`);
  const out = {};
  for (const line of (await r.text()).split('\n')) {
    const m = /^([a-z_]+)(?:\{target="([^"]*)"\})? (\S+)$/.exec(line);
    if (!m) continue;
    (out[m[1]] ||= {})[m[2] || ''] = Number(m[3]);
  }
  return out;
}

// A raw WebSocket viewer that counts VideoFrames and drops their bytes.
export async function countingViewer(server) {
  const ws = await rawWebSocket(server.host, server.port, '/ws');
  const v = { ws, frames: 0 };
  const t = setInterval(() => {
    for (const m of ws.messages) if (m[0] === 0x01) v.frames++;
    ws.messages.length = 0;
  }, 20);
  v.count = () => {
    for (const m of ws.messages) if (m[0] === 0x01) v.frames++;
    ws.messages.length = 0;
    return v.frames;
  };
  v.stop = () => { clearInterval(t); ws.destroy(); };
  return v;
}

// The viewer keeps getting frames: @n more within @ms.
export async function viewerFlows(viewer, n, ms, what) {
  const start = viewer.count();
  await waitFor(`${what}: ${n} more frames to the WebSocket viewer`,
    () => viewer.count() >= start + n, ms);
  return viewer.count() - start;
}

export const near = (px, rgb, tol = 40) => px.every((v, i) => Math.abs(v - rgb[i]) <= tol);
