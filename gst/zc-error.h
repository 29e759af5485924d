/* zerocast: the project's GError domain.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ZC_ERROR (zc_error_quark ())
GQuark zc_error_quark (void);

typedef enum
{
  ZC_ERROR_FAILED,
  ZC_ERROR_NO_DAEMON,      /* cannot reach the PipeWire daemon */
  ZC_ERROR_NO_NODE,        /* the node does not exist or went away */
  ZC_ERROR_NOT_NEGOTIATED, /* no format both sides can take */
  ZC_ERROR_UNSUPPORTED,    /* asked for something this build/host cannot do */
  ZC_ERROR_STREAM,         /* PipeWire stream error at run time */
} ZcError;

G_END_DECLS
