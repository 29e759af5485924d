/* Fuzz target: every parser a viewer's WebSocket message reaches
 * (server/protocol/zc-wire.c, and zc-control.c for control messages). The input
 * is one client message, exactly as zc-ws-viewer.c hands it over; the parsers
 * must refuse garbage with an error and never read outside it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "zc-control.h"
#include "zc-fuzz.h"
#include "zc-wire.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  ZcWireType type;
  ZcWireVideoHeader header;
  const guint8 *au;
  gsize au_size;
  guint32 seq;
  guint64 client_time;
  GError *error = NULL;
  gchar *text;

  zc_fuzz_init ();
  /* The viewer's path: check, then parse what the check let through. */
  if (zc_wire_check_client_message (data, size, &type, &error)) {
    g_assert (error == NULL);
    if (type == ZC_WIRE_PING)
      g_assert (zc_wire_parse_ping (data, size, &seq, &client_time, NULL));
    if (type == ZC_WIRE_CONTROL) {
      ZcControlMsg control;

      if (zc_control_parse (data, size, &control, &error))
        zc_control_msg_clear (&control);
      g_clear_error (&error);
    }
  } else {
    /* A refusal always says why (the viewer is closed with this text). */
    g_assert (error != NULL && error->message != NULL);
    g_clear_error (&error);
  }

  /* The same bytes through the parsers directly: they must not rely on
   * the check having run first. */
  if (!zc_wire_parse_ping (data, size, &seq, &client_time, &error))
    g_clear_error (&error);
  {
    ZcControlMsg control;

    if (zc_control_parse (data, size, &control, &error))
      zc_control_msg_clear (&control);
    g_clear_error (&error);
  }
  if (zc_wire_parse_video_frame (data, size, &header, &au, &au_size, &error))
    g_assert (au + au_size == data + size);
  g_clear_error (&error);

  /* Error messages carry text that came from outside (a parser's reason
   * quoting the input): any bytes must give valid UTF-8 of bounded size. */
  text = g_strndup ((const gchar *) data, size);
  {
    GBytes *msg = zc_wire_error (text);
    gsize msg_size;
    const guint8 *m = g_bytes_get_data (msg, &msg_size);

    g_assert (msg_size >= 3 && m[0] == ZC_WIRE_ERROR);
    g_assert ((gsize) (m[1] << 8 | m[2]) == msg_size - 3);
    g_assert (g_utf8_validate ((const gchar *) m + 3, msg_size - 3, NULL));
    g_bytes_unref (msg);
  }
  g_free (text);
  return 0;
}
