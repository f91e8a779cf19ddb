/* SPDX-License-Identifier: GPL-3.0-or-later */
/* REST routes outside /infrastructures: /, /openapi.json, /version, /stats, /clouds. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "metrics.h"
#include "imc/json.h"
#include "rest_int.h"

#define STATS_MAX (64u * 1024 * 1024) /* the CSV text of GET /stats */

/* IM serves its API description at "/"; imc points to it. */
void rest_get_index(struct rest_ctx *c)
{
  rest_send_json(c, NULL,
                 json_pack("{s:s, s:s, s:s}", "name", "imc REST API (IM compatible)", "version",
                           imc_engine_version(), "openapi", "/openapi.json"));
}

void rest_get_openapi(struct rest_ctx *c)
{
  rest_send_text(c, "application/json", (const char *)rest_openapi_json, rest_openapi_json_len);
}

void rest_get_version(struct rest_ctx *c)
{
  enum rest_out how;

  c->what = "Error getting IM version";
  if (rest_negotiate(c, "text/plain", &how))
    rest_send_str(c, how, "text/plain", "version", imc_engine_version());
}

/* Prometheus' text format, when METRICS is on; otherwise the path does not exist (IM has
 * none).  Public, as scrapers expect: it holds counts only, never a name, id or secret. */
void rest_get_metrics(struct rest_ctx *c)
{
  struct imc_engine_counts counts;
  struct imc_err err;

  if (!c->d->cfg->metrics || !c->d->metrics) {
    rest_error(c, 404, REST_NOT_FOUND_TEXT);
    return;
  }
  imc_err_clear(&err);
  if (c->d->engine && imc_engine_counts(c->d->engine, &counts, &err) != 0) {
    rest_error(c, 500, "%s", err.msg);
    return;
  }
  imc_buf_reset(&c->rs->body);
  metrics_render(c->d->metrics,
                 &(struct metrics_view){.engine = c->d->engine ? &counts : NULL,
                                        .blocking = c->d->blocking,
                                        .in_flight = atomic_load(&c->d->in_flight)},
                 &c->rs->body);
  snprintf(c->rs->content_type, sizeof c->rs->content_type,
           "text/plain; version=0.0.4; charset=utf-8");
}

/* One CSV field as Python's csv module writes it (excel dialect, minimal quoting). */
static void csv_field(struct imc_buf *b, json_t *v)
{
  char num[64];
  const char *s = num;

  if (json_is_string(v))
    s = json_string_value(v);
  else if (json_is_integer(v))
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  else if (json_is_real(v))
    radl_float_repr(json_real_value(v), num, sizeof num);
  else if (json_is_boolean(v))
    s = json_is_true(v) ? "True" : "False";
  else
    s = ""; /* None, and anything without a flat form */
  if (!strpbrk(s, ",\"\r\n")) {
    imc_buf_adds(b, s);
    return;
  }
  imc_buf_addc(b, '"');
  for (; *s; s++) {
    if (*s == '"')
      imc_buf_addc(b, '"');
    imc_buf_addc(b, *s);
  }
  imc_buf_addc(b, '"');
}

/* IM's CSV: the keys of the first object as the header, then each object's values. */
static void stats_csv(json_t *list, struct imc_buf *b)
{
  json_t *first = json_array_get(list, 0), *row, *v;
  const char *key;
  size_t i;
  bool sep = false;

  json_object_foreach(first, key, v)
  {
    json_t *k = json_string(key);

    imc_buf_adds(b, sep ? "," : "");
    csv_field(b, k);
    json_decref(k);
    sep = true;
  }
  imc_buf_adds(b, "\r\n");
  json_array_foreach(list, i, row)
  {
    sep = false;
    json_object_foreach(row, key, v)
    {
      imc_buf_adds(b, sep ? "," : "");
      csv_field(b, v);
      sep = true;
    }
    imc_buf_adds(b, "\r\n");
  }
}

/* A date argument ("YYYY-MM-DD" or with '/'); def when absent.  400 when malformed. */
static bool query_date(struct rest_ctx *c, const char *name, const char *def, char out[11],
                       bool *given)
{
  const char *v = c->rq->query(c->rq, name);

  *given = v != NULL || def != NULL;
  if (!v) {
    if (def)
      snprintf(out, 11, "%s", def);
    return true;
  }
  if (rest_parse_date(v, out))
    return true;
  rest_error(c, 400, "Incorrect format in %s parameter: YYYY/MM/dd", name);
  return false;
}

void rest_get_stats(struct rest_ctx *c)
{
  char init[11], end[11];
  struct imc_buf csv;
  struct imc_err err;
  enum rest_out how = REST_OUT_JSON;
  json_t *stats = NULL;
  bool has_init, has_end, as_csv;

  c->what = "Error getting stats";
  imc_err_clear(&err);
  imc_buf_init(&csv, STATS_MAX);
  if (!query_date(c, "init_date", "1970-01-01", init, &has_init) ||
      !query_date(c, "end_date", NULL, end, &has_end))
    goto out;
  /* IM: JSON for no Accept, application/json or * / *; any other Accept asks for CSV, which
   * format_output then serves as text/csv (or 415 when nothing fits). */
  as_csv = c->accept.n > 0 && !rest_media_has(&c->accept, "application/json") &&
           !rest_media_has(&c->accept, "*/*");
  if (imc_stats(c->d->engine, init, has_end ? end : NULL, &c->auth, &stats, &err) != 0) {
    rest_fail(c, &err);
    goto out;
  }
  if (as_csv && !rest_negotiate(c, "text/csv", &how))
    goto out;
  if (!as_csv) {
    rest_send_json(c, "stats", stats);
    stats = NULL;
    goto out;
  }
  stats_csv(stats, &csv);
  if (imc_buf_err(&csv))
    rest_error(c, 500, "The statistics are too large to send");
  else if (how == REST_OUT_JSON)
    rest_send_json(c, "stats", imc_json_textn(imc_buf_cstr(&csv), csv.len));
  else
    rest_send_text(c, "text/csv", imc_buf_cstr(&csv), csv.len);
out:
  json_decref(stats);
  imc_buf_free(&csv);
}

/* A JSON string of s; NULL is "". */
void rest_get_cloud_images(struct rest_ctx *c)
{
  const char *text = c->rq->query(c->rq, "filters");
  struct imc_image *images = NULL;
  struct imc_auth filters;
  struct imc_err err;
  enum rest_out how;
  json_t *list = NULL;
  size_t n = 0;

  c->what = "Error getting cloud info";
  imc_err_clear(&err);
  imc_auth_init(&filters);
  if (text && !rest_parse_filters(text, &filters)) {
    rest_error(c, 400, "Invalid format in filters parameter.");
    goto out;
  }
  if (imc_cloud_images(c->d->engine, c->params[0], text ? &filters.entries[0] : NULL, &c->auth,
                       &images, &n, &err) != 0) {
    rest_fail(c, &err);
    goto out;
  }
  if (!rest_negotiate(c, "application/json", &how))
    goto out;
  list = imc_images_json(images, n);
  rest_send_json(c, "images", list);
out:
  imc_images_free(images, n);
  imc_auth_cleanup(&filters);
}

void rest_get_cloud_quotas(struct rest_ctx *c)
{
  struct imc_quota quotas[IMC_MAX_QUOTAS];
  struct imc_err err;
  enum rest_out how;
  json_t *obj;
  size_t n = 0;

  c->what = "Error getting cloud info";
  imc_err_clear(&err);
  if (imc_cloud_quotas(c->d->engine, c->params[0], &c->auth, quotas, &n, &err) != 0) {
    rest_fail(c, &err);
    return;
  }
  if (!rest_negotiate(c, "application/json", &how))
    return;
  obj = imc_quotas_json(quotas, n);
  rest_send_json(c, "quotas", obj);
}

void rest_get_cloud_other(struct rest_ctx *c)
{
  rest_error(c, 404, "Incorrect cloud property");
}
