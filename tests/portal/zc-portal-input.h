/* What the portal test needs to see a viewer's input reach an application
 * (or not): zc-input-client's record of the events it received, and a
 * WebSocket viewer of zerocast that speaks Helix's protocol (a text init,
 * then binary input messages whose bytes it writes itself, so a layout
 * bug in the server's own builder cannot hide one in its parser).
 * Every wait iterates the default main context and has a deadline.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ---- zc-input-client, the application ---- */

typedef struct _ZcApp ZcApp;

/* Starts $ZC_BUILD_ROOT/tests/tools/zc-input-client with @env (the
 * desktop's WAYLAND_DISPLAY and XDG_RUNTIME_DIR), its record in @dir,
 * and waits for its first buffer; *width, *height get the size its
 * fullscreen window was given. */
ZcApp *zc_app_start (gchar **env, const gchar *dir, gint *width, gint *height,
    gint64 timeout_us, GError **error);
/* Where the record ends now: lines after it came later. */
gsize zc_app_mark (ZcApp *self);
/* The record from @from on (free it). */
gchar *zc_app_text (ZcApp *self, gsize from);
/* The first line from @from on that starts with @prefix, or NULL when
 * none came within @timeout_us (free it). */
gchar *zc_app_wait_line (
    ZcApp *self, const gchar *prefix, gsize from, gint64 timeout_us);
/* TRUE when a pointer line (ENTER or MOTION) at (x, y) within @tolerance
 * pixels is in the record from @from on. */
gboolean zc_app_has_pointer_at (
    ZcApp *self, gsize from, gdouble x, gdouble y, gdouble tolerance);
/* The position of the last ENTER or MOTION line before the first line
 * from @from on starting with @prefix; FALSE when there is none. */
gboolean zc_app_pointer_before (
    ZcApp *self, gsize from, const gchar *prefix, gdouble *x, gdouble *y);
/* Stops it; NULL is ok. */
void zc_app_stop (ZcApp *self);

/* ---- the viewer ---- */

typedef struct _ZcViewer ZcViewer;

/* The http://127.0.0.1:PORT/ that zerocast's "zerocast: serving URL" line
 * in @log names, or NULL (free it). */
gchar *zc_viewer_base_from_log (const gchar *log);

/* Connects to @base's /ws/stream, sends Helix's init with the reference
 * size @width x @height (the size the client measures pointer positions
 * in) and waits for the text ConnectionComplete. */
ZcViewer *zc_viewer_connect (const gchar *base, gint width, gint height,
    gint64 timeout_us, GError **error);
/* ConnectionComplete's "capabilities" (owned by @self). */
JsonObject *zc_viewer_get_capabilities (ZcViewer *self);
/* Binary input messages: 0x12 absolute pointer at (x, y) of the
 * reference size, 0x11 button (1 left, 2 middle, 3 right), 0x10 evdev
 * keycode, 0x10 keysym, 0x11 wheel. */
void zc_viewer_pointer (ZcViewer *self, gint x, gint y);
void zc_viewer_button (ZcViewer *self, guint button, gboolean down);
void zc_viewer_key (ZcViewer *self, guint16 keycode, gboolean down);
void zc_viewer_keysym (ZcViewer *self, guint32 keysym, gboolean down);
/* 0x11 wheel: @dy notches (+ down), or @dy browser pixels (120 a notch). */
void zc_viewer_wheel (ZcViewer *self, gint8 dy);
void zc_viewer_wheel_smooth (ZcViewer *self, gfloat dy);
/* Whether zerocast still holds the connection open. */
gboolean zc_viewer_is_open (ZcViewer *self);
/* NULL is ok. */
void zc_viewer_free (ZcViewer *self);

/* The value of the counter or gauge @name in @base's /metrics; FALSE with
 * @error when it cannot be read. */
gboolean zc_viewer_metric (
    const gchar *base, const gchar *name, gdouble *value, GError **error);

G_END_DECLS
