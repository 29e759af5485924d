// The bundled viewer, in Chromium on the host, against a zerocast that runs
// elsewhere (a container: scripts/test-containers.sh):
//   node container-viewer.mjs URL colours WxH   the colour window's four
//                                              quadrants arrive, in place
//   node container-viewer.mjs URL frames        frames arrive and decode
//   node container-viewer.mjs URL type WxH HOSTFILE GUESTFILE
//                                              frames of WxH arrive, then
//       the page types `touch GUESTFILE` and Enter into the desktop's
//       focused terminal: HOSTFILE (the same file, seen through a folder
//       shared with the container) must appear
// URL carries the token (?token=...; the control token for type). Exit 0,
// 1, or 77 (no browser).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { existsSync } from 'node:fs';
import { run, needBrowser, launchBrowser, openViewer, waitDecoded, waitFor, check, fail }
  from './lib.mjs';

const [url, mode, size, hostFile, guestFile] = process.argv.slice(2);
if (!url || !['colours', 'frames', 'type'].includes(mode) ||
    (mode !== 'frames' && !size) || (mode === 'type' && !guestFile)) {
  console.error('usage: container-viewer.mjs URL colours WxH | URL frames |' +
    ' URL type WxH HOSTFILE GUESTFILE');
  process.exit(2);
}

run('container-viewer', async () => {
  await needBrowser();
  const browser = await launchBrowser();
  const page = await openViewer(browser, url);
  // A fresh container's desktop and encoder start on a busy machine.
  const s = await waitDecoded(page, 3, 60000);
  check(s.framesDecoded >= 3, `decoded ${s.framesDecoded} frames of ${s.width}x${s.height} from ${url}`);
  if (mode === 'frames') return;

  const [W, H] = size.split('x').map(Number);
  check(s.width === W && s.height === H, `stream is ${s.width}x${s.height}`);
  if (mode === 'type') {
    // Lower case, digits, '/', '-' and '.' only: the viewer sends physical
    // keys on a US keymap, and upper case would need Shift held.
    if (!/^[a-z0-9/.-]+$/.test(guestFile)) fail(`cannot type ${guestFile}`);
    // Click into the picture's middle (the terminal fills the output),
    // then type.
    const [x, y] = await page.evaluate(() => {
      const r = document.getElementById('screen').getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    });
    await page.mouse.move(x - 10, y - 10);
    await page.mouse.move(x, y);
    await page.mouse.click(x, y);
    await page.keyboard.type(`touch ${guestFile}`);
    await page.keyboard.press('Enter');
    await waitFor(`${hostFile} to be created by the desktop's terminal`,
      () => existsSync(hostFile), 20000);
    check(true, `typed \`touch ${guestFile}\` into the desktop and it ran`);
    return;
  }
  const expected = {
    'top-left': [0.25, 0.25, [255, 0, 0]],
    'top-right': [0.75, 0.25, [0, 255, 0]],
    'bottom-left': [0.25, 0.75, [0, 0, 255]],
    'bottom-right': [0.75, 0.75, [255, 255, 255]],
  };
  for (const [name, [fx, fy, rgb]] of Object.entries(expected)) {
    const px = await page.evaluate(([x, y]) => {
      const c = document.getElementById('screen');
      const d = c.getContext('2d').getImageData(x, y, 1, 1).data;
      return [d[0], d[1], d[2]];
    }, [Math.floor(W * fx), Math.floor(H * fy)]);
    // H.264 4:2:0 at a modest bitrate moves flat colours by a few levels.
    const close = px.every((v, i) => Math.abs(v - rgb[i]) <= 40);
    if (!close) fail(`${name} is ${JSON.stringify(px)}, want ${JSON.stringify(rgb)}`);
    check(true, `${name} is ${JSON.stringify(px)} (want ${JSON.stringify(rgb)})`);
  }
});
