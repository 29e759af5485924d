// zerocast --publish rtp:// into a real Janus 1.x streaming mountpoint
// (configuration of ours, videobufferkf), played by several headless
// Chromium viewers through janus.js over WebRTC: each shows
// zc-test-producer's quadrant colours (red, green / blue, white). Then
// zerocast restarts: the mountpoint survives, the viewers already
// watching play on, and a new viewer joins. Runs in a network namespace
// of its own (netns-run.sh) under zc-run-session; ~40 s.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, check, startServer, waitStreaming, waitFor, launchBrowser, skip, fail } from '../e2e/lib.mjs';
import { freeUdpPair, startChild, tool, metricsByTarget, near } from './publish-lib.mjs';
import { needJanus, startJanus, startPageServer, viewerState } from './janus-lib.mjs';

const W = 640, H = 480, VIEWERS = 3;
const COLOURS = { tl: [255, 0, 0], tr: [0, 255, 0], bl: [0, 0, 255], br: [255, 255, 255] };

async function openJanusViewer(browser, pageUrl, janus) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log('[page] ' + m.text()); });
  await page.goto(`${pageUrl}?janus=${encodeURIComponent(janus.url)}&id=1`);
  return page;
}

async function waitPlaying(page, name, minFrames, ms = 20000) {
  return waitFor(`${name} to play ${minFrames} frames`, async () => {
    const s = await viewerState(page);
    if (s && s.error) fail(`${name}: ${s.error}`);
    return s && s.frames >= minFrames && s.colours ? s : null;
  }, ms);
}

function checkColours(s, name) {
  check(s.width === W && s.height === H, `${name}: ${s.width}x${s.height}`);
  for (const [q, rgb] of Object.entries(COLOURS)) {
    check(near(s.colours[q], rgb), `${name}: ${q} is ${s.colours[q]}, want ${rgb}`);
  }
}

run('publish-janus', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  needJanus();
  const producer = startChild('producer', tool('tests', 'producer', 'zc-test-producer'),
    ['--size', `${W}x${H}`, '--fps', '30'], { quiet: true });
  const node = (await producer.waitLine(/READY (\d+)/))[1];

  const port = await freeUdpPair();
  const janus = await startJanus(port);
  const pages = await startPageServer();
  const target = `rtp://127.0.0.1:${port}`;
  const args = ['--node-id', node, '--listen', '127.0.0.1:0', '--fps', '30',
    '--publish', target];
  let server = await startServer(args);
  await waitStreaming(server);

  const browser = await launchBrowser();
  const viewers = [];
  for (let i = 0; i < VIEWERS; i++) viewers.push(await openJanusViewer(browser, pages.url, janus));
  for (let i = 0; i < VIEWERS; i++) {
    const s = await waitPlaying(viewers[i], `viewer ${i + 1}`, 10);
    checkColours(s, `viewer ${i + 1} through Janus`);
  }
  let m = await metricsByTarget(server);
  check(m.zerocast_publish_up[target] === 1, 'zerocast reports the RTP target up');
  // Janus asks its source for keyframes (PLI) on the RTCP port; they
  // must reach zerocast through the socket its RTCP leaves from. Janus
  // learns that socket from zerocast's first RTCP report, which may come
  // after the viewers already play (their first keyframe needs no PLI):
  // wait for the request rather than read the counter once.
  await waitFor("Janus's first keyframe request", async () => {
    m = await metricsByTarget(server);
    return m.zerocast_publish_keyframe_requests_total[target] >= 1;
  }, 15000).catch(() => {});
  check(m.zerocast_publish_keyframe_requests_total[target] >= 1,
    `Janus's keyframe requests reached zerocast (${m.zerocast_publish_keyframe_requests_total[target]}, ` +
    `honoured ${m.zerocast_publish_keyframe_requests_honoured_total[target]})`);

  // zerocast goes away and comes back; Janus and its viewers stay.
  await server.stop();
  // Counted once nothing more can arrive from the old zerocast.
  const before = await Promise.all(viewers.map((p) => viewerState(p)));
  server = await startServer(args);
  await waitStreaming(server);
  for (let i = 0; i < VIEWERS; i++) {
    const s = await waitPlaying(viewers[i], `viewer ${i + 1} after the restart`, before[i].frames + 30, 30000);
    checkColours(s, `viewer ${i + 1} after zerocast restarted`);
  }
  const late = await openJanusViewer(browser, pages.url, janus);
  const s = await waitPlaying(late, 'a viewer joining after the restart', 10);
  checkColours(s, 'a viewer joining after the restart');
  check(janus.exited === null, 'Janus ran throughout');
  m = await metricsByTarget(server);
  check(m.zerocast_publish_failures_total[target] === 0, 'the RTP target never failed');
  await server.stop();
  await janus.stop();
  pages.close();
});
