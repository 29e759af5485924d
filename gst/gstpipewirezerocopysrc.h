/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/base/gstpushsrc.h>

#include "zc-output.h"

G_BEGIN_DECLS

#define GST_TYPE_PIPEWIRE_ZEROCOPY_SRC (gst_pipewire_zerocopy_src_get_type ())
G_DECLARE_FINAL_TYPE (GstPipewireZerocopySrc, gst_pipewire_zerocopy_src, GST,
    PIPEWIRE_ZEROCOPY_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (pipewirezerocopysrc);

G_END_DECLS
