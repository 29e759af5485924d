// What a new user does: `zerocast --headless` (GNOME Shell with a
// terminal), open the URL, click into the terminal, type a command. The
// command is `touch FILE`: the file appearing proves the click focused the
// terminal and every key arrived in order, through the bundled viewer in
// Chromium, the RemoteDesktop session and the shell's keymap.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFitted, waitFor, check } from './lib.mjs';

const W = 1280, H = 720;

run('shell-terminal', async () => {
  await needBrowser();
  // Lower case and digits only: the viewer sends physical keys, and
  // typing an upper-case letter needs Shift held, as on a real keyboard.
  const dir = join(tmpdir(), `zc-shell-e2e-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { mode: 0o700 });
  const marker = join(dir, 'typed-through-zerocast');
  try {
    const server = await startServer(['--headless', `${W}x${H}`, '--desktop', 'shell',
      '--listen', '127.0.0.1:0'], { timeoutMs: 120000 });
    await waitStreaming(server, 60000);
    const browser = await launchBrowser();
    const page = await openViewer(browser, server.url);
    await page.setViewportSize({ width: 1000, height: 600 });
    await waitDecoded(page, 2, 30000);
    await waitFitted(page, 1000, 600);

    // The terminal window is centred on the monitor (as GNOME Shell
    // places a first window): click its middle.
    const [x, y] = await page.evaluate(([sx, sy]) => {
      const r = document.getElementById('screen').getBoundingClientRect();
      return [r.left + sx * r.width, r.top + sy * r.height];
    }, [0.5, 0.5]);
    await page.mouse.move(x - 10, y - 10);
    await page.mouse.move(x, y);
    await page.mouse.click(x, y);
    await page.keyboard.type(`touch ${marker}`);
    await page.keyboard.press('Enter');
    await waitFor(`${marker} to be created by the terminal`, () => existsSync(marker), 20000)
      .catch(async (e) => {
        // What the desktop showed, for whoever reads the failure.
        if (process.env.ZC_SHOT) await page.screenshot({ path: process.env.ZC_SHOT });
        throw e;
      });
    check(true, 'clicked into the terminal and typed a command that ran');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
