/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's HTTP listeners (http.c). */
#ifndef IMCD_HTTP_H
#define IMCD_HTTP_H

#include "imcd.h"

struct http;

/* Listens on the configured XML-RPC and REST addresses and ports (one listener when they
 * share a port), each with a pool of WORKERS threads, bodies bounded by MAX_REQUEST_BODY. */
int http_start(struct imcd *d, struct http **out, struct imc_err *err);
/* Stops accepting, lets the requests in flight finish (up to a bound), then frees. */
void http_stop(struct http *h);

#endif
