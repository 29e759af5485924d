// zerocast viewer: receives H.264 access units over a WebSocket (the wire
// format in DESIGN.md), decodes them with WebCodecs and draws them on a
// canvas at the stream's size, shown as large as the window allows with
// its aspect kept. Input goes back through input.js, the desktop's pointer
// comes through cursor.js. Plain JS, no build step.
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

(function () {
  const MSG_VIDEO = 0x01, MSG_CONTROL = 0x20, MSG_INIT = 0x30,
    MSG_ERROR = 0x31, MSG_PING = 0x40, MSG_PONG = 0x41,
    MSG_CURSOR_IMAGE = 0x50, MSG_CURSOR_NAME = 0x51;
  const FLAG_KEY = 1, FLAG_REPLAYED = 2;
  const PING_INTERVAL_MS = 1000;
  const MAX_BACKOFF_MS = 10000;
  const LATENCY_SAMPLES = 2000;

  const canvas = document.getElementById('screen');
  const viewBox = document.getElementById('view');
  const ctx2d = canvas.getContext('2d', { alpha: false });
  const overlay = document.getElementById('overlay');
  const params = new URLSearchParams(location.search);

  // Everything a test or a benchmark wants to read, in one place.
  const state = window.zerocast = {
    connected: false, width: 0, height: 0, codec: null,
    framesReceived: 0, framesDecoded: 0, keyframesReceived: 0,
    decoderErrors: 0, reconnects: 0, lastError: null,
    rttMs: null, clockOffsetUs: 0, serverLatencyMs: null,
    // Glass to glass: server capture time to decoded here, in ms, with the
    // server's clock mapped to ours through ping/pong; and without the
    // mapping, exact when server and browser share a machine (benchmarks).
    latenciesMs: [], latenciesSameClockMs: [], firstFrameAt: null,
    connectedAt: null,
  };

  let ws = null, decoder = null, waitKey = true, pingSeq = 0, pingTimer = 0;
  let backoffMs = 500, stats = { frames: 0, bytes: 0, t: performance.now() };
  let fps = 0, kbps = 0, lastReplayedPts = -1;
  // While a benchmark probes (state.frameProbe), when each access unit's
  // message arrived and how many had arrived by then, by pts: splits
  // server + network from decode, and shows a decoder that holds a
  // picture until later access units come.
  const arrivals = new Map();
  state.arrival = (pts) => arrivals.get(pts) || null;

  // Scales the picture to the window, keeping its aspect (input.js maps
  // positions back through the canvas's on-page box).
  function fit() {
    const w = canvas.width, h = canvas.height;
    const scale = Math.min(window.innerWidth / w, window.innerHeight / h);
    viewBox.style.width = Math.floor(w * scale) + 'px';
    viewBox.style.height = Math.floor(h * scale) + 'px';
  }

  function setStreamSize(w, h) {
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    cursor.resize(w, h);
    fit();
  }

  const cursor = window.ZerocastCursor(document.getElementById('cursor'));
  const input = window.ZerocastInput(canvas, (bytes) => send(bytes),
    () => ({ width: state.width, height: state.height }));
  state.cursor = cursor.state;
  state.input = input.counts;
  window.addEventListener('resize', fit);

  const fullscreenButton = document.getElementById('fullscreen');
  fullscreenButton.addEventListener('click', async () => {
    if (document.fullscreenElement) {
      await document.exitFullscreen();
      return;
    }
    await document.documentElement.requestFullscreen();
    // Keep Escape, Ctrl+W and the like for the desktop where the browser
    // allows it (Chromium, fullscreen only); hold Escape to leave.
    if (navigator.keyboard && navigator.keyboard.lock) {
      navigator.keyboard.lock().catch(() => {});
    }
    canvas.focus();
  });
  document.addEventListener('fullscreenchange', () => {
    fullscreenButton.textContent =
      document.fullscreenElement ? 'exit fullscreen' : 'fullscreen';
    fit();
  });

  function nowUs() {
    return Math.round((performance.timeOrigin + performance.now()) * 1000);
  }

  // The codec string comes from the SPS itself (profile, constraints,
  // level), so whatever profile the server's encoder picked is what we ask
  // the browser for.
  function codecFromAccessUnit(au) {
    for (let i = 0; i + 7 < au.length; i++) {
      if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 &&
          (au[i + 3] & 0x1f) === 7) {
        const hex = (b) => b.toString(16).padStart(2, '0');
        return 'avc1.' + hex(au[i + 4]) + hex(au[i + 5]) + hex(au[i + 6]);
      }
    }
    return null;
  }

  function newDecoder() {
    if (decoder && decoder.state !== 'closed') decoder.close();
    decoder = new VideoDecoder({ output: onFrame, error: onDecoderError });
    state.codec = null;
    waitKey = true;
  }

  function onFrame(frame) {
    const now = nowUs();
    const ts = frame.timestamp;
    const latency = (now + state.clockOffsetUs - ts) / 1000;
    if (canvas.width !== frame.displayWidth ||
        canvas.height !== frame.displayHeight) {
      setStreamSize(frame.displayWidth, frame.displayHeight);
    }
    ctx2d.drawImage(frame, 0, 0, canvas.width, canvas.height);
    frame.close();
    // A benchmark's look at each picture as it is shown (bench/input).
    if (state.frameProbe) state.frameProbe(ctx2d, performance.now(), ts);
    state.framesDecoded++;
    if (state.firstFrameAt === null) state.firstFrameAt = performance.now();
    if (ts <= lastReplayedPts) return;
    state.latenciesMs.push(latency);
    state.latenciesSameClockMs.push((now - ts) / 1000);
    if (state.latenciesMs.length > LATENCY_SAMPLES) {
      state.latenciesMs.shift();
      state.latenciesSameClockMs.shift();
    }
  }

  // A decoder error leaves the decoder closed: make a new one and ask the
  // server to restart us at a keyframe.
  function onDecoderError(e) {
    state.decoderErrors++;
    state.lastError = 'decoder: ' + e.message;
    newDecoder();
    send(controlMessage({ type: 'keyframe' }));
    state.keyframeRequests = (state.keyframeRequests || 0) + 1;
  }

  function controlMessage(obj) {
    const json = new TextEncoder().encode(JSON.stringify(obj));
    const m = new Uint8Array(1 + json.length);
    m[0] = MSG_CONTROL;
    m.set(json, 1);
    return m;
  }

  function send(bytes) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(bytes);
  }

  function sendPing() {
    const m = new DataView(new ArrayBuffer(13));
    m.setUint8(0, MSG_PING);
    m.setUint32(1, ++pingSeq);
    m.setBigUint64(5, BigInt(nowUs()));
    send(m.buffer);
  }

  function onVideo(view, bytes) {
    if (bytes.length < 15) return;
    const flags = view.getUint8(2);
    const pts = Number(view.getBigUint64(3));
    const au = bytes.subarray(15);
    const key = (flags & FLAG_KEY) !== 0;
    // Replayed catch-up frames are old by design: keep them out of the
    // latency figures.
    if (flags & FLAG_REPLAYED) lastReplayedPts = Math.max(lastReplayedPts, pts);
    state.framesReceived++;
    stats.frames++;
    if (state.frameProbe) {
      arrivals.set(pts, { at: performance.now(), n: state.framesReceived });
      if (arrivals.size > 64) arrivals.delete(arrivals.keys().next().value);
    }
    if (key) state.keyframesReceived++;
    if (waitKey && !key) return;     // a decoder starts at a keyframe
    if (key) {
      const codec = codecFromAccessUnit(au);
      if (codec && (codec !== state.codec || decoder.state !== 'configured')) {
        // No description: the stream is Annex-B with SPS/PPS in band.
        decoder.configure({ codec, optimizeForLatency: true });
        state.codec = codec;
      }
    }
    if (decoder.state !== 'configured') return;
    waitKey = false;
    decoder.decode(new EncodedVideoChunk({
      type: key ? 'key' : 'delta', timestamp: pts, data: au,
    }));
  }

  function onMessage(ev) {
    const bytes = new Uint8Array(ev.data);
    if (bytes.length === 0) return;
    const view = new DataView(ev.data);
    stats.bytes += bytes.length;
    switch (bytes[0]) {
      case MSG_VIDEO:
        onVideo(view, bytes);
        break;
      case MSG_INIT:
        if (bytes.length >= 13) {
          state.width = view.getUint16(2);
          state.height = view.getUint16(4);
          setStreamSize(state.width, state.height);
        }
        break;
      case MSG_CURSOR_IMAGE:
        cursor.onImage(view, bytes);
        break;
      case MSG_CURSOR_NAME:
        cursor.onName(view, bytes);
        break;
      case MSG_ERROR: {
        const len = view.getUint16(1);
        state.lastError = 'server: ' +
          new TextDecoder().decode(bytes.subarray(3, 3 + len));
        break;
      }
      case MSG_PONG:
        if (bytes.length >= 23) {
          const client = Number(view.getBigUint64(5));
          const server = Number(view.getBigUint64(13));
          const now = nowUs();
          state.rttMs = (now - client) / 1000;
          // The server's clock minus ours, assuming a symmetric path.
          state.clockOffsetUs = server - (client + (now - client) / 2);
          state.serverLatencyMs = view.getUint16(21);
        }
        break;
      default:
        break;
    }
  }

  function connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = params.get('token');
    const url = proto + '//' + location.host + '/ws' +
      (token ? '?token=' + encodeURIComponent(token) : '');
    newDecoder();
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      state.connected = true;
      state.connectedAt = performance.now();
      backoffMs = 500;
      sendPing();
      pingTimer = setInterval(sendPing, PING_INTERVAL_MS);
    };
    ws.onmessage = onMessage;
    ws.onclose = (ev) => {
      state.connected = false;
      clearInterval(pingTimer);
      if (ev.reason) state.lastError = 'closed: ' + ev.reason;
      else if (ev.code !== 1000) state.lastError = 'closed (code ' + ev.code + ')';
      // Reconnect with exponential backoff, so a restarting server is not
      // hammered by every open tab.
      state.reconnects++;
      setTimeout(connect, backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    };
  }

  // For tests: feed the decoder a keyframe of garbage, as a damaged stream
  // would, to exercise the recovery path (new decoder + keyframe request).
  state.injectCorruptKeyframe = () => {
    decoder.decode(new EncodedVideoChunk({
      type: 'key', timestamp: 0,
      data: new Uint8Array([0, 0, 0, 1, 0x65, 0xff, 0xff, 0xff, 0xff, 0xff]),
    }));
  };

  function percentile(values, p) {
    if (values.length === 0) return null;
    const s = values.slice().sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
  }
  state.percentile = (p, sameClock) =>
    percentile(sameClock ? state.latenciesSameClockMs : state.latenciesMs, p);

  function updateOverlay() {
    const t = performance.now();
    const dt = (t - stats.t) / 1000;
    fps = stats.frames / dt;
    kbps = stats.bytes * 8 / 1000 / dt;
    stats = { frames: 0, bytes: 0, t };
    const recent = state.latenciesMs.slice(-30);
    const lat = percentile(recent, 50);
    const lines = [
      `${state.width}x${state.height} ${state.codec || ''}`,
      `${fps.toFixed(1)} fps  ${(kbps / 1000).toFixed(2)} Mbit/s`,
      `latency ${lat === null ? '-' : lat.toFixed(0) + ' ms'}` +
        `  rtt ${state.rttMs === null ? '-' : state.rttMs.toFixed(1) + ' ms'}`,
    ];
    if (!state.connected) lines.unshift('reconnecting…');
    if (state.lastError) lines.push(state.lastError);
    overlay.textContent = lines.join('\n');
    overlay.className = state.connected ? '' : 'error';
  }

  if (typeof VideoDecoder === 'undefined') {
    overlay.textContent = 'This browser has no WebCodecs VideoDecoder: use ' +
      'a recent Chromium, Firefox or Safari (and https or localhost).';
    overlay.className = 'error';
    return;
  }
  fit();
  setInterval(updateOverlay, 1000);
  connect();
})();
