/* zerocast server: where the desktop comes from. An existing PipeWire
 * node, a Mutter ScreenCast session owned by this process, the portal, a
 * private headless desktop started for the life of the process, or a test
 * pattern. Opening a source leaves a PipeWire node (and maybe a remote fd)
 * for the pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "zc-input.h"

G_BEGIN_DECLS

typedef enum
{
  ZC_SOURCE_NODE,
  ZC_SOURCE_MUTTER,
  ZC_SOURCE_PORTAL,
  ZC_SOURCE_HEADLESS,
  ZC_SOURCE_SWAY, /* a private headless Sway, through its portal */
  ZC_SOURCE_TEST_PATTERN,
} ZcSourceKind;

typedef struct
{
  ZcSourceKind kind;
  guint32 node_id;          /* NODE */
  const gchar *monitor;     /* MUTTER: connector, NULL = first monitor */
  gboolean virtual_monitor; /* MUTTER: RecordVirtual */
  guint width, height;      /* HEADLESS, SWAY, virtual MUTTER, TEST_PATTERN */
  gboolean shell;     /* HEADLESS: GNOME Shell and a terminal, not bare Mutter
                         and the test window */
  guint cursor_mode;  /* 0 hidden, 1 embedded, 2 metadata */
  gint64 timeout_us;  /* for each step of bring-up */
  gboolean view_only; /* MUTTER, HEADLESS: no RemoteDesktop session */
} ZcSourceOptions;

typedef struct _ZcSource ZcSource;

/* Called once in the main context when the desktop goes away (Mutter
 * closed the session or left the bus, the portal closed its session or
 * left the bus). */
typedef void (*ZcSourceClosedFunc) (ZcSource *source, gpointer user_data);

/* Opens the source; --headless also exports the private session's
 * XDG_RUNTIME_DIR / PIPEWIRE_RUNTIME_DIR so the pipeline finds its
 * PipeWire. Call before any GStreamer thread runs. */
ZcSource *zc_source_open (const ZcSourceOptions *options, GError **error);

guint32 zc_source_get_node_id (ZcSource *self);
/* The PipeWire connection for one consumer: a new fd from the portal
 * (PORTAL, SWAY; the caller owns it, one per consumer, since PipeWire
 * clients cannot share a connection), or -1 without an error for the
 * others (the default daemon). */
gboolean zc_source_open_pipewire_fd (ZcSource *self, gint *fd, GError **error);
/* The size the pipeline must ask for (virtual monitors), or 0. */
void zc_source_get_size (ZcSource *self, guint *width, guint *height);
/* Whether the pipeline may ask for another size (a virtual monitor takes
 * the size negotiated on its stream; a test pattern is made at any). */
gboolean zc_source_is_resizable (ZcSource *self);
const gchar *zc_source_describe (ZcSource *self);

/* A new input backend for what is streamed now (Mutter RemoteDesktop
 * linked to the ScreenCast session for --mutter and --headless; --sway:
 * wlroots' virtual pointer and keyboard; --portal: its RemoteDesktop
 * where granted), or NULL where zerocast cannot inject (--node-id, the
 * test pattern, a Mutter without RemoteDesktop, --view-only). The caller
 * owns it. Call again after a restart: the old one belongs to the old
 * session. */
ZcInput *zc_source_create_input (ZcSource *self);
/* Why zc_source_create_input() gave NULL, for the log. */
const gchar *zc_source_no_input_reason (ZcSource *self);

/* Once the pipeline consumes the stream (after zc_pipeline_start, and
 * after each restart): --headless GNOME Shell, whose only monitor is the
 * stream's virtual one, finishes starting (terminal, overview closed).
 * Runs the thread-default main context while it waits; TRUE at once for
 * every other source. FALSE: the desktop hung (restart it). */
gboolean zc_source_finish (ZcSource *self, GError **error);

/* Whether zerocast owns what it streams (--headless, --sway: the whole
 * desktop; --mutter, --portal: the ScreenCast session) and can therefore
 * re-create it. */
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
