// --publish rtsp:// and srt:// against real servers of ours (an RTSP
// server on gst-rtsp-server taking RECORD, a GStreamer srtsrc listener),
// and targets that misbehave: refused before they exist, gone while
// streaming, and one that accepts the connection and never answers. The
// WebSocket viewer must be served throughout, and /metrics and the log
// must say what happened. Source: zc-test-producer's quadrants (red,
// green / blue, white) through PipeWire, so the colours that arrive are
// known. Run under zc-run-session; ~40 s.
// SPDX-License-Identifier: LGPL-2.1-or-later
import net from 'node:net';
import { run, check, startServer, waitStreaming, waitFor, skip } from '../e2e/lib.mjs';
import { freeTcpPort, startChild, tool, metricsByTarget, countingViewer,
  viewerFlows, near } from './publish-lib.mjs';

const W = 320, H = 240;
const COLOURS = { tl: [255, 0, 0], tr: [0, 255, 0], bl: [0, 0, 255], br: [255, 255, 255] };

function checkFrames(rx, what) {
  const frames = rx.lines(/^FRAME n=\d+/).slice(-3);
  check(frames.length > 0, `${what}: frames decoded`);
  for (const f of frames) {
    check(f.includes(`size=${W}x${H}`), `${what}: ${/size=\S+/.exec(f)[0]}`);
    for (const [q, rgb] of Object.entries(COLOURS)) {
      const px = new RegExp(`${q}=(\\d+),(\\d+),(\\d+)`).exec(f).slice(1).map(Number);
      check(near(px, rgb), `${what}: ${q} is ${px}, want ${rgb}`);
    }
  }
}

function receiver(kind, port) {
  const args = kind === 'rtsp' ? ['rtsp', String(port), '/live'] : ['srt', String(port)];
  return startChild(`${kind}-rx`, tool('tests', 'publish', 'zc-publish-receiver'), args, { quiet: true });
}

run('publish-targets', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  const producer = startChild('producer', tool('tests', 'producer', 'zc-test-producer'),
    ['--size', `${W}x${H}`, '--fps', '30'], { quiet: true });
  const node = (await producer.waitLine(/READY (\d+)/))[1];

  const [rtspPort, srtPort, hungPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  const rtsp = `rtsp://127.0.0.1:${rtspPort}/live`;
  const srt = `srt://127.0.0.1:${srtPort}`;
  const hung = `rtsp://127.0.0.1:${hungPort}/live`;
  // Accepts and never says a word: rtspclientsink waits for an answer.
  const hungConns = [];
  const hungServer = net.createServer((s) => { hungConns.push(s); s.on('error', () => {}); });
  await new Promise((r) => hungServer.listen(hungPort, '127.0.0.1', r));

  const server = await startServer(['--node-id', node, '--listen', '127.0.0.1:0',
    '--fps', '30', '--gop', '30', '--publish', rtsp, '--publish', srt, '--publish', hung]);
  await waitStreaming(server);
  const viewer = await countingViewer(server);
  const out = () => server.output();
  const esc = (s) => s.replace(/[.:/]/g, (c) => '\\' + c);

  // 1. Nobody there yet: refused, retried, reported; viewers unaffected.
  await waitFor('the RTSP target to be refused twice', () =>
    (out().match(new RegExp(`publish ${esc(rtsp)}: .*retrying in`, 'g')) || []).length >= 2, 15000);
  await waitFor('the SRT target to fail', () =>
    new RegExp(`publish ${esc(srt)}: .*retrying in`).test(out()), 20000);
  let m = await metricsByTarget(server);
  check(m.zerocast_publish_up[rtsp] === 0 && m.zerocast_publish_up[srt] === 0, 'both down in /metrics');
  check(m.zerocast_publish_failures_total[rtsp] >= 2, `RTSP failures counted (${m.zerocast_publish_failures_total[rtsp]})`);
  await viewerFlows(viewer, 30, 5000, 'while the targets are down');

  // 2. The servers appear: the next retry connects, the colours arrive.
  let rtspRx = receiver('rtsp', rtspPort);
  const srtRx = receiver('srt', srtPort);
  await rtspRx.waitLine(/READY/);
  await srtRx.waitLine(/READY/);
  await waitFor('both targets up', async () => {
    m = await metricsByTarget(server);
    return m.zerocast_publish_up[rtsp] === 1 && m.zerocast_publish_up[srt] === 1;
  }, 70000);   // the next retry: on a slow machine the backoff may be at 30 s
  await rtspRx.waitLine(/FRAME n=10 /, 'RTSP RECORD: 10 frames decoded', 10000);
  await srtRx.waitLine(/FRAME n=10 /, 'SRT: 10 frames decoded', 10000);
  checkFrames(rtspRx, 'RTSP RECORD');
  checkFrames(srtRx, 'SRT');

  // 3. The hung server: frames pile up, are dropped, the attempt times out.
  await waitFor('the hung target to time out', () =>
    new RegExp(`publish ${esc(hung)}: (not connected within 10 s|took no data for 3 s[^;\n]*|sink: [^\n]*); retrying`).test(out()), 20000);
  check(new RegExp(`publish ${esc(hung)}: falling behind`).test(out()), 'the hung target fell behind and dropped to a keyframe (log)');
  m = await metricsByTarget(server);
  check(m.zerocast_publish_frames_dropped_total[hung] > 30, `${m.zerocast_publish_frames_dropped_total[hung]} frames dropped for the hung target`);
  check(m.zerocast_publish_up[hung] === 0, 'the hung target is down in /metrics');

  // 4. The RTSP server vanishes mid-stream, then comes back.
  const fails = m.zerocast_publish_failures_total[rtsp];
  await rtspRx.kill('SIGKILL');
  await waitFor('the RTSP target to notice', async () => {
    m = await metricsByTarget(server);
    return m.zerocast_publish_failures_total[rtsp] > fails && m.zerocast_publish_up[rtsp] === 0;
  }, 10000);
  check(true, 'the vanished RTSP server is reported down');
  await viewerFlows(viewer, 30, 5000, 'with the RTSP server gone');
  rtspRx = receiver('rtsp', rtspPort);
  await rtspRx.waitLine(/FRAME n=10 /, 'RTSP RECORD again after the server came back', 70000);
  checkFrames(rtspRx, 'RTSP RECORD, reconnected');
  m = await metricsByTarget(server);
  check(m.zerocast_publish_up[rtsp] === 1 && m.zerocast_publish_up[srt] === 1, 'both up again');

  const stats = await metricsByTarget(server);
  check(stats.zerocast_frames_encoded_total[''] > 0, 'one encode for everybody');
  await viewerFlows(viewer, 30, 5000, 'at the end');
  viewer.stop();
  for (const s of hungConns) s.destroy();
  hungServer.close();
});
