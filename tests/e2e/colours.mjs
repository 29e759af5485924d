// The viewer shows the headless desktop's colour window with each colour in
// its quadrant: no red/blue swap, no mirroring, canvas at the stream size.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, check } from './lib.mjs';

const W = 640, H = 480;

run('colours', async () => {
  await needBrowser();
  const server = await startServer(['--headless', `${W}x${H}`, '--desktop', 'mutter',
    '--listen', '127.0.0.1:0']);
  await waitStreaming(server);
  const browser = await launchBrowser();
  const page = await openViewer(browser, server.url);
  const s = await waitDecoded(page, 3);
  check(s.width === W && s.height === H, `stream is ${s.width}x${s.height}`);
  const size = await page.evaluate(() => {
    const c = document.getElementById('screen');
    return [c.width, c.height];
  });
  check(size[0] === W && size[1] === H, `canvas is ${size[0]}x${size[1]}`);

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
    check(close, `${name} is ${JSON.stringify(px)}, want ${JSON.stringify(rgb)}`);
  }
});
