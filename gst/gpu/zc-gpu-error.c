/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-gpu-error.h"

/* Same string as zc_error_quark(): see zc-gpu-error.h. */
GQuark
zc_gpu_error_quark (void)
{
  return g_quark_from_static_string ("zerocast-error-quark");
}
