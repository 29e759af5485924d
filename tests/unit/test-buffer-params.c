/* Unit tests of the Buffers and Meta params the stream gives PipeWire once
 * a format is agreed: explicit sync (the SyncTimeline meta, PipeWire >= 1.2)
 * is asked for with a DMA-BUF format only, with its two SyncObj blocks, and
 * always after a layout without it is still offered; shared memory never
 * asks for it. tests/element checks the same against a real producer that
 * offers the meta.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-config.h"

#include <gst/gst.h>

#include "zc-stream-private.h"

#include <spa/param/buffers.h>
#include <spa/pod/parser.h>

#define SHM ((1u << SPA_DATA_MemFd) | (1u << SPA_DATA_MemPtr))
#define DMABUF (1u << SPA_DATA_DmaBuf)

typedef struct
{
  guint n_buffers;      /* Buffers params */
  guint n_sync_buffers; /* of them, with metaType SyncTimeline */
  guint n_plain_dmabuf; /* without it, taking DMA-BUF */
  gboolean sync_meta;   /* a Meta param for SyncTimeline */
  gboolean header_meta; /* and the ones every layout has */
  gboolean cursor_meta;
  gint first_sync_index; /* -1: none */
  gint first_plain_index;
} Params;

static void
read_params (guint32 data_types, gboolean dmabuf, Params *p)
{
  guint8 buffer[4096];
  struct spa_pod_builder b = SPA_POD_BUILDER_INIT (buffer, sizeof (buffer));
  const struct spa_pod *params[ZC_STREAM_MAX_BUFFER_PARAMS];
  guint n = zc_stream_build_buffer_params (&b, data_types, dmabuf, params);

  memset (p, 0, sizeof (*p));
  p->first_sync_index = p->first_plain_index = -1;
  g_assert_cmpuint (n, >, 0);
  for (guint i = 0; i < n; i++) {
    const struct spa_pod_object *obj =
        (const struct spa_pod_object *) params[i];

    g_assert_true (spa_pod_is_object (params[i]));
    if (obj->body.id == SPA_PARAM_Buffers) {
      gint32 blocks = 0, types = 0, metas = 0;
      const struct spa_pod_prop *prop;

      p->n_buffers++;
      g_assert_cmpint (
          spa_pod_parse_object (params[i], SPA_TYPE_OBJECT_ParamBuffers, NULL,
              SPA_PARAM_BUFFERS_blocks, SPA_POD_Int (&blocks)),
          >=, 0);
      prop = spa_pod_find_prop (params[i], NULL, SPA_PARAM_BUFFERS_dataType);
      g_assert_nonnull (prop);
      /* A flags choice: its default is the mask. */
      types = *(const gint32 *) SPA_POD_BODY (
          spa_pod_get_values (&prop->value, &(guint32){ 0 }, &(guint32){ 0 }));
#if ZC_HAVE_PW_1_2
      prop = spa_pod_find_prop (params[i], NULL, SPA_PARAM_BUFFERS_metaType);
      if (prop)
        metas = *(const gint32 *) SPA_POD_BODY (spa_pod_get_values (
            &prop->value, &(guint32){ 0 }, &(guint32){ 0 }));
      if (metas & (1 << SPA_META_SyncTimeline)) {
        p->n_sync_buffers++;
        /* The plane, the acquire and the release syncobj. */
        g_assert_cmpint (blocks, ==, 3);
        g_assert_cmphex (types, ==, DMABUF);
        if (p->first_sync_index < 0)
          p->first_sync_index = (gint) i;
        continue;
      }
#endif
      g_assert_cmpint (metas, ==, 0);
      g_assert_cmpint (blocks, ==, 1);
      g_assert_cmphex (types & ~data_types, ==, 0);
      if (types & DMABUF)
        p->n_plain_dmabuf++;
      if (p->first_plain_index < 0)
        p->first_plain_index = (gint) i;
    } else if (obj->body.id == SPA_PARAM_Meta) {
      guint32 type = 0;

      g_assert_cmpint (
          spa_pod_parse_object (params[i], SPA_TYPE_OBJECT_ParamMeta, NULL,
              SPA_PARAM_META_type, SPA_POD_Id (&type)),
          >=, 0);
#if ZC_HAVE_PW_1_2
      if (type == SPA_META_SyncTimeline) {
        gint32 size = 0;

        g_assert_cmpint (
            spa_pod_parse_object (params[i], SPA_TYPE_OBJECT_ParamMeta, NULL,
                SPA_PARAM_META_size, SPA_POD_Int (&size)),
            >=, 0);
        g_assert_cmpint (size, ==, sizeof (struct spa_meta_sync_timeline));
        p->sync_meta = TRUE;
      }
#endif
      p->header_meta |= type == SPA_META_Header;
      p->cursor_meta |= type == SPA_META_Cursor;
    } else {
      g_assert_not_reached ();
    }
  }
}

/* Shared memory, whatever the format: no explicit sync. */
static void
test_shm_no_sync (void)
{
  Params p;

  read_params (SHM, FALSE, &p);
  g_assert_cmpuint (p.n_sync_buffers, ==, 0);
  g_assert_false (p.sync_meta);
  g_assert_true (p.header_meta && p.cursor_meta);
  /* MemFd first, then MemFd|MemPtr, for each buffer count. */
  g_assert_cmpuint (p.n_buffers, ==, 4);

  /* A format with a modifier but no DMA-BUF accepted (cannot happen, but
   * the builder must not ask for syncobjs on shared memory). */
  read_params (SHM, TRUE, &p);
  g_assert_cmpuint (p.n_sync_buffers, ==, 0);
  g_assert_false (p.sync_meta);
}

/* DMA-BUF accepted (cuda mode: with shared memory), but the producer chose
 * a format without a modifier: it sends shared memory, no explicit sync. */
static void
test_dmabuf_accepted_shm_chosen (void)
{
  Params p;

  read_params (SHM | DMABUF, FALSE, &p);
  g_assert_cmpuint (p.n_sync_buffers, ==, 0);
  g_assert_false (p.sync_meta);
  g_assert_cmpuint (p.n_plain_dmabuf, >, 0);
}

/* A DMA-BUF format: explicit sync asked for first, plain layouts after. */
static void
test_dmabuf_sync (void)
{
  static const guint32 types[] = { DMABUF, SHM | DMABUF };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
    Params p;

    read_params (types[i], TRUE, &p);
    g_assert_cmpuint (p.n_plain_dmabuf, >, 0);
#if ZC_HAVE_PW_1_2
    g_assert_cmpuint (p.n_sync_buffers, ==, 2);
    g_assert_true (p.sync_meta);
    g_assert_cmpint (p.first_sync_index, ==, 0);
    g_assert_cmpint (p.first_plain_index, >, p.first_sync_index);
#else
    g_assert_cmpuint (p.n_sync_buffers, ==, 0);
    g_assert_false (p.sync_meta);
#endif
    g_assert_true (p.header_meta && p.cursor_meta);
  }
#if !ZC_HAVE_PW_1_2
  g_test_message ("PipeWire < 1.2 (built against %s) has no SyncTimeline "
                  "meta: checked that none is asked for",
      pw_get_headers_version ());
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/buffer-params/shm-no-sync", test_shm_no_sync);
  g_test_add_func ("/buffer-params/dmabuf-accepted-shm-chosen",
      test_dmabuf_accepted_shm_chosen);
  g_test_add_func ("/buffer-params/dmabuf-sync", test_dmabuf_sync);
  return g_test_run ();
}
