// A source that sends no first frame (run under zc-run-session), with a
// PipeWire producer of ours:
// - one that, like a compositor that lost the first frame of a new
//   stream, draws only for its second link: zerocast connects again (after
//   half of --first-frame-timeout, 2 s at most), in the same video mode,
//   and streams (zerocopy and shm);
// - one that never draws: a new connection every 2 s until
//   --first-frame-timeout has passed, then the mode is ruled out, and with
//   no other mode to try zerocast exits 4 saying why.
// About 15 s.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, check, startServer, startProducer, waitStreaming, waitFor, metrics,
  skip } from '../e2e/lib.mjs';

const count = (re, text) => (text.match(new RegExp(re.source, 'g')) || []).length;

run('first-frame', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');

  for (const mode of ['zerocopy', 'shm']) {
    const producer = await startProducer(['--fps', '30', '--lose-first-link']);
    const server = await startServer(['--node-id', producer.node, '--listen', '127.0.0.1:0',
      '--video-mode', mode, '--first-frame-timeout', '2']);
    await waitStreaming(server);
    const out = server.output();
    check(count(/no frame after 1\d\d\d ms; connecting to the source again/, out) === 1,
      `${mode}: one more connection after 1 s without a frame`);
    check(!/failed:/.test(out), `${mode}: the mode was not ruled out`);
    check(new RegExp(`streaming with video mode ${mode} `).test(out),
      `${mode}: streams in the same mode`);
    const mm = await waitFor('frames', async () => {
      const x = await metrics(server);
      return x.zerocast_frames_encoded_total > 10 ? x : null;
    }, 15000);
    check(mm.zerocast_frames_encoded_total > 10,
      `${mode}: frames are encoded (${mm.zerocast_frames_encoded_total})`);
    const exit = await server.stop();
    check(exit.code === 0, `${mode}: exit code ${exit.code}`);
    await producer.stop();
  }

  const still = await startProducer(['--fps', '30', '--still']);
  const server = await startServer(['--node-id', still.node, '--listen', '127.0.0.1:0',
    '--video-mode', 'shm', '--first-frame-timeout', '5']);
  const exit = await waitFor('zerocast to give up', () => server.exited(), 20000);
  const out = server.output();
  check(count(/connecting to the source again/, out) === 2,
    `a new connection at 2 s and 4 s, not more (${count(/connecting to the source again/, out)})`);
  check(/no frame after 2\d\d\d ms; connecting/.test(out)
    && /no frame after 4\d\d\d ms; connecting/.test(out), 'at 2 s and 4 s');
  check(/video mode shm with encoder \S+ failed: no frame within 5000 ms/.test(out),
    'then the mode failed with the reason');
  check(/no video mode and encoder combination works/.test(out),
    'and zerocast says nothing is left to try');
  check(exit.code === 4, `exit code ${exit.code} (4: no pipeline works)`);
});
