/* zerocast server: where the desktop comes from. An existing PipeWire
 * node, a Mutter ScreenCast session owned by this process, the portal, a
 * private headless desktop started for the life of the process, or a test
 * pattern. Opening a source leaves a PipeWire node (and maybe a remote fd)
 * for the pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ZC_SOURCE_NODE,
  ZC_SOURCE_MUTTER,
  ZC_SOURCE_PORTAL,
  ZC_SOURCE_HEADLESS,
  ZC_SOURCE_TEST_PATTERN,
} ZcSourceKind;

typedef struct
{
  ZcSourceKind kind;
  guint32 node_id;          /* NODE */
  const gchar *monitor;     /* MUTTER: connector, NULL = first monitor */
  gboolean virtual_monitor; /* MUTTER: RecordVirtual */
  guint width, height;      /* HEADLESS, virtual MUTTER, TEST_PATTERN */
  guint cursor_mode;        /* 0 hidden, 1 embedded, 2 metadata */
  gint64 timeout_us;        /* for each step of bring-up */
} ZcSourceOptions;

typedef struct _ZcSource ZcSource;

/* Called once in the main context when the desktop goes away (Mutter
 * closed the session or left the bus). */
typedef void (*ZcSourceClosedFunc) (ZcSource *source, gpointer user_data);

/* Opens the source; --headless also exports the private session's
 * XDG_RUNTIME_DIR / PIPEWIRE_RUNTIME_DIR so the pipeline finds its
 * PipeWire. Call before any GStreamer thread runs. */
ZcSource *zc_source_open (const ZcSourceOptions *options, GError **error);

guint32 zc_source_get_node_id (ZcSource *self);
gint zc_source_get_pipewire_fd (ZcSource *self); /* -1 if none */
/* The size the pipeline must ask for (virtual monitors), or 0. */
void zc_source_get_size (ZcSource *self, guint *width, guint *height);
const gchar *zc_source_describe (ZcSource *self);

/* Whether zerocast owns what it streams (--headless: the whole desktop;
 * --mutter: the ScreenCast session) and can therefore re-create it. */
gboolean zc_source_can_restart (ZcSource *self);

/* Re-creates the desktop after a fault: --headless restarts its private
 * desktop (dbus, PipeWire, WirePlumber, Mutter, test window) and opens a
 * new ScreenCast session; --mutter opens a new session on the session bus.
 * The node id (and description) change; the closed function stays. Runs
 * the thread-default main context while it waits. */
gboolean zc_source_restart (ZcSource *self, GError **error);

void zc_source_set_closed_func (
    ZcSource *self, ZcSourceClosedFunc func, gpointer user_data);

/* Ends the session and stops every process the source started; NULL ok. */
void zc_source_close (ZcSource *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZcSource, zc_source_close)

G_END_DECLS
