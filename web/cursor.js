// zerocast viewer: the pointer the server sends beside the video
// (--cursor metadata): CursorImage 0x50 (position, hotspot and, when the
// shape changed, an R, G, B, A bitmap; little-endian, Helix's layout) and
// CursorName 0x51 ("none" hides it). Drawn on a transparent canvas laid
// over the picture at the stream's size, so it scales with it.
// SPDX-License-Identifier: LGPL-2.1-or-later
'use strict';

(function () {
  const IMAGE_HEADER = 25, BITMAP_HEADER = 16, NAME_HEADER = 14;
  const FOURCC_RA24 = 0x34324152; // bytes R, G, B, A (as Helix reads it)
  const FOURCC_BA24 = 0x34324142; // bytes B, G, R, A
  const MAX_SIZE = 512;

  // @layer is the canvas over the picture.
  window.ZerocastCursor = function (layer) {
    const ctx = layer.getContext('2d');
    const state = {
      active: false, visible: false, x: 0, y: 0, hotspotX: 0, hotspotY: 0,
      width: 0, height: 0, shapes: 0, name: null,
    };
    let bitmap = null; // a canvas holding the shape

    function draw() {
      ctx.clearRect(0, 0, layer.width, layer.height);
      if (state.visible && bitmap) {
        ctx.drawImage(bitmap, state.x - state.hotspotX, state.y - state.hotspotY);
      }
    }

    function onImage(view, bytes) {
      if (bytes.length < IMAGE_HEADER) return;
      state.x = view.getInt32(5, true);
      state.y = view.getInt32(9, true);
      state.hotspotX = view.getInt32(13, true);
      state.hotspotY = view.getInt32(17, true);
      const size = view.getUint32(21, true);
      if (size >= BITMAP_HEADER && bytes.length >= IMAGE_HEADER + size) {
        const at = IMAGE_HEADER;
        const format = view.getUint32(at, true);
        const w = view.getUint32(at + 4, true), h = view.getUint32(at + 8, true);
        const stride = view.getUint32(at + 12, true);
        if (w > 0 && h > 0 && w <= MAX_SIZE && h <= MAX_SIZE && stride >= w * 4 &&
            BITMAP_HEADER + stride * (h - 1) + w * 4 <= size &&
            (format === FOURCC_RA24 || format === FOURCC_BA24)) {
          const img = new ImageData(w, h);
          const src = bytes.subarray(at + BITMAP_HEADER);
          const swap = format === FOURCC_BA24;
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const s = y * stride + x * 4, d = (y * w + x) * 4;
              img.data[d] = src[s + (swap ? 2 : 0)];
              img.data[d + 1] = src[s + 1];
              img.data[d + 2] = src[s + (swap ? 0 : 2)];
              img.data[d + 3] = src[s + 3];
            }
          }
          bitmap = document.createElement('canvas');
          bitmap.width = w;
          bitmap.height = h;
          bitmap.getContext('2d').putImageData(img, 0, 0);
          state.width = w;
          state.height = h;
          state.shapes++;
          state.name = null;
        }
      }
      state.active = true;
      state.visible = bitmap !== null && state.name !== 'none';
      // The remote pointer replaces the local one over the picture.
      layer.parentElement.classList.toggle('remote-cursor', true);
      draw();
    }

    function onName(view, bytes) {
      if (bytes.length < NAME_HEADER) return;
      const len = bytes[13];
      state.name = new TextDecoder().decode(
        bytes.subarray(NAME_HEADER, NAME_HEADER + len));
      // Only "none" means something without a bitmap to draw: a named
      // shape falls back to the browser's own cursor of that name.
      state.visible = false;
      if (state.name !== 'none') {
        layer.parentElement.classList.toggle('remote-cursor', false);
        layer.parentElement.style.cursor = state.name;
      } else if (state.active) {
        layer.parentElement.classList.toggle('remote-cursor', true);
      }
      draw();
    }

    // The stream's size changed: the layer follows it.
    function resize(width, height) {
      if (layer.width !== width || layer.height !== height) {
        layer.width = width;
        layer.height = height;
      }
      draw();
    }

    return { state, onImage, onName, resize };
  };
})();
