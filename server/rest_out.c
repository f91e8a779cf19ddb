/* SPDX-License-Identifier: GPL-3.0-or-later */
/* REST answers in IM's shapes: format_output (the default type, or JSON wrapped as
 * {field: value}) and return_error (plain, JSON or HTML), with IM's status per error code. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/utf8.h"
#include "imc/log.h"
#include "imc/json.h"
#include "rest_int.h"

#define REST_MAX_MESSAGE (16u * 1024) /* one error message */
/* Python's json.dumps: ASCII only, ", " and ": " between items (jansson's default). */
#define REST_JSON_FLAGS (JSON_ENSURE_ASCII | JSON_REAL_PRECISION(16))

static const char html_error[] =
  "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n"
  "<html>\n"
  "    <head>\n"
  "        <title>Error %u.</title>\n"
  "    </head>\n"
  "    <body>\n"
  "        <h1>Code: %u.</h1>\n"
  "        <h1>Message: %s</h1>\n"
  "    </body>\n"
  "</html>\n";

/* IM's status for each code (its exception classes); every other error is a 400. */
static const struct {
  enum imc_code code;
  unsigned status;
} status_table[] = {
  {IMC_E_AUTH, 401},
  {IMC_E_FORBIDDEN, 403},
  {IMC_E_NOTFOUND, 404},
  {IMC_E_CONFLICT, 409},
};

unsigned rest_status_of(enum imc_code code)
{
  for (size_t i = 0; i < sizeof status_table / sizeof *status_table; i++)
    if (status_table[i].code == code)
      return status_table[i].status;
  return 400;
}

static void set_type(struct rest_ctx *c, const char *type)
{
  snprintf(c->rs->content_type, sizeof c->rs->content_type, "%s", type);
}

static int dump_to_buf(const char *data, size_t len, void *ctx)
{
  struct imc_buf *b = ctx;

  imc_buf_add(b, data, len);
  return imc_buf_err(b) ? -1 : 0;
}

/* Replaces the body by v's JSON text (v stolen). */
static void body_json(struct rest_ctx *c, json_t *v)
{
  imc_buf_reset(&c->rs->body);
  if (!v || json_dump_callback(v, dump_to_buf, &c->rs->body, REST_JSON_FLAGS) != 0) {
    if (!imc_buf_err(&c->rs->body))
      c->rs->body.err = IMC_E_NOMEM;
  }
  json_decref(v);
  set_type(c, "application/json");
}

static void html_escaped(struct imc_buf *b, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<': imc_buf_adds(b, "&lt;"); break;
    case '>': imc_buf_adds(b, "&gt;"); break;
    case '&': imc_buf_adds(b, "&amp;"); break;
    case '"': imc_buf_adds(b, "&quot;"); break;
    default: imc_buf_addc(b, *s); break;
    }
  }
}

void rest_error(struct rest_ctx *c, unsigned status, const char *fmt, ...)
{
  struct imc_buf msg, esc;
  const char *text;
  va_list ap;

  imc_buf_init(&msg, REST_MAX_MESSAGE);
  va_start(ap, fmt);
  imc_buf_vaddf(&msg, fmt, ap);
  va_end(ap);
  text = imc_buf_err(&msg) ? "Error message too long" : imc_buf_cstr(&msg);
  c->rs->status = status;
  imc_buf_reset(&c->rs->body);
  if (rest_media_has(&c->accept, "application/json")) {
    body_json(c, json_pack("{s:o, s:I}", "message", imc_json_textn(text, strlen(text)), "code",
                           (json_int_t)status));
  } else if (rest_media_has(&c->accept, "text/html")) {
    imc_buf_init(&esc, REST_MAX_MESSAGE * 6);
    html_escaped(&esc, text);
    imc_buf_addf(&c->rs->body, html_error, status, status, imc_buf_cstr(&esc));
    imc_buf_free(&esc);
    set_type(c, "text/html");
  } else {
    imc_buf_adds(&c->rs->body, text);
    set_type(c, "text/plain");
  }
  imc_buf_free(&msg);
}

void rest_fail(struct rest_ctx *c, const struct imc_err *err)
{
  unsigned status = rest_status_of(err->code);

  if (err->code == IMC_E_NOMEM || err->code == IMC_E_INTERNAL)
    imc_log(IMC_LOG_ERROR, "request %s: %s %s: %s", c->rq->request_id ? c->rq->request_id : "-",
            c->rq->method, c->route ? c->route->pattern : "?", imc_code_name(err->code));
  rest_error(c, status, "%s: %s", c->what, err->msg[0] ? err->msg : imc_code_name(err->code));
}

bool rest_negotiate(struct rest_ctx *c, const char *default_type, enum rest_out *out)
{
  char list[REST_MAX_MEDIA * (REST_MEDIA_LEN + 1)];
  size_t len = 0;

  *out = rest_media_choose(&c->accept, default_type);
  if (*out != REST_OUT_NONE)
    return true;
  list[0] = '\0';
  for (size_t i = 0; i < c->accept.n; i++) {
    size_t n = strlen(c->accept.v[i]);

    if (i > 0)
      list[len++] = ',';
    memcpy(list + len, c->accept.v[i], n + 1);
    len += n;
  }
  rest_error(c, 415, "Unsupported Accept Media Types: %s", list);
  return false;
}

bool rest_want_json(struct rest_ctx *c)
{
  char repr[REST_MAX_MEDIA * (REST_MEDIA_LEN * 2 + 4) + 4];

  if (rest_media_json_ok(&c->accept))
    return true;
  rest_media_repr(&c->accept, repr, sizeof repr);
  rest_error(c, 415, "Unsupported Accept Media Types: %s", repr);
  return false;
}

void rest_send_text(struct rest_ctx *c, const char *content_type, const char *text, size_t len)
{
  imc_buf_reset(&c->rs->body);
  imc_buf_add(&c->rs->body, text, len);
  set_type(c, content_type);
}

void rest_send_json(struct rest_ctx *c, const char *field, json_t *v)
{
  if (field && v)
    v = json_pack("{s:o}", field, v);
  body_json(c, v);
}

/* Whether the chosen shape is JSON: asked for, or the route's default. */
static bool as_json(enum rest_out how, const char *default_type)
{
  return how == REST_OUT_JSON || strcmp(default_type, "application/json") == 0;
}

void rest_send_str(struct rest_ctx *c, enum rest_out how, const char *default_type,
                   const char *field, const char *text)
{
  if (as_json(how, default_type))
    rest_send_json(c, field, imc_json_textn(text, strlen(text)));
  else
    rest_send_text(c, default_type, text, strlen(text));
}

void rest_send_list(struct rest_ctx *c, enum rest_out how, const char *default_type,
                    const char *field, const char *list_field, const char *const *v, size_t n)
{
  json_t *arr;

  if (!as_json(how, default_type)) {
    imc_buf_reset(&c->rs->body);
    for (size_t i = 0; i < n; i++) {
      if (i > 0)
        imc_buf_addc(&c->rs->body, '\n');
      imc_buf_adds(&c->rs->body, v[i]);
    }
    set_type(c, default_type);
    return;
  }
  arr = json_array();
  for (size_t i = 0; arr && i < n; i++) {
    json_t *s = imc_json_textn(v[i], strlen(v[i]));

    if (list_field && s)
      s = json_pack("{s:o}", list_field, s);
    if (!s || json_array_append_new(arr, s) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  rest_send_json(c, field, arr);
}

void rest_header(struct rest_ctx *c, const char *name, const char *value)
{
  if (!imcd_add_header(c->rs, name, value))
    rest_error(c, 500, "Response header %s could not be added", name);
}

/* The URL root of this request, then tail. */
static char *uri_of(const struct rest_ctx *c, const char *tail)
{
  const struct imcd_request *rq = c->rq;
  const struct imc_config *cfg = c->d->cfg;
  const struct rest_forwarded f = {
    .proto = rq->header(rq, "X-Forwarded-Proto"),
    .host = rq->header(rq, "X-Forwarded-Host"),
    .port = rq->header(rq, "X-Forwarded-Port"),
    .prefix = rq->header(rq, "X-Forwarded-Prefix"),
    .host_header = rq->header(rq, "Host"),
  };
  char root[1024];
  struct imc_buf b;

  if (!rest_url_root(&f, cfg->rest_ssl, cfg->rest_address, cfg->rest_port, root, sizeof root))
    return NULL;
  imc_buf_init(&b, 4096);
  imc_buf_adds(&b, root);
  imc_buf_adds(&b, tail);
  if (imc_buf_err(&b)) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

char *rest_infra_uri(const struct rest_ctx *c, const char *id)
{
  char tail[IMC_INFRA_ID_MAX + 32];

  snprintf(tail, sizeof tail, "infrastructures/%s", id);
  return uri_of(c, tail);
}

char *rest_vm_uri(const struct rest_ctx *c, const char *id, unsigned vm)
{
  char tail[IMC_INFRA_ID_MAX + 48];

  snprintf(tail, sizeof tail, "infrastructures/%s/vms/%u", id, vm);
  return uri_of(c, tail);
}
