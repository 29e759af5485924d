// --publish rtp://: what leaves is RTP H.264 payload type 96 with SPS and
// PPS before every keyframe and keyframes at least every GOP, RTCP sender
// reports come out of the RTCP port, and an RTCP PLI or FIR sent back to
// that port gets a keyframe at once, at most one a second however many
// come. The WebSocket viewer is served all along. Raw sockets on the
// receiving side (zc-rtp-check), the test pattern as the source: ~20 s.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, check, startServer, waitStreaming, waitFor } from '../e2e/lib.mjs';
import { freeUdpPair, startChild, tool, metricsByTarget, countingViewer,
  viewerFlows } from './publish-lib.mjs';

const GOP = 90;   // 3 s at 30 fps: a keyframe sooner than that was asked for

run('publish-rtp', async () => {
  const port = await freeUdpPair();
  const target = `rtp://127.0.0.1:${port}`;
  const rx = startChild('rtp-check', tool('tests', 'publish', 'zc-rtp-check'), [String(port)], { quiet: true });
  await rx.waitLine(/READY/);
  const server = await startServer(['--test-pattern', '320x240', '--listen', '127.0.0.1:0',
    '--fps', '30', '--gop', String(GOP), '--publish', target]);
  await waitStreaming(server);
  const viewer = await countingViewer(server);

  await rx.waitLine(/SR ssrc=\d+/, 'an RTCP sender report');
  await rx.waitLine(/KEYFRAME n=1 /, 'a first keyframe');
  await rx.waitLine(/FRAMES n=30/, 'a second of frames');
  const keyframes = () => rx.lines(/^KEYFRAME/).length;

  // Keyframe requests over RTCP, each honoured within a fraction of a GOP.
  let last = 0;
  for (const kind of ['pli', 'fir', 'pli']) {
    await waitFor('the rate limit window to pass', () => Date.now() - last > 1100, 2000);
    const k = keyframes();
    const t0 = Date.now();
    rx.proc.stdin.write(kind + '\n');
    await waitFor(`a keyframe after the ${kind}`, () => keyframes() > k, 1500);
    last = Date.now();
    check(true, `${kind} answered with a keyframe in ${last - t0} ms (GOP ${GOP} frames = 3 s)`);
  }

  // A burst: every request counted, one passed on.
  await waitFor('the rate limit window to pass', () => Date.now() - last > 1100, 2000);
  const before = await metricsByTarget(server);
  const kBurst = keyframes();
  for (let i = 0; i < 20; i++) rx.proc.stdin.write('pli\n');
  await waitFor('20 PLIs to arrive', () => rx.lines(/^SENT pli/).length >= 22, 3000);
  const after = await waitFor('zerocast to count the burst', async () => {
    const m = await metricsByTarget(server);
    const d = m.zerocast_publish_keyframe_requests_total[target] -
      before.zerocast_publish_keyframe_requests_total[target];
    return d >= 20 ? m : null;
  }, 3000);
  const honoured = after.zerocast_publish_keyframe_requests_honoured_total[target] -
    before.zerocast_publish_keyframe_requests_honoured_total[target];
  check(honoured >= 1 && honoured <= 2, `a burst of 20 PLIs passed on ${honoured} request(s)`);
  await waitFor('the burst keyframe', () => keyframes() > kBurst, 1500);

  // A keyframe nobody asked for, at most a GOP later.
  const kNatural = keyframes();
  await waitFor('a keyframe at the end of the GOP', () => keyframes() > kNatural, 3000 + 3000);

  const kf = rx.lines(/^KEYFRAME/);
  check(kf.every((l) => /sps=1 pps=1 pt=96$/.test(l)),
    `all ${kf.length} keyframes came with SPS and PPS, payload type 96`);
  const gaps = kf.slice(1).map((l) => Number(/since=(\d+)/.exec(l)[1]));
  check(gaps.every((g) => g < GOP), `keyframes at most a GOP apart (frames between: ${gaps.join(', ')})`);

  const m = await metricsByTarget(server);
  check(m.zerocast_publish_up[target] === 1, 'the target is up in /metrics');
  check(m.zerocast_publish_failures_total[target] === 0, 'no failures');
  check(m.zerocast_publish_frames_sent_total[target] > 100, `${m.zerocast_publish_frames_sent_total[target]} frames sent`);
  check(/publish rtp:\/\/127\.0\.0\.1:\d+: up/.test(server.output()), 'the log says the target is up');
  await viewerFlows(viewer, 15, 5000, 'after it all');
  viewer.stop();
});
