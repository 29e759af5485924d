// zerocast viewer: pointer, buttons, wheel, keyboard and touch from the
// page to the server, in the byte layouts of Helix's client (the server's
// server/protocol/zc-input-msg.h lists them). Positions are sent in stream
// pixels with the stream's size as the reference size, so the server's
// scaling is exact whatever size the picture is shown at.
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

(function () {
  const MSG_KEYBOARD = 0x10, MSG_MOUSE = 0x11, MSG_ABSOLUTE = 0x12,
    MSG_TOUCH = 0x14;
  const MOD_SHIFT = 1, MOD_CTRL = 2, MOD_ALT = 4, MOD_META = 8;
  const TOUCH_DOWN = 0, TOUCH_MOTION = 1, TOUCH_UP = 2;

  // KeyboardEvent.code (the physical key, whatever the layout) to the
  // Linux evdev keycode (<linux/input-event-codes.h>). The desktop's own
  // keymap turns it into a character, so the remote layout applies.
  const EVDEV = {
    Escape: 1, Digit1: 2, Digit2: 3, Digit3: 4, Digit4: 5, Digit5: 6,
    Digit6: 7, Digit7: 8, Digit8: 9, Digit9: 10, Digit0: 11, Minus: 12,
    Equal: 13, Backspace: 14, Tab: 15, KeyQ: 16, KeyW: 17, KeyE: 18,
    KeyR: 19, KeyT: 20, KeyY: 21, KeyU: 22, KeyI: 23, KeyO: 24, KeyP: 25,
    BracketLeft: 26, BracketRight: 27, Enter: 28, ControlLeft: 29,
    KeyA: 30, KeyS: 31, KeyD: 32, KeyF: 33, KeyG: 34, KeyH: 35, KeyJ: 36,
    KeyK: 37, KeyL: 38, Semicolon: 39, Quote: 40, Backquote: 41,
    ShiftLeft: 42, Backslash: 43, KeyZ: 44, KeyX: 45, KeyC: 46, KeyV: 47,
    KeyB: 48, KeyN: 49, KeyM: 50, Comma: 51, Period: 52, Slash: 53,
    ShiftRight: 54, NumpadMultiply: 55, AltLeft: 56, Space: 57,
    CapsLock: 58, F1: 59, F2: 60, F3: 61, F4: 62, F5: 63, F6: 64, F7: 65,
    F8: 66, F9: 67, F10: 68, NumLock: 69, ScrollLock: 70, Numpad7: 71,
    Numpad8: 72, Numpad9: 73, NumpadSubtract: 74, Numpad4: 75, Numpad5: 76,
    Numpad6: 77, NumpadAdd: 78, Numpad1: 79, Numpad2: 80, Numpad3: 81,
    Numpad0: 82, NumpadDecimal: 83, IntlBackslash: 86, F11: 87, F12: 88,
    IntlRo: 89, NumpadEnter: 96, ControlRight: 97, NumpadDivide: 98,
    PrintScreen: 99, AltRight: 100, Home: 102, ArrowUp: 103, PageUp: 104,
    ArrowLeft: 105, ArrowRight: 106, End: 107, ArrowDown: 108,
    PageDown: 109, Insert: 110, Delete: 111, AudioVolumeMute: 113,
    AudioVolumeDown: 114, AudioVolumeUp: 115, NumpadEqual: 117, Pause: 119,
    NumpadComma: 121, IntlYen: 124, MetaLeft: 125, MetaRight: 126,
    ContextMenu: 127, F13: 183, F14: 184, F15: 185, F16: 186, F17: 187,
    F18: 188, F19: 189, F20: 190, F21: 191, F22: 192, F23: 193, F24: 194,
  };

  // DOM MouseEvent.button to the protocol's (1 left, 2 middle, 3 right,
  // 4 side/back, 5 extra/forward).
  const BUTTONS = [1, 2, 3, 4, 5];

  function modifiers(e) {
    return (e.shiftKey ? MOD_SHIFT : 0) | (e.ctrlKey ? MOD_CTRL : 0) |
      (e.altKey ? MOD_ALT : 0) | (e.metaKey ? MOD_META : 0);
  }

  // @canvas shows the stream; @send(Uint8Array) sends a message; @size()
  // returns {width, height} of the stream (0 until StreamInit).
  window.ZerocastInput = function (canvas, send, size) {
    const held = { keys: new Set(), buttons: new Set() };
    const touchSlots = new Map(); // Touch.identifier -> slot
    const counts = {
      keys: 0, buttons: 0, motions: 0, wheels: 0, touches: 0, lastPressAt: null,
    };
    let pendingMotion = null, motionScheduled = false;

    // A point on the page to stream pixels, or null outside the picture.
    function toStream(clientX, clientY) {
      const s = size();
      const r = canvas.getBoundingClientRect();
      if (!s.width || !s.height || r.width === 0 || r.height === 0) return null;
      const x = Math.floor((clientX - r.left) * s.width / r.width);
      const y = Math.floor((clientY - r.top) * s.height / r.height);
      return {
        x: Math.min(Math.max(x, 0), s.width - 1),
        y: Math.min(Math.max(y, 0), s.height - 1),
        inside: x >= 0 && y >= 0 && x < s.width && y < s.height,
        width: s.width, height: s.height,
      };
    }

    function sendAbsolute(p) {
      const m = new DataView(new ArrayBuffer(10));
      m.setUint8(0, MSG_ABSOLUTE);
      m.setUint8(1, 1);
      m.setInt16(2, p.x);
      m.setInt16(4, p.y);
      m.setInt16(6, p.width);
      m.setInt16(8, p.height);
      send(new Uint8Array(m.buffer));
      counts.motions++;
    }

    function flushMotion() {
      motionScheduled = false;
      if (pendingMotion) sendAbsolute(pendingMotion);
      pendingMotion = null;
    }

    // At most one motion message per animation frame: a 1000 Hz mouse
    // would otherwise send 1000 messages a second for nothing.
    function motion(e) {
      const p = toStream(e.clientX, e.clientY);
      if (!p) return;
      pendingMotion = p;
      if (!motionScheduled) {
        motionScheduled = true;
        requestAnimationFrame(flushMotion);
      }
    }

    function sendButton(button, down) {
      send(new Uint8Array([MSG_MOUSE, 2, down ? 1 : 0, button]));
      // For the input-to-photon benchmark (bench/input).
      if (down) counts.lastPressAt = performance.now();
      if (down) held.buttons.add(button);
      else held.buttons.delete(button);
      counts.buttons++;
    }

    function onPointerDown(e) {
      if (e.pointerType === 'touch') return; // touch events handle it
      const button = BUTTONS[e.button];
      const p = toStream(e.clientX, e.clientY);
      if (!button || !p || !p.inside) return;
      e.preventDefault();
      canvas.focus({ preventScroll: true });
      canvas.setPointerCapture(e.pointerId);
      // The press lands where the pointer is now, not where the last
      // rate-limited motion left it.
      pendingMotion = null;
      sendAbsolute(p);
      sendButton(button, true);
    }

    function onPointerUp(e) {
      if (e.pointerType === 'touch') return;
      const button = BUTTONS[e.button];
      if (!button || !held.buttons.has(button)) return;
      e.preventDefault();
      const p = toStream(e.clientX, e.clientY);
      if (p) {
        pendingMotion = null;
        sendAbsolute(p);
      }
      sendButton(button, false);
    }

    function onWheel(e) {
      if (!toStream(e.clientX, e.clientY)) return;
      e.preventDefault();
      // Browser pixels, as Helix's client sends them; lines and pages
      // become pixels the way browsers scroll them.
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      const m = new DataView(new ArrayBuffer(10));
      m.setUint8(0, MSG_MOUSE);
      m.setUint8(1, 3);
      m.setFloat32(2, e.deltaX * unit, true);
      m.setFloat32(6, e.deltaY * unit, true);
      send(new Uint8Array(m.buffer));
      counts.wheels++;
    }

    function sendKey(code, down, mods) {
      const m = new DataView(new ArrayBuffer(6));
      m.setUint8(0, MSG_KEYBOARD);
      m.setUint8(1, 0);
      m.setUint8(2, down ? 1 : 0);
      m.setUint8(3, mods);
      m.setUint16(4, code);
      send(new Uint8Array(m.buffer));
      if (down) held.keys.add(code);
      else held.keys.delete(code);
      counts.keys++;
    }

    // Keys go to the desktop only while the picture has the focus (a click
    // on it gives it). All of them, so the browser's own shortcuts (Ctrl+F,
    // F5, Tab out of the page ...) do not fire: in fullscreen the Keyboard
    // Lock API keeps even Ctrl+W and Escape for the desktop.
    function onKey(e) {
      const code = EVDEV[e.code];
      if (code === undefined) return;
      e.preventDefault();
      e.stopPropagation();
      const down = e.type === 'keydown';
      // The desktop repeats a held key itself.
      if (down && e.repeat && held.keys.has(code)) return;
      if (!down && !held.keys.has(code)) return;
      sendKey(code, down, modifiers(e));
    }

    // Nothing stays pressed on the desktop when the page loses the keys
    // or the pointer (another window, another tab).
    function releaseAll() {
      for (const code of Array.from(held.keys)) sendKey(code, false, 0);
      for (const b of Array.from(held.buttons)) sendButton(b, false);
      for (const [id, slot] of touchSlots) sendTouch(TOUCH_UP, slot, 0, 0);
      touchSlots.clear();
    }

    function sendTouch(phase, slot, fx, fy) {
      const m = new DataView(new ArrayBuffer(11));
      m.setUint8(0, MSG_TOUCH);
      m.setUint8(1, phase);
      m.setUint8(2, slot);
      m.setFloat32(3, fx, true);
      m.setFloat32(7, fy, true);
      send(new Uint8Array(m.buffer));
      counts.touches++;
    }

    function freeSlot() {
      const used = new Set(touchSlots.values());
      for (let s = 0; s < 255; s++) if (!used.has(s)) return s;
      return -1;
    }

    function onTouch(e) {
      e.preventDefault();
      for (const t of Array.from(e.changedTouches)) {
        const p = toStream(t.clientX, t.clientY);
        if (!p) continue;
        const fx = p.x / p.width, fy = p.y / p.height;
        if (e.type === 'touchstart') {
          const slot = freeSlot();
          if (slot < 0) continue;
          touchSlots.set(t.identifier, slot);
          sendTouch(TOUCH_DOWN, slot, fx, fy);
        } else if (touchSlots.has(t.identifier)) {
          const slot = touchSlots.get(t.identifier);
          if (e.type === 'touchmove') {
            sendTouch(TOUCH_MOTION, slot, fx, fy);
          } else {
            sendTouch(TOUCH_UP, slot, fx, fy);
            touchSlots.delete(t.identifier);
          }
        }
      }
    }

    canvas.tabIndex = 0;
    canvas.addEventListener('pointermove', motion);
    canvas.addEventListener('pointerdown', onPointerDown);
    canvas.addEventListener('pointerup', onPointerUp);
    canvas.addEventListener('wheel', onWheel, { passive: false });
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    canvas.addEventListener('keydown', onKey);
    canvas.addEventListener('keyup', onKey);
    canvas.addEventListener('blur', releaseAll);
    for (const t of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) {
      canvas.addEventListener(t, onTouch, { passive: false });
    }
    window.addEventListener('blur', releaseAll);

    return { counts, releaseAll, toStream };
  };
})();
