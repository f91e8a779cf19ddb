/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to imcd: the server's state, one HTTP request and its answer, and the two API
 * front ends (xmlrpc.c, rest*.c) that turn requests into libimc calls.  http.c owns
 * libmicrohttpd; the front ends never see it. */
#ifndef IMCD_H
#define IMCD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/config.h"
#include "imc/engine.h"
#include "imc/err.h"
#include "imc/model.h"
#include "imc/pool.h"

#define IMCD_MAX_HEADERS 8 /* extra response headers (InfID, Allow, ...) */
#define IMCD_TOSCA_UNSUPPORTED "TOSCA input is not supported by this build"

struct metrics;

struct imcd {
  const struct imc_config *cfg;
  struct imc_engine *engine;
  struct metrics *metrics;   /* NULL: none kept */
  struct imc_pool *blocking; /* http.c's lane for requests that may wait on a cloud */
  /* Requests whose headers arrived and whose answer is not sent yet (not idle connections):
   * http.c counts them for its drain, the metrics show them. */
  atomic_uint in_flight;
};

struct imcd_request {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* without the query string */
  const char *body;   /* NUL-terminated; "" when none */
  size_t body_len;
  const char *request_id; /* for logs */
  /* Headers and query arguments (case-insensitive names for headers). NULL when absent. */
  const char *(*header)(const struct imcd_request *rq, const char *name);
  const char *(*query)(const struct imcd_request *rq, const char *name);
  void *impl; /* http.c's */
};

struct imcd_header {
  char name[48];
  char value[256];
};

struct imcd_response {
  unsigned status;          /* 200 unless set */
  char content_type[64];    /* "text/plain" unless set */
  struct imc_buf body;      /* bounded by the caller */
  struct imcd_header headers[IMCD_MAX_HEADERS];
  size_t nheaders;
  /* For the metrics, set by the front end: the matched route (static strings of its tables;
   * NULL when none matched) and whether the call failed in an answer with a 2xx status. */
  const char *route_method, *route;
  bool failed;
};

/* Adds a response header; false when full or too long. */
bool imcd_add_header(struct imcd_response *rs, const char *name, const char *value);

/* The front ends. */
void xmlrpc_handle(struct imcd *d, const struct imcd_request *rq, struct imcd_response *rs);
void rest_handle(struct imcd *d, const struct imcd_request *rq, struct imcd_response *rs);
/* Whether a request may wait on a cloud: true unless it is one the front end knows to answer
 * from memory or the store (true when unsure).  http.c runs those on the blocking lane. */
bool xmlrpc_may_block(const char *body, size_t len);
bool rest_may_block(const char *method, const char *path);

/* A request body as a document: RADL text, or RADL JSON when json is true.  TOSCA
 * (detected by the caller) never gets here. */
int imcd_parse_doc(const char *source, const char *body, size_t len, bool json,
                   struct imc_doc **out, struct imc_err *err);
/* True when text looks like a TOSCA template (tosca_definitions_version). */
bool imcd_is_tosca(const char *text, size_t len);

#endif
