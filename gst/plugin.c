/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include <gst/gst.h>

#include "gstpipewirezerocopysrc.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (pipewirezerocopysrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, pipewirezerocopy,
    "Zero-copy PipeWire screen capture (DMA-BUF, CUDA, system memory)",
    plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
