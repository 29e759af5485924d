// ConnectionComplete carries the stream's real size even when a Helix
// client's init comes before the first frame of a source whose size only
// its frames tell (--node-id, --portal, a real monitor): zerocast holds it
// back until the first StreamInit, then sends StreamInit, CursorName and
// ConnectionComplete in that order (it sent width 0, height 0 before).
// A producer of ours that negotiates and draws nothing until told (run
// under zc-run-session). About 5 s.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, check, startServer, startProducer, waitFor, rawWebSocket, skip } from '../e2e/lib.mjs';

const W = 800, H = 600;

run('late-size', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  const producer = await startProducer(['--fps', '30', '--size', `${W}x${H}`, '--still']);
  // A first-frame timeout longer than the test: the producer is still.
  const server = await startServer(['--node-id', producer.node, '--listen', '127.0.0.1:0',
    '--first-frame-timeout', '60']);
  const q = server.token ? `?token=${encodeURIComponent(server.token)}` : '';
  const ws = await rawWebSocket(server.host, server.port, `/ws/stream${q}`);
  check(ws.status === 101, `upgraded (${ws.status})`);
  ws.send(JSON.stringify({ type: 'init', width: 1920, height: 1080, fps: 60,
    bitrate: 8000, video_supported_formats: 1 }), 1);
  await waitFor('zerocast to read the init', () => /init: asks 1920x1080/.test(server.output()),
    10000);
  // Nothing to say yet: no size, no picture.
  await new Promise((r) => setTimeout(r, 500));
  const text = (b) => b.length > 0 && b[0] === 0x7b; // '{'
  check(!ws.messages.some(text), 'no ConnectionComplete before the size is known');
  check(!ws.messages.some((b) => b[0] === 0x30), 'no StreamInit before a frame');
  producer.send('move');
  const cc = await waitFor('ConnectionComplete', () => ws.messages.find(text), 15000);
  const json = JSON.parse(cc.toString('utf8')).ConnectionComplete;
  check(json && json.width === W && json.height === H,
    `ConnectionComplete carries ${W}x${H} (${json && json.width}x${json && json.height})`);
  const types = ws.messages.map((b) => (text(b) ? 'complete' : b[0]));
  const init = types.indexOf(0x30), cursor = types.indexOf(0x51),
    complete = types.indexOf('complete');
  check(init >= 0 && init < cursor && cursor < complete,
    `StreamInit, CursorName, then ConnectionComplete (${types.slice(0, 4).join(',')})`);
  const si = ws.messages[init];
  check(si.readUInt16BE(2) === W && si.readUInt16BE(4) === H,
    `StreamInit is ${si.readUInt16BE(2)}x${si.readUInt16BE(4)}`);
  check(/viewer \S+ connected \(800x600/.test(server.output()), 'the log names the size');
  ws.destroy();
  const exit = await server.stop();
  check(exit.code === 0, `exit code ${exit.code}`);
});
