// A viewer that stops reading must not grow the server: it is dropped to
// keyframes and then closed with a reason, while a normal viewer keeps
// playing and the server's RSS stays bounded.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFor, metrics, rssBytes, rawWebSocket, check } from './lib.mjs';

run('slow-viewer', async () => {
  await needBrowser();
  // Short GOP and a high bitrate fill a stalled socket fast.
  const server = await startServer(['--test-pattern', '1280x720',
    '--listen', '127.0.0.1:0', '--bitrate', '20000', '--gop', '10',
    '--encoder', 'x264enc'], {
    // Under AddressSanitizer freed memory sits in a quarantine (256 MiB by
    // default) and would read as growth; keep it small. Ignored otherwise.
    env: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=8']
      .filter(Boolean).join(':') },
  });
  await waitStreaming(server);
  const browser = await launchBrowser();
  const good = await openViewer(browser, server.url);
  await waitDecoded(good, 5);
  const rssBefore = rssBytes(server.pid);

  const stalled = await rawWebSocket(server.host, server.port, '/ws', { read: false });
  check(stalled.status === 101, 'the stalled viewer connected');
  let peak = rssBefore;
  const m = await waitFor('the server to close the stalled viewer', async () => {
    peak = Math.max(peak, rssBytes(server.pid));
    const mm = await metrics(server);
    return mm.zerocast_viewers_closed_slow_total >= 1 ? mm : null;
  }, 90000, 200);
  check(/closing viewer [^:]+: viewer too slow: fell behind \d+ times/.test(server.output()),
    'the server logged why it closed the viewer');
  check(m.zerocast_frames_dropped_total > 0,
    `the stalled viewer was dropped to keyframes first (${m.zerocast_frames_dropped_total} frames dropped)`);
  const growth = (peak - rssBefore) / 1048576;
  console.log(`RSS before ${(rssBefore / 1048576).toFixed(1)} MiB, peak ${(peak / 1048576).toFixed(1)} MiB`);
  // The per-viewer queue is capped at 8 MiB; allow allocator slack.
  check(growth < 32, `server RSS grew ${growth.toFixed(1)} MiB while a viewer stalled`);
  await waitFor('the stalled viewer to be gone', async () =>
    (await metrics(server)).zerocast_viewers === 1, 30000);
  const s = await waitDecoded(good, 5);
  await waitDecoded(good, s.framesDecoded + 10);
  check(true, 'the normal viewer kept playing');
});
