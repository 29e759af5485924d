// The viewer recovers on its own: after a decoder error it makes a new
// decoder and asks for a keyframe (answered by the encoder long before the
// next scheduled one), and after the server restarts it reconnects with
// backoff and plays again.
// SPDX-License-Identifier: LGPL-2.1-or-later
import net from 'node:net';
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFor, viewerState, check } from './lib.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

run('recovery', async () => {
  await needBrowser();
  const port = await freePort();
  // A 10 s GOP: recovery within it can only come from the keyframe request.
  const args = ['--test-pattern', '320x240', '--listen', `127.0.0.1:${port}`,
    '--gop', '300'];
  let server = await startServer(args);
  await waitStreaming(server);
  const browser = await launchBrowser();
  const page = await openViewer(browser, server.url);
  await waitDecoded(page, 5);

  await page.evaluate(() => window.zerocast.injectCorruptKeyframe());
  const broken = await waitFor('the decoder error', async () => {
    const v = await viewerState(page);
    return v.decoderErrors > 0 ? v : null;
  }, 5000);
  check(broken.keyframeRequests === 1, 'the viewer asked for a keyframe');
  const t0 = Date.now();
  await waitDecoded(page, broken.framesDecoded + 5, 5000);
  check(Date.now() - t0 < 3000,
    `decoding again ${Date.now() - t0} ms after the error (the GOP is 10 s)`);

  const exit = await server.stop();
  check(exit.code === 0, 'server stopped');
  await waitFor('the viewer to notice', async () => !(await viewerState(page)).connected, 10000);
  server = await startServer(args);
  await waitStreaming(server);
  const before = await viewerState(page);
  const after = await waitDecoded(page, before.framesDecoded + 10, 30000);
  check(after.connected && after.reconnects >= 1,
    `the viewer reconnected by itself (${after.reconnects} attempts) and plays`);
});
