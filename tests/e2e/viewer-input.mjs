// What the bundled viewer sends for the page's pointer, buttons, wheel,
// keys and touch, byte for byte (the layouts of server/protocol/
// zc-input-msg.h), with the picture scaled to a window of another size and
// aspect; keys held when the picture loses the focus are released; the
// fullscreen control works. The messages are read where the page hands
// them to its WebSocket; the server is the real zerocast (a test pattern:
// what the desktop does with them is tests/e2e/input.mjs).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { run, needBrowser, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFitted, waitFor, check } from './lib.mjs';

const W = 640, H = 480;

// Records every binary message the page sends, as arrays of bytes.
function recordSends() {
  window.sentMessages = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : null;
    if (bytes) window.sentMessages.push(Array.from(bytes));
    return send.call(this, data);
  };
}

const be16 = (m, at) => ((m[at] << 8) | m[at + 1]) << 16 >> 16;
const f32le = (m, at) => new DataView(Uint8Array.from(m).buffer).getFloat32(at, true);

run('viewer-input', async () => {
  await needBrowser();
  const server = await startServer(['--test-pattern', `${W}x${H}`, '--listen', '127.0.0.1:0']);
  await waitStreaming(server);
  const browser = await launchBrowser();
  await browser.addInitScript(recordSends);
  const page = await openViewer(browser, server.url);
  await page.setViewportSize({ width: 900, height: 560 });
  await waitDecoded(page, 2);

  const box = await waitFitted(page, 900, 560);
  check(Math.abs(box.width / box.height - W / H) < 0.01,
    `the picture keeps its aspect (${box.width}x${box.height})`);
  check(Math.abs(box.height - 560) <= 1 && box.left > 0,
    'it fills the window\'s height and is centred across');
  const at = (x, y) => [box.left + (x + 0.5) * box.width / W, box.top + (y + 0.5) * box.height / H];
  const take = async () => page.evaluate(() => window.sentMessages.splice(0)
    .filter((m) => m[0] >= 0x10 && m[0] <= 0x14));

  await take();
  const [px, py] = at(160, 120);
  await page.mouse.move(px, py);
  await page.mouse.down();
  await page.mouse.up();
  let sent = await waitFor('a click to be sent', async () => {
    const s = await take();
    return s.length ? s : null;
  });
  const abs = sent.filter((m) => m[0] === 0x12);
  check(abs.length >= 1, 'absolute motion sent');
  const a = abs[abs.length - 1];
  check(a.length === 10 && a[1] === 1, `absolute layout ${JSON.stringify(a)}`);
  check(be16(a, 2) === 160 && be16(a, 4) === 120 && be16(a, 6) === W && be16(a, 8) === H,
    `at 160,120 of ${W}x${H} (got ${be16(a, 2)},${be16(a, 4)} of ${be16(a, 6)}x${be16(a, 8)})`);
  const buttons = sent.filter((m) => m[0] === 0x11 && m[1] === 2);
  check(JSON.stringify(buttons) === JSON.stringify([[0x11, 2, 1, 1], [0x11, 2, 0, 1]]),
    `left button down then up: ${JSON.stringify(buttons)}`);

  await page.mouse.click(...at(400, 300), { button: 'right' });
  sent = await waitFor('a right click', async () => {
    const s = (await take()).filter((m) => m[0] === 0x11);
    return s.length >= 2 ? s : null;
  });
  check(sent[0][3] === 3 && sent[0][2] === 1, 'right button is 3');

  // Keys: evdev codes from KeyboardEvent.code, with the modifier bits.
  await page.keyboard.press('KeyH');
  await page.keyboard.press('Control+KeyF');
  sent = await waitFor('keys to be sent', async () => {
    const s = await take();
    return s.length >= 6 ? s : null;
  });
  const keys = sent.map((m) => [m[1], m[2], m[3], (m[4] << 8) | m[5]]);
  check(JSON.stringify(keys) === JSON.stringify([
    [0, 1, 0, 35], [0, 0, 0, 35], // h
    [0, 1, 2, 29], [0, 1, 2, 33], [0, 0, 2, 33], [0, 0, 0, 29], // Ctrl+F
  ]), `keyboard messages ${JSON.stringify(keys)}`);
  const defaultPrevented = await page.evaluate(() => {
    const e = new KeyboardEvent('keydown', { code: 'KeyF', key: 'f', ctrlKey: true,
      bubbles: true, cancelable: true });
    document.getElementById('screen').dispatchEvent(e);
    return e.defaultPrevented;
  });
  check(defaultPrevented, 'the browser\'s own Ctrl+F is suppressed');
  await take();

  // A key still held when the picture loses the focus is released.
  await page.keyboard.down('KeyX');
  await page.evaluate(() => document.getElementById('screen').blur());
  sent = await waitFor('the held key to be released', async () => {
    const s = await take();
    return s.some((m) => m[0] === 0x10 && m[2] === 0) ? s : null;
  });
  check(sent.some((m) => m[0] === 0x10 && m[2] === 0 && ((m[4] << 8) | m[5]) === 45),
    'X released on blur');
  await page.keyboard.up('KeyX');
  check((await take()).length === 0, 'nothing sent for keys without the focus');

  // The wheel: smooth, browser pixels, little-endian floats, down positive.
  await page.mouse.move(px, py);
  await page.mouse.wheel(0, 100);
  sent = await waitFor('a wheel message', async () => {
    const s = (await take()).filter((m) => m[0] === 0x11 && m[1] === 3);
    return s.length ? s : null;
  });
  check(sent[0].length === 10 && f32le(sent[0], 6) === 100 && f32le(sent[0], 2) === 0,
    `wheel dy ${f32le(sent[0], 6)}`);

  // Touch, through Chromium's own touch input.
  const cdp = await browser.newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 2 });
  const [tx, ty] = at(320, 360);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: tx, y: ty }] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  sent = await waitFor('touch messages', async () => {
    const s = (await take()).filter((m) => m[0] === 0x14);
    return s.length >= 2 ? s : null;
  });
  check(sent[0].length === 11 && sent[0][1] === 0 && sent[0][2] === 0 &&
    Math.abs(f32le(sent[0], 3) - 0.5) < 0.01 && Math.abs(f32le(sent[0], 7) - 0.75) < 0.01,
    `touch down at ${f32le(sent[0], 3).toFixed(3)},${f32le(sent[0], 7).toFixed(3)} (want 0.5,0.75)`);
  check(sent[1][1] === 2 && sent[1][2] === 0, 'touch up on the same slot');

  // Fullscreen: the picture then fills the screen, aspect kept.
  await page.click('#fullscreen');
  await waitFor('fullscreen', () => page.evaluate(() => document.fullscreenElement !== null));
  // The label follows on the fullscreenchange event, which the browser
  // fires a frame after fullscreenElement is set (once seen on sid).
  let label = null;
  await waitFor('the control to say "exit fullscreen"', async () => {
    label = await page.textContent('#fullscreen');
    return label === 'exit fullscreen';
  }, 5000).catch(() => {});
  check(label === 'exit fullscreen', `the control says "${label}"`);
  await page.click('#fullscreen');
  await waitFor('fullscreen to end', () => page.evaluate(() => document.fullscreenElement === null));
});
