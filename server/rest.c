/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The REST front end: IM's REST API (IM/REST.py of IM 1.19.2) on libimc.  One request: CORS
 * headers, OPTIONS, the route, the caller's auth data, then the route's handler. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "rest_int.h"

/* Werkzeug's description, which IM's error handler sends as the message. */
#define NOT_ALLOWED_TEXT "The method is not allowed for the requested URL."

static const rest_fn handlers[REST_NROUTES] = {
#define REST_ROUTE_FN(id, method, pattern, fn, flags) [REST_R_##id] = fn,
  REST_ROUTES(REST_ROUTE_FN)
#undef REST_ROUTE_FN
};

/* IM's after_request hook: every answer carries these when CORS is on. */
static void add_cors(struct rest_ctx *c)
{
  const struct imc_config *cfg = c->d->cfg;

  if (!cfg || !cfg->enable_cors)
    return;
  rest_header(c, "Access-Control-Allow-Origin", cfg->cors_origin);
  rest_header(c, "Access-Control-Allow-Methods", "PUT, GET, POST, DELETE, OPTIONS");
  rest_header(c, "Access-Control-Allow-Headers", "Origin, Accept, Content-Type, Authorization");
}

/* A preflight (or any OPTIONS): Flask's automatic answer on a known path (empty, with
 * Allow), IM's catch-all `{}` elsewhere.  No auth: browsers send none with a preflight. */
static void answer_options(struct rest_ctx *c, char *path)
{
  const struct rest_route *route;
  const char *params[REST_MAX_PARAMS];
  char allow[64];

  if (rest_route_match("OPTIONS", path, &route, params, allow, sizeof allow) == 405) {
    rest_header(c, "Allow", allow);
    rest_send_text(c, "text/plain", "", 0);
  } else {
    rest_send_text(c, "application/json", "{}\n", 3);
  }
}

void rest_handle(struct imcd *d, const struct imcd_request *rq, struct imcd_response *rs)
{
  struct rest_ctx c = {.d = d, .rq = rq, .rs = rs};
  const struct rest_route *route = NULL;
  struct imc_err err;
  char allow[64], *path = imc_strdup(rq->path ? rq->path : "");
  int r;

  imc_auth_init(&c.auth);
  imc_err_clear(&err);
  rest_media_parse(rq->header(rq, "Accept"), &c.accept);
  rs->status = 200;
  snprintf(rs->content_type, sizeof rs->content_type, "text/plain");
  add_cors(&c);
  if (!path) {
    rest_error(&c, 500, "Out of memory");
    goto out;
  }
  if (strcmp(rq->method, "OPTIONS") == 0) {
    answer_options(&c, path);
    goto out;
  }
  r = rest_route_match(rq->method, path, &route, c.params, allow, sizeof allow);
  if (r == 405) {
    rest_header(&c, "Allow", allow);
    rest_error(&c, 405, NOT_ALLOWED_TEXT);
    goto out;
  }
  if (r != 0) {
    rest_error(&c, 404, REST_NOT_FOUND_TEXT);
    goto out;
  }
  c.route = route;
  rs->route_method = route->method;
  rs->route = route->pattern;
  c.what = "Error";
  if (!(route->flags & REST_PUBLIC) &&
      rest_auth_parse(rq->header(rq, "Authorization"), &c.auth, &err) != 0) {
    rest_error(&c, err.code == IMC_E_AUTH ? 401 : 500, "%s", err.msg);
    goto out;
  }
  handlers[route->id](&c);
out:
  if (imc_buf_err(&rs->body)) {
    int code = imc_buf_err(&rs->body);

    imc_buf_reset(&rs->body);
    rest_error(&c, 500, "%s", code == IMC_E_TOOBIG ? "The answer is too large to send"
                                                   : "Out of memory");
  }
  imc_auth_cleanup(&c.auth);
  imc_free(path);
}

bool rest_may_block(const char *method, const char *path)
{
  const struct rest_route *route;
  const char *params[REST_MAX_PARAMS];
  char copy[1024];

  if (strcmp(method, "OPTIONS") == 0)
    return false;
  if (strlen(path) >= sizeof copy)
    return false; /* no route is that long: a 404 */
  memcpy(copy, path, strlen(path) + 1);
  if (rest_route_match(method, copy, &route, params, NULL, 0) != 0)
    return false; /* 404 or 405 */
  return !(route->flags & REST_NOWAIT);
}

/* The routes that start, stop or reboot an infrastructure or a VM, and IM's name of each. */
static const struct {
  enum rest_route_id route;
  enum imc_power op;
  const char *name;
} power_routes[] = {
  {REST_R_INF_START, IMC_POWER_START, "start"},   {REST_R_INF_STOP, IMC_POWER_STOP, "stop"},
  {REST_R_INF_REBOOT, IMC_POWER_REBOOT, "reboot"}, {REST_R_VM_START, IMC_POWER_START, "start"},
  {REST_R_VM_STOP, IMC_POWER_STOP, "stop"},       {REST_R_VM_REBOOT, IMC_POWER_REBOOT, "reboot"},
};

enum imc_power rest_power_op(enum rest_route_id route, const char **name)
{
  size_t i = 0;

  /* Only the power routes' handlers ask, so the route is in the table. */
  while (i + 1 < sizeof power_routes / sizeof *power_routes && power_routes[i].route != route)
    i++;
  *name = power_routes[i].name;
  return power_routes[i].op;
}

/* --- helpers for the handlers ----------------------------------------------------------------- */

bool rest_query_bool(struct rest_ctx *c, const char *name, bool def, bool *out)
{
  const char *v = c->rq->query(c->rq, name);

  *out = def;
  if (!v)
    return true;
  if (rest_parse_bool(v, out))
    return true;
  rest_error(c, 400, "Incorrect value in %s parameter", name);
  return false;
}

bool rest_body_doc(struct rest_ctx *c, struct imc_doc **doc)
{
  char repr[REST_MAX_MEDIA * (REST_MEDIA_LEN * 2 + 4) + 4];
  struct rest_media ct;
  struct imc_err err;
  enum rest_body kind;
  int r;

  *doc = NULL;
  rest_media_parse(c->rq->header(c->rq, "Content-Type"), &ct);
  kind = rest_media_body(&ct);
  if (kind == REST_BODY_UNSUPPORTED) {
    rest_media_repr(&ct, repr, sizeof repr);
    rest_error(c, 415, "Unsupported Media Type %s", repr);
    return false;
  }
  /* TOSCA, by its type or by its text: DECISIONS.md's honest refusal until its issue. */
  if (kind == REST_BODY_TOSCA ||
      (kind == REST_BODY_RADL && imcd_is_tosca(c->rq->body, c->rq->body_len))) {
    rest_error(c, 415, "%s: %s", c->what, IMCD_TOSCA_UNSUPPORTED);
    return false;
  }
  imc_err_clear(&err);
  r = imcd_parse_doc("body", c->rq->body, c->rq->body_len, kind == REST_BODY_JSON, doc, &err);
  if (r == 0)
    return true;
  rest_error(c, r == IMC_E_UNSUPPORTED ? 415 : r == IMC_E_NOMEM ? 500 : 400, "%s: %s", c->what,
             err.msg);
  return false;
}
