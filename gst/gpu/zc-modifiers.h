/* zerocast GPU library: the DMA-BUF formats and modifiers offered to PipeWire.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure bookkeeping, no EGL: the element fills the table from
 * zc_egl_query_modifiers(), builds its SPA format pods from it, and drops a
 * modifier whose import failed, so the next negotiation does not offer it
 * again.  Formats and modifiers keep the order they were added in (the
 * order EGL reported them, which is its order of preference), without
 * duplicates.  DRM_FORMAT_MOD_INVALID stands for "implicit modifier" (the
 * producer picks a layout the importer must guess); it is always kept last
 * in its format's list, since an explicit modifier is always preferable. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* From drm_fourcc.h, repeated so this header needs no libdrm. */
#define ZC_DRM_FORMAT_MOD_LINEAR G_GUINT64_CONSTANT (0)
#define ZC_DRM_FORMAT_MOD_INVALID G_GUINT64_CONSTANT (0x00ffffffffffffff)

typedef struct _ZcModifiers ZcModifiers;

typedef enum
{
  ZC_MODIFIERS_DROP_NOT_FOUND, /* the pair was not in the table: nothing changed
                                */
  ZC_MODIFIERS_DROP_FORMAT_LEFT, /* the format still has modifiers: renegotiate
                                  */
  ZC_MODIFIERS_DROP_OTHERS_LEFT, /* the format is gone, others remain:
                                    renegotiate */
  ZC_MODIFIERS_DROP_NONE_LEFT, /* no DMA-BUF format left: fall back to MemFd */
} ZcModifiersDrop;

ZcModifiers *zc_modifiers_new (void);
void zc_modifiers_free (ZcModifiers *mods); /* NULL ok */
ZcModifiers *zc_modifiers_copy (const ZcModifiers *mods);

/* Adds one pair; returns FALSE when it was there already (deduped). */
gboolean zc_modifiers_add (
    ZcModifiers *mods, guint32 drm_fourcc, guint64 modifier);

/* Adds what EGL reported for a format (a guint64 GArray, may be NULL or
 * empty), then the implicit modifier when allow_implicit is TRUE (the
 * importer accepts a buffer without a modifier).  A format with no
 * modifier at all after this is not added.  Returns the number of
 * modifiers the format has now. */
guint zc_modifiers_add_array (ZcModifiers *mods, guint32 drm_fourcc,
    const GArray *egl_modifiers, gboolean allow_implicit);

gboolean zc_modifiers_contains (
    const ZcModifiers *mods, guint32 drm_fourcc, guint64 modifier);

/* Formats, in insertion order. */
guint zc_modifiers_get_n_formats (const ZcModifiers *mods);
guint32 zc_modifiers_get_format (const ZcModifiers *mods, guint index);

/* The modifiers of one format, in order; NULL and *n_modifiers = 0 when the
 * format is not in the table.  Valid until the table changes. */
const guint64 *zc_modifiers_get_modifiers (
    const ZcModifiers *mods, guint32 drm_fourcc, guint *n_modifiers);

gboolean zc_modifiers_is_empty (const ZcModifiers *mods);

/* Removes a pair after its import failed and says what is left. */
ZcModifiersDrop zc_modifiers_drop (
    ZcModifiers *mods, guint32 drm_fourcc, guint64 modifier);

/* "AR24:0x0,0x00ffffffffffffff XR24:..." for DEBUG logs; g_free() it. */
gchar *zc_modifiers_to_string (const ZcModifiers *mods);

G_END_DECLS
