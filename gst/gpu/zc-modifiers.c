/* zerocast GPU library: the DMA-BUF format/modifier table.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-modifiers.h"

/* A handful of formats with a handful of modifiers each: arrays searched
 * linearly are smaller and easier to read than hash tables. */
typedef struct
{
  guint32 fourcc;
  GArray *modifiers; /* guint64, INVALID (implicit) last if present */
} ZcModifierFormat;

struct _ZcModifiers
{
  GArray *formats; /* ZcModifierFormat, in insertion order */
};

static void
clear_format (gpointer data)
{
  ZcModifierFormat *f = data;

  g_clear_pointer (&f->modifiers, g_array_unref);
}

ZcModifiers *
zc_modifiers_new (void)
{
  ZcModifiers *mods = g_new0 (ZcModifiers, 1);

  mods->formats = g_array_new (FALSE, FALSE, sizeof (ZcModifierFormat));
  g_array_set_clear_func (mods->formats, clear_format);
  return mods;
}

void
zc_modifiers_free (ZcModifiers *mods)
{
  if (mods == NULL)
    return;
  g_array_unref (mods->formats);
  g_free (mods);
}

static ZcModifierFormat *
find_format (const ZcModifiers *mods, guint32 fourcc, guint *index)
{
  for (guint i = 0; i < mods->formats->len; i++) {
    ZcModifierFormat *f = &g_array_index (mods->formats, ZcModifierFormat, i);

    if (f->fourcc == fourcc) {
      if (index)
        *index = i;
      return f;
    }
  }
  return NULL;
}

static gint
find_modifier (const GArray *modifiers, guint64 modifier)
{
  for (guint i = 0; i < modifiers->len; i++)
    if (g_array_index (modifiers, guint64, i) == modifier)
      return (gint) i;
  return -1;
}

ZcModifiers *
zc_modifiers_copy (const ZcModifiers *mods)
{
  ZcModifiers *copy = zc_modifiers_new ();

  for (guint i = 0; i < mods->formats->len; i++) {
    const ZcModifierFormat *f =
        &g_array_index (mods->formats, ZcModifierFormat, i);

    for (guint j = 0; j < f->modifiers->len; j++)
      zc_modifiers_add (
          copy, f->fourcc, g_array_index (f->modifiers, guint64, j));
  }
  return copy;
}

gboolean
zc_modifiers_add (ZcModifiers *mods, guint32 drm_fourcc, guint64 modifier)
{
  ZcModifierFormat *f;
  guint len;

  g_return_val_if_fail (mods != NULL, FALSE);

  f = find_format (mods, drm_fourcc, NULL);
  if (f == NULL) {
    ZcModifierFormat nf = {
      .fourcc = drm_fourcc,
      .modifiers = g_array_new (FALSE, FALSE, sizeof (guint64)),
    };

    g_array_append_val (mods->formats, nf);
    f = &g_array_index (
        mods->formats, ZcModifierFormat, mods->formats->len - 1);
  }

  if (find_modifier (f->modifiers, modifier) >= 0)
    return FALSE;

  /* Keep the implicit modifier last: a producer that can honour an explicit
   * one should pick it, since the importer then knows the layout. */
  len = f->modifiers->len;
  if (modifier != ZC_DRM_FORMAT_MOD_INVALID && len > 0
      && g_array_index (f->modifiers, guint64, len - 1)
          == ZC_DRM_FORMAT_MOD_INVALID)
    g_array_insert_val (f->modifiers, len - 1, modifier);
  else
    g_array_append_val (f->modifiers, modifier);
  return TRUE;
}

guint
zc_modifiers_add_array (ZcModifiers *mods, guint32 drm_fourcc,
    const GArray *egl_modifiers, gboolean allow_implicit)
{
  guint n = 0;

  g_return_val_if_fail (mods != NULL, 0);

  if (egl_modifiers != NULL)
    for (guint i = 0; i < egl_modifiers->len; i++)
      zc_modifiers_add (
          mods, drm_fourcc, g_array_index (egl_modifiers, guint64, i));
  if (allow_implicit)
    zc_modifiers_add (mods, drm_fourcc, ZC_DRM_FORMAT_MOD_INVALID);

  zc_modifiers_get_modifiers (mods, drm_fourcc, &n);
  return n;
}

gboolean
zc_modifiers_contains (
    const ZcModifiers *mods, guint32 drm_fourcc, guint64 modifier)
{
  const ZcModifierFormat *f;

  g_return_val_if_fail (mods != NULL, FALSE);

  f = find_format (mods, drm_fourcc, NULL);
  return f != NULL && find_modifier (f->modifiers, modifier) >= 0;
}

guint
zc_modifiers_get_n_formats (const ZcModifiers *mods)
{
  g_return_val_if_fail (mods != NULL, 0);

  return mods->formats->len;
}

guint32
zc_modifiers_get_format (const ZcModifiers *mods, guint index)
{
  g_return_val_if_fail (mods != NULL, 0);
  g_return_val_if_fail (index < mods->formats->len, 0);

  return g_array_index (mods->formats, ZcModifierFormat, index).fourcc;
}

const guint64 *
zc_modifiers_get_modifiers (
    const ZcModifiers *mods, guint32 drm_fourcc, guint *n_modifiers)
{
  const ZcModifierFormat *f;

  g_return_val_if_fail (mods != NULL, NULL);
  g_return_val_if_fail (n_modifiers != NULL, NULL);

  f = find_format (mods, drm_fourcc, NULL);
  if (f == NULL || f->modifiers->len == 0) {
    *n_modifiers = 0;
    return NULL;
  }
  *n_modifiers = f->modifiers->len;
  return (const guint64 *) f->modifiers->data;
}

gboolean
zc_modifiers_is_empty (const ZcModifiers *mods)
{
  g_return_val_if_fail (mods != NULL, TRUE);

  return mods->formats->len == 0;
}

ZcModifiersDrop
zc_modifiers_drop (ZcModifiers *mods, guint32 drm_fourcc, guint64 modifier)
{
  ZcModifierFormat *f;
  guint index;
  gint pos;

  g_return_val_if_fail (mods != NULL, ZC_MODIFIERS_DROP_NOT_FOUND);

  f = find_format (mods, drm_fourcc, &index);
  if (f == NULL)
    return ZC_MODIFIERS_DROP_NOT_FOUND;
  pos = find_modifier (f->modifiers, modifier);
  if (pos < 0)
    return ZC_MODIFIERS_DROP_NOT_FOUND;

  g_array_remove_index (f->modifiers, (guint) pos);
  if (f->modifiers->len > 0)
    return ZC_MODIFIERS_DROP_FORMAT_LEFT;

  /* A format with no modifier cannot be offered as DMA-BUF at all. */
  g_array_remove_index (mods->formats, index);
  return mods->formats->len > 0 ? ZC_MODIFIERS_DROP_OTHERS_LEFT
                                : ZC_MODIFIERS_DROP_NONE_LEFT;
}

gchar *
zc_modifiers_to_string (const ZcModifiers *mods)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (mods != NULL, g_string_free (s, FALSE));

  for (guint i = 0; i < mods->formats->len; i++) {
    const ZcModifierFormat *f =
        &g_array_index (mods->formats, ZcModifierFormat, i);

    if (i > 0)
      g_string_append_c (s, ' ');
    /* A fourcc is four printable characters, low byte first. */
    g_string_append_printf (s, "%c%c%c%c:", (gchar) (f->fourcc & 0xff),
        (gchar) ((f->fourcc >> 8) & 0xff), (gchar) ((f->fourcc >> 16) & 0xff),
        (gchar) ((f->fourcc >> 24) & 0xff));
    for (guint j = 0; j < f->modifiers->len; j++)
      g_string_append_printf (s, "%s0x%016" G_GINT64_MODIFIER "x",
          j > 0 ? "," : "", g_array_index (f->modifiers, guint64, j));
  }
  return g_string_free (s, FALSE);
}
