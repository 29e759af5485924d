/* Reading zc-input-client's record (one line per event: "MOTION x y",
 * "BUTTON 272 PRESSED", "KEY 30 0x61 a RELEASED", ...), shared by the
 * input tests that run it. Only complete lines count: the client may be
 * writing the last one.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE with its position if @line is "ENTER x y" or "MOTION x y". */
gboolean zc_input_log_pointer (const gchar *line, gdouble *x, gdouble *y);

/* TRUE if a pointer line comes in @text before the first line starting
 * with @prefix (which must be there): @x, @y are the last such position,
 * where the pointer was when that event came. */
gboolean zc_input_log_pointer_before (
    const gchar *text, const gchar *prefix, gdouble *x, gdouble *y);

/* The keys in @text in order, as "a+ a- b+ b-" (keysym name, + pressed,
 * - released); @n is how many. Free the result. */
gchar *zc_input_log_keys (const gchar *text, guint *n);

G_END_DECLS
