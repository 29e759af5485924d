/* Fuzz target: PipeWire's cursor meta as the producer (the compositor,
 * another process) writes it (gst/zc-cursor.c, zc_cursor_read). The input
 * is the meta's whole area: a spa_meta_cursor, and wherever its offsets
 * point, a bitmap header and pixels. Read twice with one state, as
 * consecutive buffers are.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <gst/gst.h>
#include <spa/buffer/buffer.h>
#include <spa/buffer/meta.h>

#include "zc-cursor.h"
#include "zc-fuzz.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean initialized;
  ZcCursorState state = { 0 };
  struct spa_meta meta;
  struct spa_buffer buffer = { 0 };
  guint32 *area;
  GstStructure *s;

  zc_fuzz_init ();
  if (!initialized) {
    gst_init (NULL, NULL);
    initialized = TRUE;
  }
  if (size > 2 * 1024 * 1024)
    return 0;
  /* Metas are 4-byte aligned in PipeWire's buffers; exactly @size bytes,
   * so reading past the meta is caught by ASan. */
  area = g_malloc (size ? size : 1);
  memcpy (area, data, size);
  meta.type = SPA_META_Cursor;
  meta.size = (guint32) size;
  meta.data = area;
  buffer.n_metas = 1;
  buffer.metas = &meta;
  for (guint i = 0; i < 2; i++) {
    if ((s = zc_cursor_read (&buffer, &state)) != NULL) {
      g_autofree gchar *text = gst_structure_to_string (s);
      gst_structure_free (s);
    }
  }
  g_free (area);
  return 0;
}
