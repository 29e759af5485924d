// The desktop changes size mid-stream (a PipeWire producer renegotiates):
// the viewer gets a new StreamInit, resizes its canvas to the new stream
// size and keeps the colours in their quadrants. Runs under zc-run-session.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFor, viewerState, startProducer, check, skip } from './lib.mjs';

async function quadrants(page, w, h) {
  return page.evaluate(([W, H]) => {
    const c = document.getElementById('screen');
    const g = c.getContext('2d', { willReadFrequently: true });
    return [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]].map(([fx, fy]) =>
      Array.from(g.getImageData(Math.floor(W * fx), Math.floor(H * fy), 1, 1).data.slice(0, 3)));
  }, [w, h]);
}

function near(px, rgb) {
  return px.every((v, i) => Math.abs(v - rgb[i]) <= 40);
}

const WANT = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];

run('resize', async () => {
  await needBrowser();
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  const producer = await startProducer(['--fps', '30', '--size', '640x480']);
  const server = await startServer(['--node-id', producer.node, '--listen', '127.0.0.1:0']);
  await waitStreaming(server);
  const browser = await launchBrowser();
  const page = await openViewer(browser, server.url);
  let s = await waitDecoded(page, 3);
  check(s.width === 640 && s.height === 480, `stream starts at ${s.width}x${s.height}`);
  let px = await quadrants(page, 640, 480);
  check(px.every((p, i) => near(p, WANT[i])), `colours at 640x480: ${JSON.stringify(px)}`);

  producer.send('size 800x600');
  await waitFor('the OK from the producer', () => /OK size/.test(producer.output()), 5000);
  s = await waitFor('the viewer to switch to 800x600', async () => {
    const v = await viewerState(page);
    const canvas = await page.evaluate(() => [document.getElementById('screen').width,
      document.getElementById('screen').height]);
    return v.width === 800 && v.height === 600 && canvas[0] === 800 ? v : null;
  }, 15000);
  await waitDecoded(page, s.framesDecoded + 5);
  px = await quadrants(page, 800, 600);
  check(px.every((p, i) => near(p, WANT[i])), `colours at 800x600: ${JSON.stringify(px)}`);
  const v = await viewerState(page);
  check(v.decoderErrors === 0 && v.reconnects === 0,
    `no decoder error or reconnect across the resize (${v.lastError})`);
});
