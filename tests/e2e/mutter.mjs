// --mutter owns a Mutter ScreenCast session on the desktop's bus (run under
// zc-run-session --mutter 640x480): the first monitor streams at its size,
// a --virtual monitor at the size asked for, each viewer's first video
// frame is a keyframe, and an unknown monitor is a clear error (exit 3).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { run, startServer, waitStreaming, waitFor, rawWebSocket, check,
  skip, buildRoot } from './lib.mjs';

async function firstMessages(server) {
  const ws = await rawWebSocket(server.host, server.port, '/ws');
  check(ws.status === 101, 'viewer connected');
  const init = await waitFor('StreamInit', () => ws.messages.find((b) => b[0] === 0x30), 15000);
  const frame = await waitFor('a video frame', () => ws.messages.find((b) => b[0] === 0x01), 15000);
  ws.destroy();
  return { width: init.readUInt16BE(2), height: init.readUInt16BE(4), keyframe: (frame[2] & 1) === 1 };
}

run('mutter', async () => {
  if (!process.env.WAYLAND_DISPLAY) skip('run me under zc-run-session --mutter WxH');
  const bad = spawnSync(join(buildRoot(), 'server', 'zerocast'),
    ['--mutter', '--monitor', 'HDMI-9', '--listen', '127.0.0.1:0'],
    { encoding: 'utf8', timeout: 60000 });
  check(bad.status === 3 && /HDMI-9/.test(bad.stderr),
    `an unknown monitor exits ${bad.status} saying ${JSON.stringify(bad.stderr.trim())}`);

  for (const [args, w, h] of [
    [['--mutter'], 640, 480],
    [['--mutter', '--monitor', 'Meta-0'], 640, 480],
    [['--mutter', '--virtual', '800x600'], 800, 600],
  ]) {
    const server = await startServer([...args, '--listen', '127.0.0.1:0']);
    await waitStreaming(server);
    const m = await firstMessages(server);
    check(m.width === w && m.height === h, `${args.join(' ')}: stream is ${m.width}x${m.height}`);
    check(m.keyframe, `${args.join(' ')}: the first frame is a keyframe`);
    const exit = await server.stop();
    check(exit.code === 0, `${args.join(' ')}: exits 0 on SIGTERM, ending its session`);
  }
});
