// Video mode fallback with a real PipeWire producer (run under
// zc-run-session): without the zerocopy plugin, `auto` falls back from
// zerocopy to native to shm, logging why each failed; when the producer
// goes away at run time the server says so and exits 1. Then a YUY2
// producer: whatever mode takes it, the stream plays, and a mode that
// refused it logged the element's own reason.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, check, startServer, startProducer, waitStreaming, waitFor, metrics,
  skip } from '../e2e/lib.mjs';

run('fallback', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  const producer = await startProducer(['--fps', '30']);
  {
    const empty = mkdtempSync(join(tmpdir(), 'zc-noplugins-'));
    let server;
    try {
      server = await startServer(['--node-id', producer.node, '--listen', '127.0.0.1:0',
        '--video-mode', 'auto'], {
        // No zerocopy plugin, and a registry that never saw one.
        env: { GST_PLUGIN_PATH: empty, GST_REGISTRY: join(empty, 'registry.bin') },
      });
      await waitStreaming(server);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const out = server.output();
    check(/video mode zerocopy with encoder \S+ failed: element pipewirezerocopysrc is not installed/.test(out),
      'zerocopy failed with its reason logged');
    check(/video mode native with encoder \S+ failed: \S/.test(out),
      'native failed with its reason logged');
    check(/streaming with video mode shm/.test(out), 'shm took over');
    const mm = await waitFor('frames', async () => {
      const x = await metrics(server);
      return x.zerocast_frames_encoded_total > 10 ? x : null;
    }, 15000);
    check(mm.zerocast_frames_encoded_total > 10, 'shm mode encodes frames');

    producer.send('quit');
    const exit = await waitFor('zerocast to exit after its node went away',
      () => server.exited(), 30000);
    check(exit.code === 1, `exit code ${exit.code} when the node goes away`);
    check(/PipeWire node \d+ went away/.test(server.output()),
      'the reason is printed');
  }

  const yuy2 = await startProducer(['--fps', '30', '--format', 'YUY2']);
  {
    const server = await startServer(['--node-id', yuy2.node, '--listen', '127.0.0.1:0']);
    await waitStreaming(server);
    const mm = await waitFor('YUY2 frames', async () => {
      const x = await metrics(server);
      return x.zerocast_frames_encoded_total > 10 ? x : null;
    }, 15000);
    check(mm.zerocast_frames_encoded_total > 10, 'the YUY2 node streams');
    const out = server.output();
    const mode = /streaming with video mode (\S+)/.exec(out)[1];
    if (mode !== 'zerocopy') {
      check(/video mode zerocopy with encoder \S+ failed: pipewirezerocopysrc\S*: .*YUY2/.test(out),
        `zerocopy refused YUY2 with the element's reason, ${mode} took over`);
    } else {
      check(true, 'zerocopy takes YUY2 itself');
    }
    await server.stop();
  }
});
