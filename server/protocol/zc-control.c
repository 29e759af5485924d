/* zerocast server: the init, control and ConnectionComplete JSON.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zc-control.h"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "zc-server-error.h"
#include "zc-wire.h"

static JsonObject *
parse_object (JsonParser *parser, const gchar *text, gsize size,
    const gchar *what, GError **error)
{
  g_autoptr (GError) json_error = NULL;
  JsonNode *root;

  /* json-glib wants valid UTF-8; say so instead of letting it guess. */
  if (!g_utf8_validate (text, size, NULL)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "%s is not UTF-8", what);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, text, size, &json_error)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "%s is not JSON: %s", what, json_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "%s is not a JSON object", what);
    return NULL;
  }
  return json_node_get_object (root);
}

/* A string member, or NULL when absent or of another type (json-glib's
 * getters log a critical for a wrong type; never call them blind). */
static const gchar *
string_member (JsonObject *obj, const gchar *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

/* An optional whole-number member in 0..@max. JSON has one number type:
 * 1920 and 1920.0 are both accepted, 19.5, "1920" and 1e9 are not. */
static gboolean
uint_member (JsonObject *obj, const gchar *name, guint max, guint *out,
    gboolean *present, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  gdouble v;

  if (present)
    *present = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node))
    goto bad;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    v = (gdouble) json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    v = json_node_get_double (node);
  else
    goto bad;
  if (!isfinite (v) || v < 0 || v > max || v != floor (v))
    goto bad;
  *out = (guint) v;
  if (present)
    *present = TRUE;
  return TRUE;

bad:
  g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
      "init: \"%s\" must be a whole number from 0 to %u", name, max);
  return FALSE;
}

gboolean
zc_control_parse_init (
    const gchar *text, gsize size, ZcInitRequest *init, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  const gchar *type;
  guint formats = 0;

  memset (init, 0, sizeof (*init));
  if (size > ZC_CONTROL_MAX_INIT) {
    g_set_error (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "init of %" G_GSIZE_FORMAT " bytes is over the limit of %d", size,
        ZC_CONTROL_MAX_INIT);
    return FALSE;
  }
  obj = parse_object (parser, text, size, "init", error);
  if (obj == NULL)
    return FALSE;
  type = string_member (obj, "type");
  if (type == NULL || !g_str_equal (type, "init")) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "a text message must be the init, {\"type\":\"init\", ...}");
    return FALSE;
  }
  if (!uint_member (
          obj, "width", ZC_CONTROL_MAX_DIMENSION, &init->width, NULL, error)
      || !uint_member (
          obj, "height", ZC_CONTROL_MAX_DIMENSION, &init->height, NULL, error)
      || !uint_member (obj, "fps", ZC_CONTROL_MAX_FPS, &init->fps, NULL, error)
      || !uint_member (obj, "bitrate", ZC_CONTROL_MAX_BITRATE_KBPS,
          &init->bitrate_kbps, NULL, error)
      || !uint_member (obj, "video_supported_formats", G_MAXINT32, &formats,
          &init->has_video_supported_formats, error))
    return FALSE;
  init->video_supported_formats = formats;
  return TRUE;
}

gboolean
zc_control_fit_size (
    guint width, guint height, guint *out_width, guint *out_height)
{
  if (width == 0 || height == 0)
    return FALSE;
  *out_width = CLAMP (width, ZC_CONTROL_MIN_WIDTH, ZC_CONTROL_MAX_WIDTH) & ~1u;
  *out_height =
      CLAMP (height, ZC_CONTROL_MIN_HEIGHT, ZC_CONTROL_MAX_HEIGHT) & ~1u;
  return TRUE;
}

gboolean
zc_control_parse (
    const guint8 *data, gsize size, ZcControlMsg *msg, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GList) members = NULL;
  JsonObject *obj;

  memset (msg, 0, sizeof (*msg));
  if (size < 1 || data[0] != ZC_WIRE_CONTROL) {
    g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
        "not a control message");
    return FALSE;
  }
  obj = parse_object (
      parser, (const gchar *) data + 1, size - 1, "control message", error);
  if (obj == NULL)
    return FALSE;

  members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *node = json_object_get_member (obj, name);

    if (g_str_equal (name, "type")) {
      const gchar *type = string_member (obj, "type");

      if (type == NULL) {
        g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "control message: \"type\" must be a string");
        goto failed;
      }
      if (g_str_equal (type, "keyframe"))
        msg->keyframe = TRUE;
      else if (msg->unknown == NULL)
        msg->unknown = g_strdup_printf ("type \"%s\"", type);
    } else if (g_str_equal (name, "set_video_enabled")) {
      if (!JSON_NODE_HOLDS_VALUE (node)
          || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
        g_set_error_literal (error, ZC_SERVER_ERROR, ZC_SERVER_ERROR_PROTOCOL,
            "control message: \"set_video_enabled\" must be true or false");
        goto failed;
      }
      msg->has_video_enabled = TRUE;
      msg->video_enabled = json_node_get_boolean (node);
    } else if (msg->unknown == NULL) {
      msg->unknown = g_strdup_printf ("\"%s\"", name);
    }
  }
  return TRUE;

failed:
  zc_control_msg_clear (msg);
  return FALSE;
}

void
zc_control_msg_clear (ZcControlMsg *msg)
{
  g_clear_pointer (&msg->unknown, g_free);
}

gchar *
zc_control_connection_complete (const ZcConnectionInfo *info)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ConnectionComplete");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "capabilities");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "touch");
  json_builder_add_boolean_value (b, info->control && info->touch);
  json_builder_set_member_name (b, "pointer");
  json_builder_add_boolean_value (b, info->control && info->pointer);
  json_builder_set_member_name (b, "keyboard");
  json_builder_add_boolean_value (b, info->control && info->keyboard);
  json_builder_set_member_name (b, "control");
  json_builder_add_boolean_value (b, info->control);
  json_builder_set_member_name (b, "input");
  json_builder_add_string_value (b, info->input ? info->input : "none");
  if (info->view_only) {
    json_builder_set_member_name (b, "view_only");
    json_builder_add_string_value (b, info->view_only);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, info->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, info->height);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}
