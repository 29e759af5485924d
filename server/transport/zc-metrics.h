/* zerocast server: the /metrics page in Prometheus text format.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "zc-fanout.h"
#include "zc-input-client.h"
#include "zc-pipeline.h"

G_BEGIN_DECLS

/* @pipeline may be NULL (not started yet), @input too (no input hub). */
gchar *zc_metrics_format (const ZcFanoutStats *fanout,
    const ZcPipelineStats *pipeline, const ZcInputStats *input);

G_END_DECLS
