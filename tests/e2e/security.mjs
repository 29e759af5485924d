// Tokens and hostile clients: off loopback a token is generated and
// required; a wrong token is refused; garbage closes only the connection
// that sent it, with a reason, while a real viewer keeps playing.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFor, rawWebSocket, metrics, check } from './lib.mjs';

function errorText(ws) {
  const m = ws.messages.find((b) => b[0] === 0x31);
  return m ? m.subarray(3, 3 + m.readUInt16BE(1)).toString('utf8') : null;
}

run('security', async () => {
  await needBrowser();
  // Bound to every interface without --token: one is generated.
  const server = await startServer(['--test-pattern', '320x240',
    '--listen', '0.0.0.0:0', '--encoder', 'x264enc']);
  await waitStreaming(server);
  check(/^[0-9a-f]{32}$/.test(server.token || ''),
    `a token was generated and printed with the URL (${server.url})`);
  const host = '127.0.0.1', port = server.port;

  const none = await rawWebSocket(host, port, '/ws');
  check(none.status === 401, `no token: HTTP ${none.status}`);
  const wrong = await rawWebSocket(host, port, '/ws?token=' + 'f'.repeat(32));
  check(wrong.status === 401, `wrong token: HTTP ${wrong.status}`);
  const metricsNoToken = await fetch(`http://${host}:${port}/metrics`);
  check(metricsNoToken.status === 401, `/metrics without token: HTTP ${metricsNoToken.status}`);
  const right = await rawWebSocket(host, port, '/ws?token=' + server.token);
  check(right.status === 101, `right token: HTTP ${right.status}`);
  right.destroy();
  // Off loopback watching and controlling are separate rights: the URL
  // above carries the control token, a second line the view token.
  const view = /view-only URL \S+\?token=([0-9a-f]{32})/.exec(server.output());
  check(view && view[1] !== server.token,
    `a distinct view token is printed (${view && view[1]})`);
  const viewer = await rawWebSocket(host, port, '/ws/stream?token=' + view[1]);
  check(viewer.status === 101, `the view token opens /ws/stream: HTTP ${viewer.status}`);
  viewer.destroy();

  const browser = await launchBrowser();
  const page = await openViewer(browser, `http://${host}:${port}/?token=${server.token}`);
  const before = await waitDecoded(page, 5);

  const garbage = [
    ['an unknown message type', Buffer.from([0x99, 1, 2, 3])],
    ['an oversized message', Buffer.alloc(64 * 1024, 0x40)],
    ['a text message', 'hello', 1],
    ['a truncated ping', Buffer.from([0x40, 0, 0])],
    ['a control message that is not JSON', Buffer.from([0x20, 0x7b, 0x7b, 0x7b])],
    ['a control message with a bad value', Buffer.concat([Buffer.from([0x20]),
      Buffer.from('{"set_video_enabled":"yes"}')])],
    ['an input message with a zero reference size',
      Buffer.from([0x12, 1, 0, 1, 0, 1, 0, 0, 0, 0])],
    ['a text message after the init', '{"type":"init"}', 1, '{"type":"init"}'],
  ];
  for (const [what, payload, opcode, first] of garbage) {
    const ws = await rawWebSocket(host, port, '/ws?token=' + server.token);
    check(ws.status === 101, `connected to send ${what}`);
    if (first)
      ws.send(first, 1);
    ws.send(payload, opcode || 2);
    await waitFor(`the server to close after ${what}`, () => ws.closed || ws.ended, 10000);
    const reason = errorText(ws) || (ws.closed && ws.closed.reason);
    console.log(`  close: ${JSON.stringify(ws.closed)}`);
    check(reason && reason.length > 0, `${what} closes the connection with a reason: "${reason}"`);
    ws.destroy();
  }
  // A well-formed ping gets a pong and the connection stays.
  const ok = await rawWebSocket(host, port, '/ws?token=' + server.token);
  const ping = Buffer.alloc(13);
  ping[0] = 0x40; ping.writeUInt32BE(7, 1); ping.writeBigUInt64BE(123456789n, 5);
  ok.send(ping);
  const pong = await waitFor('a pong', () => ok.messages.find((b) => b[0] === 0x41), 5000);
  check(pong.length === 29 && pong.readUInt32BE(1) === 7 &&
    pong.readBigUInt64BE(5) === 123456789n, 'pong echoes seq and client time');
  check(!ok.closed, 'a valid ping keeps the connection open');
  // A control message zerocast does not know is ignored (a newer client
  // may send it): the connection stays and still answers pings.
  ok.send(Buffer.concat([Buffer.from([0x20]), Buffer.from('{"type":"reboot"}')]));
  ping.writeUInt32BE(8, 1);
  ok.send(ping);
  await waitFor('a second pong', () => ok.messages.find((b) => b[0] === 0x41 && b.readUInt32BE(1) === 8), 5000);
  check(!ok.closed, 'an unknown control message keeps the connection open');
  ok.destroy();

  const after = await waitDecoded(page, before.framesDecoded + 10);
  check(after.connected && after.reconnects === 0,
    'the browser viewer kept playing through all of it');
  check(server.exited() === null, 'the server is still running');
  await server.stop();

  // On loopback without a token: other sites' pages and DNS-rebound host
  // names are refused, local tools and the server's own page get in.
  const local = await startServer(['--test-pattern', '320x240',
    '--listen', '127.0.0.1:0', '--encoder', 'x264enc']);
  check(local.token === null, `no token on loopback (${local.url})`);
  const lp = local.port;
  const cases = [
    ['a local program (no Origin)', {}, 101],
    ['the server\'s own page', { Origin: `http://127.0.0.1:${lp}` }, 101],
    ['another site\'s page', { Origin: 'https://evil.example' }, 403],
    ['a DNS-rebound host name', { Host: `rebind.example:${lp}`,
      Origin: `http://rebind.example:${lp}` }, 403],
  ];
  for (const [what, headers, want] of cases) {
    const ws = await rawWebSocket('127.0.0.1', lp, '/ws', { headers });
    check(ws.status === want, `${what}: HTTP ${ws.status} (want ${want})`);
    ws.destroy();
  }
  const page2 = await openViewer(browser, local.url);
  await waitDecoded(page2, 3);
  check(true, 'the browser viewer of the tokenless loopback server plays');
  await local.stop();

  // --max-viewers: one more is refused with 503, a freed place is reused.
  const capped = await startServer(['--test-pattern', '64x64',
    '--listen', '127.0.0.1:0', '--encoder', 'x264enc', '--max-viewers', '1']);
  const first = await rawWebSocket('127.0.0.1', capped.port, '/ws');
  check(first.status === 101, 'the first viewer is in');
  const second = await rawWebSocket('127.0.0.1', capped.port, '/ws');
  check(second.status === 503, `the viewer over --max-viewers 1: HTTP ${second.status}`);
  second.destroy();
  first.destroy();
  await waitFor('the place to free up', async () =>
    (await metrics(capped)).zerocast_viewers === 0, 10000);
  const third = await rawWebSocket('127.0.0.1', capped.port, '/ws');
  check(third.status === 101, 'a freed place is taken again');
  third.destroy();
});
