// One encode, several viewers: two viewers at once both decode, and a
// viewer joining mid-stream shows a picture within a second (its first
// frame is a keyframe, replayed from the last one).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, viewerState, waitFor, metrics, check } from './lib.mjs';

run('viewers', async () => {
  await needBrowser();
  const server = await startServer(['--headless', '640x480', '--desktop', 'mutter',
    '--listen', '127.0.0.1:0', '--gop', '90']);
  await waitStreaming(server);
  const browser = await launchBrowser();

  const a = await openViewer(browser, server.url);
  const b = await openViewer(browser, server.url);
  const sa = await waitDecoded(a, 5);
  const sb = await waitDecoded(b, 5);
  check(sa.decoderErrors === 0 && sb.decoderErrors === 0,
    'two viewers decode without errors');
  // Both keep decoding at the same time.
  await waitDecoded(a, sa.framesDecoded + 10);
  await waitDecoded(b, sb.framesDecoded + 10);
  check(true, 'two viewers decode concurrently');
  const m = await metrics(server);
  check(m.zerocast_viewers === 2, `metrics count ${m.zerocast_viewers} viewers`);
  check(m.zerocast_frames_encoded_total > 0, 'one encode feeds both');

  // Join mid-GOP: the keyframe interval is 90 frames (3 s at 30 fps), so
  // without replay or a forced keyframe the wait would be seconds.
  await waitFor('the stream to be well past a keyframe',
    async () => (await metrics(server)).zerocast_frames_encoded_total >
      m.zerocast_frames_encoded_total + 20, 20000);
  const c = await openViewer(browser, server.url);
  const sc = await waitDecoded(c, 1, 5000);
  const joinMs = sc.firstFrameAt - sc.connectedAt;
  check(joinMs < 1000, `late joiner shows a picture ${joinMs.toFixed(0)} ms after connecting`);
  const sa2 = await viewerState(a);
  check(sa2.decoderErrors === 0, 'the first viewer is undisturbed by the join');
});
