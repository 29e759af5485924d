// The bundled viewer in Chromium drives a real application: clicks, keys
// and the wheel in the page reach zc-input-client (a Wayland window on the
// headless Mutter that zc-run-session started, which records every event
// it gets) through zerocast --mutter's RemoteDesktop session, at the
// position the page was clicked with the picture scaled to a window of
// another size; the application's repaint comes back as video; with
// --cursor metadata the viewer draws the desktop's pointer where it is.
// Run under zc-run-session --mutter 640x480.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFitted, waitFor, check, fail, buildRoot } from './lib.mjs';

const W = 640, H = 480;

// Starts the recording application and returns a reader of its lines.
async function startApp() {
  const dir = mkdtempSync(join(tmpdir(), 'zc-input-e2e-'));
  const log = join(dir, 'events');
  const app = spawn(join(buildRoot(), 'tests', 'tools', 'zc-input-client'), ['-o', log],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = null;
  app.on('exit', (code, sig) => { exited = { code, sig }; });
  const lines = () => {
    try { return readFileSync(log, 'utf8').split('\n').filter((l) => l); } catch (e) { return []; }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) app.kill('SIGTERM');
    await waitFor('zc-input-client to exit', () => exited, 5000).catch(() => app.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  };
  await waitFor('the input client to map its window', () => {
    if (exited) fail(`zc-input-client exited: ${JSON.stringify(exited)}`);
    return lines().some((l) => l.startsWith('MAPPED'));
  }, 20000);
  return { lines, stop };
}

// The page point that shows stream pixel (x, y), from the canvas's box.
async function pagePoint(page, x, y) {
  return page.evaluate(([sx, sy]) => {
    const r = document.getElementById('screen').getBoundingClientRect();
    const s = window.zerocast;
    return [r.left + (sx + 0.5) * r.width / s.width, r.top + (sy + 0.5) * r.height / s.height,
      r.width, r.height];
  }, [x, y]);
}

// Waits for a line matching @re after line index @from; returns its match.
async function waitLine(app, from, re, what) {
  return waitFor(what, () => {
    for (const l of app.lines().slice(from)) {
      const m = re.exec(l);
      if (m) return m;
    }
    return null;
  }, 15000).catch((e) => {
    // What the app did see, for whoever reads the failure.
    console.log('zc-input-client saw:\n  ' + app.lines().slice(-25).join('\n  '));
    throw e;
  });
}

async function pixel(page, x, y) {
  return page.evaluate(([px, py]) => {
    const d = document.getElementById('screen').getContext('2d').getImageData(px, py, 1, 1).data;
    return [d[0], d[1], d[2]];
  }, [x, y]);
}

run('input', async () => {
  await needBrowser();
  const app = await startApp();
  try {
    const server = await startServer(['--mutter', '--cursor', 'metadata',
      '--listen', '127.0.0.1:0']);
    await waitStreaming(server);
    const browser = await launchBrowser();
    const page = await openViewer(browser, server.url);
    // Not the stream's size nor its aspect: the picture is scaled down and
    // centred, and the page must map positions back.
    await page.setViewportSize({ width: 900, height: 560 });
    await waitDecoded(page, 2);
    await waitFitted(page, 900, 560);
    const s0 = await page.evaluate(() => window.zerocast.width);
    check(s0 === W, `stream is ${W} wide`);

    // A left click at stream pixel (160, 120).
    let from = app.lines().length;
    const [px, py, boxW, boxH] = await pagePoint(page, 160, 120);
    check(Math.abs(boxW / boxH - W / H) < 0.01 && boxH <= 560 && boxH > 500,
      `the picture is scaled to ${boxW.toFixed(0)}x${boxH.toFixed(0)}, aspect kept`);
    // A person's pointer travels over the picture before it clicks.
    // (Mutter drops the first pointer events of a new RemoteDesktop
    // session: on 43 a press right after the first motion, on 48 the
    // first motion itself; reported, not hidden: the position checks
    // below are on the last motion.)
    const reached = () => app.lines().slice(from).some((l) => /^(ENTER|MOTION) /.test(l));
    for (let i = 0; i < 100 && !reached(); i++) {
      await page.mouse.move(px - 30 + (i % 2) * 10, py - 20);
      await page.mouse.move(px, py, { steps: 4 });
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitLine(app, from, /^(ENTER|MOTION) /, 'the pointer to reach the app');
    from = app.lines().length;
    await page.mouse.move(px, py - 1);
    await page.mouse.move(px, py);
    await waitLine(app, from, /^MOTION /, 'the pointer to settle on the spot');
    await page.mouse.down();
    await page.mouse.up();
    await waitLine(app, from, /^BUTTON 272 PRESSED/, 'the app to get BTN_LEFT pressed');
    await waitLine(app, from, /^BUTTON 272 RELEASED/, 'the app to get BTN_LEFT released');
    const motions = app.lines().slice(from).filter((l) => l.startsWith('MOTION') ||
      l.startsWith('ENTER'));
    const last = motions[motions.length - 1];
    check(last, `the pointer moved (${last})`);
    const [mx, my] = last.split(' ').slice(1).map(Number);
    check(Math.abs(mx - 160) <= 1.5 && Math.abs(my - 120) <= 1.5,
      `the click landed at ${mx},${my} (want 160,120)`);

    // The app repainted red on that press; the viewer shows it.
    let seen = null;
    await waitFor('the viewer to show the repaint', async () => {
      const c = await pixel(page, 320, 240);
      seen = c;
      return c[0] > 200 && c[1] < 60 && c[2] < 60 ? c : null;
    }, 10000).catch(async (e) => {
      const s = await page.evaluate(() => [window.zerocast.framesReceived,
        window.zerocast.framesDecoded]);
      console.log(`viewer shows ${JSON.stringify(seen)} after ${s[0]} frames received, ` +
        `${s[1]} decoded; zc-input-client saw:\n  ` + app.lines().slice(-8).join('\n  '));
      throw e;
    });
    check(true, 'the repaint came back as video');

    // A right click elsewhere.
    from = app.lines().length;
    const [rx, ry] = await pagePoint(page, 480, 360);
    await page.mouse.click(rx, ry, { button: 'right' });
    await waitLine(app, from, /^BUTTON 273 PRESSED/, 'the app to get BTN_RIGHT');

    // Keys: the canvas has the focus since the click.
    from = app.lines().length;
    await page.keyboard.type('hi');
    await page.keyboard.down('Shift');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Shift');
    const h = await waitLine(app, from, /^KEY 35 0x68 h PRESSED/, 'the app to get "h"');
    const i = await waitLine(app, from, /^KEY 23 0x69 i PRESSED/, 'the app to get "i"');
    const a = await waitLine(app, from, /^KEY 30 0x41 A PRESSED/, 'the app to get Shift+a as "A"');
    check(h && i && a, 'keys arrived as the right keysyms (h, i, A)');
    // A browser shortcut goes to the desktop, not the browser (Ctrl+F
    // would open the find bar; here it must reach the app as keys).
    from = app.lines().length;
    await page.keyboard.press('Control+KeyF');
    await waitLine(app, from, /^KEY 33 0x66 f PRESSED/, 'the app to get Ctrl+F as keys');
    const held = app.lines().slice(from).filter((l) => /^KEY 29 .* PRESSED/.test(l));
    check(held.length >= 1, 'Ctrl reached the app too');

    // The wheel: down scrolls down.
    from = app.lines().length;
    await page.mouse.move(px, py);
    await page.mouse.wheel(0, 120);
    const ax = await waitLine(app, from, /^AXIS v (-?[\d.]+)/, 'the app to get a vertical axis');
    check(Number(ax[1]) > 0, `wheel down scrolled down (axis ${ax[1]})`);

    // Nothing stays held: each key's and button's last event is a
    // release. (Counting is no good: the backend spends a Shift tap on a
    // new RemoteDesktop session, whose press Mutter drops.)
    const all = app.lines();
    for (const code of [272, 273, 35, 23, 30, 42, 29, 33]) {
      const re = new RegExp(`^(BUTTON|KEY) ${code} .*(PRESSED|RELEASED)$`);
      const events = all.filter((l) => re.test(l));
      if (!events.length || !events[events.length - 1].endsWith('RELEASED')) {
        fail(`code ${code} is left pressed: ${events.join(', ')}`);
      }
    }
    check(true, 'every press was released');

    // The desktop's own pointer (--cursor metadata). zc-input-client sets
    // no cursor image, so over it Mutter shows none (CursorName "none");
    // with the app gone the desktop's default arrow is shown, and the
    // viewer draws it where the pointer is.
    await app.stop();
    const [cx, cy] = await pagePoint(page, 200, 150);
    await page.mouse.move(cx - 5, cy - 5);
    await page.mouse.move(cx, cy);
    // Mutter 48 does not always send a cursor update for a pointer that
    // stopped as the window under it went away: nudge it as a person would
    // and come back to the spot before each look.
    const cur = await waitFor('the metadata cursor at 200,150', async () => {
      await page.mouse.move(cx - 1, cy);
      await page.mouse.move(cx, cy);
      await new Promise((r) => setTimeout(r, 400)); // the update's way back
      const c = await page.evaluate(() => ({ ...window.zerocast.cursor }));
      return c.visible && c.shapes >= 1 && c.x === 200 && c.y === 150 ? c : null;
    }, 15000);
    check(cur.width > 0 && cur.width <= 256, `cursor shape ${cur.width}x${cur.height}, ` +
      `hotspot ${cur.hotspotX},${cur.hotspotY}`);
    const drawn = await page.evaluate(([x, y, w, h]) => {
      const d = document.getElementById('cursor').getContext('2d').getImageData(x, y, w, h).data;
      let opaque = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 128) opaque++;
      return opaque;
    }, [200 - cur.hotspotX, 150 - cur.hotspotY, cur.width, cur.height]);
    check(drawn > 10, `the viewer drew it there (${drawn} opaque pixels)`);
    const hidden = await page.evaluate(() =>
      getComputedStyle(document.getElementById('screen')).cursor);
    check(hidden === 'none', 'the browser\'s own pointer is hidden over the picture');
  } finally {
    await app.stop();
  }
});
