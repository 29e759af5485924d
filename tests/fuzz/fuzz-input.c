/* Fuzz target: the parsers for what a viewer sends besides pings and
 * frames: input messages (server/protocol/zc-input-msg.c), the text init
 * and control JSON (zc-control.c). The same bytes go through each; they
 * must be refused with a reason or parsed into values within the ranges
 * the header promises, never read outside the input, and a parsed input
 * message must survive build -> parse unchanged.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include "zc-control.h"
#include "zc-fuzz.h"
#include "zc-input-msg.h"

static void
check_input (const guint8 *data, size_t size)
{
  ZcInputMsg msg, again;
  GError *error = NULL;

  if (!zc_input_msg_parse (data, size, &msg, &error)) {
    g_assert (error != NULL && error->message != NULL);
    g_clear_error (&error);
    return;
  }
  g_assert (error == NULL);
  switch (msg.kind) {
    case ZC_INPUT_MSG_ABSOLUTE:
      g_assert (msg.ref_width > 0 && msg.ref_height > 0);
      break;
    case ZC_INPUT_MSG_WHEEL_SMOOTH:
    case ZC_INPUT_MSG_TOUCH:
      g_assert (isfinite (msg.fx) && isfinite (msg.fy));
      break;
    case ZC_INPUT_MSG_BUTTON:
      g_assert (msg.code >= 0x110 && msg.code <= 0x117);
      break;
    case ZC_INPUT_MSG_KEY:
      g_assert (msg.code <= 0x2ff);
      break;
    default:
      break;
  }
  {
    GBytes *b = zc_input_msg_build (&msg);
    gsize n;
    const guint8 *d = g_bytes_get_data (b, &n);

    g_assert (n <= size);
    g_assert (zc_input_msg_parse (d, n, &again, NULL));
    g_assert (memcmp (&msg, &again, sizeof (msg)) == 0);
    g_bytes_unref (b);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  ZcInitRequest init;
  ZcControlMsg control;
  GError *error = NULL;

  zc_fuzz_init ();
  check_input (data, size);

  if (zc_control_parse (data, size, &control, &error)) {
    g_assert (error == NULL);
    zc_control_msg_clear (&control);
  } else {
    g_assert (error != NULL);
    g_clear_error (&error);
  }

  if (zc_control_parse_init ((const gchar *) data, size, &init, &error)) {
    g_assert (init.width <= ZC_CONTROL_MAX_DIMENSION);
    g_assert (init.height <= ZC_CONTROL_MAX_DIMENSION);
    g_assert (init.fps <= ZC_CONTROL_MAX_FPS);
    g_assert (init.bitrate_kbps <= ZC_CONTROL_MAX_BITRATE_KBPS);
  } else {
    g_assert (error != NULL);
    g_clear_error (&error);
  }
  return 0;
}
