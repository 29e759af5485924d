// Input-to-photon latency: from the moment the viewer hands a mouse press
// to its WebSocket to the first decoded picture in which the application's
// repaint for that press shows. The application is zc-input-client on the
// headless Mutter that zc-run-session started (it repaints in the next
// colour on every press); zerocast --mutter captures it and injects the
// press through RemoteDesktop; Chromium runs the bundled viewer with the
// picture at its own size. Both instants are the page's performance.now(),
// so no clock mapping is involved.
//
//   zc-run-session --mutter WxH -- node bench/input/latency.mjs BUILD SAMPLES [ENCODER]
//
// Where the time goes, per press (wall clock, one machine): the app's
// BUTTON and PAINTED lines as they appear in its log (watched here), the
// capture time of the repainted picture (its VideoFrame pts, the server's
// wall clock) and the moment it is shown.
//
// Prints one JSON line: size, encoder, samples, p50, p90, p99, min, max
// (ms, press to shown) and the p50 of each step.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const [build, samplesArg, encoder = 'x264enc'] = process.argv.slice(2);
const root = resolve(build || 'build');
const samples = Number(samplesArg || 100);
const require = createRequire(join(process.cwd(), 'tests/e2e/node_modules/'));
const { chromium } = require('playwright-core');

const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(50);
  }
}

function start(cmd, args, log) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const child = { p, out: () => out };
  children.push(child);
  return child;
}

const dir = mkdtempSync(join(tmpdir(), 'zc-bench-input-'));
let browser = null;
try {
  const events = join(dir, 'events');
  start(join(root, 'tests/tools/zc-input-client'), ['-o', events]);
  const mapped = await waitFor('the app window', () => {
    try { return /MAPPED (\d+)x(\d+)/.exec(readFileSync(events, 'utf8')); } catch (e) { return null; }
  });
  const W = Number(mapped[1]), H = Number(mapped[2]);
  const zc = start(join(root, 'server/zerocast'), ['--mutter', '--encoder', encoder,
    '--listen', '127.0.0.1:0']);
  const url = (await waitFor('zerocast to serve', () => /serving (\S+)/.exec(zc.out())))[1];
  const streaming = await waitFor('zerocast to stream',
    () => /streaming with video mode (\S+) and encoder (\S+)/.exec(zc.out()));

  const profile = join(dir, 'profile');
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.ZC_CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: W, height: H },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage();
  await page.goto(url);
  await waitFor('the first pictures', () => page.evaluate(() =>
    window.zerocast && window.zerocast.framesDecoded >= 3));
  // Each shown picture's centre pixel; a press's repaint is the first
  // picture whose colour differs from the one before the press.
  await page.evaluate(([cx, cy]) => {
    const z = window.zerocast;
    z.probe = { before: null, armedAt: null, results: [], steps: [] };
    z.frameProbe = (ctx, now, pts) => {
      const d = ctx.getImageData(cx, cy, 1, 1).data;
      const c = [d[0], d[1], d[2]];
      const p = z.probe;
      if (p.armedAt !== null && z.input.lastPressAt !== null &&
          z.input.lastPressAt >= p.armedAt && p.before &&
          c.some((v, i) => Math.abs(v - p.before[i]) > 100)) {
        const a = z.arrival(pts);
        p.results.push(now - z.input.lastPressAt);
        p.steps.push({ pressEpoch: performance.timeOrigin + z.input.lastPressAt,
          captureEpoch: pts / 1000, shownEpoch: performance.timeOrigin + now,
          receivedEpoch: a ? performance.timeOrigin + a.at : NaN,
          // Access units that arrived after this one before it showed.
          arrivedAfter: a ? z.framesReceived - a.n : NaN });
        p.armedAt = null;
      }
      p.last = c;
    };
  }, [Math.floor(W / 2), Math.floor(H / 2)]);

  const box = await page.evaluate(() => {
    const r = document.getElementById('screen').getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];
  });
  // Mutter drops the first pointer events of a new RemoteDesktop session
  // (a varying number on 48): move until the app has the pointer.
  const hasPointer = () => /^(ENTER|MOTION) /m.test(readFileSync(events, 'utf8'));
  for (let i = 0; i < 100 && !hasPointer(); i++) {
    await page.mouse.move(box[0] - 20 + (i % 2) * 10, box[1] - 20);
    await page.mouse.move(box[0], box[1], { steps: 4 });
    await sleep(100);
  }
  await page.mouse.move(box[0], box[1]);
  // The app's log lines, stamped as they appear (epoch ms).
  const seen = [];
  let logged = 0;
  const watcher = watch(events, () => {
    const lines = readFileSync(events, 'utf8').split('\n');
    const now = performance.timeOrigin + performance.now();
    for (; logged < lines.length - 1; logged++) seen.push({ line: lines[logged], at: now });
  });
  for (let i = 0; i < samples; i++) {
    // Off the frame clock: a random pause between presses.
    await sleep(150 + Math.random() * 200);
    await page.evaluate(() => {
      const p = window.zerocast.probe;
      p.before = p.last;
      p.armedAt = performance.now();
    });
    await page.mouse.down();
    const n = i + 1;
    await waitFor(`the repaint of press ${n}`, () => page.evaluate((k) =>
      window.zerocast.probe.results.length >= k, n), 30000);
    await page.mouse.up();
  }
  watcher.close();
  const r = await page.evaluate(() => window.zerocast.probe.results);
  const steps = await page.evaluate(() => window.zerocast.probe.steps);
  const s = r.slice().sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
  const median = (v) => {
    const t = v.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    return t.length ? t[Math.floor(t.length / 2)] : null;
  };
  // For each press, the first BUTTON and PAINTED lines after it.
  const after = (re, t) => { const e = seen.find((x) => x.at >= t && re.test(x.line)); return e ? e.at : NaN; };
  const toApp = [], toPaint = [], toCapture = [], toShown = [];
  const toReceived = [], receivedToShown = [], arrivedAfter = [];
  for (const st of steps) {
    const b = after(/^BUTTON 272 PRESSED/, st.pressEpoch);
    const p = after(/^PAINTED/, st.pressEpoch);
    toApp.push(b - st.pressEpoch);
    toPaint.push(p - st.pressEpoch);
    toCapture.push(st.captureEpoch - p);
    toShown.push(st.shownEpoch - st.captureEpoch);
    toReceived.push(st.receivedEpoch - st.captureEpoch);
    receivedToShown.push(st.shownEpoch - st.receivedEpoch);
    arrivedAfter.push(st.arrivedAfter);
  }
  console.log(JSON.stringify({
    size: `${W}x${H}`, mode: streaming[1], encoder: streaming[2], samples: s.length,
    p50: q(50), p90: q(90), p99: q(99), min: s[0], max: s[s.length - 1],
    pressToApp: median(toApp), pressToPainted: median(toPaint),
    paintedToCaptured: median(toCapture), capturedToShown: median(toShown),
    capturedToReceived: median(toReceived), receivedToShown: median(receivedToShown),
    arrivedAfter: median(arrivedAfter),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
  }));
} catch (e) {
  console.error('latency: ' + (e && e.stack ? e.stack : e));
  for (const c of children) console.error(c.out().slice(-2000));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  for (const c of children.reverse()) c.p.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
