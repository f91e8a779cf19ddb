/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to xmlrpc*.c: reading call arguments and building results with xmlrpc-c. */
#ifndef IMCD_XMLRPC_INT_H
#define IMCD_XMLRPC_INT_H

#include <jansson.h>
#include <xmlrpc-c/base.h>

#include "imcd.h"

#define XR_MAX_ARGS 4

/* The arguments of one call, read by a format (xr_args_read): s string, b boolean, A the
 * caller's auth, N a second auth, I VM ids, F a struct of filters; after '|' optional. */
struct xr_args {
  char *s[XR_MAX_ARGS]; /* in order of the 's' in the format */
  bool b[XR_MAX_ARGS];  /* in order of the 'b'; false when not given */
  struct imc_auth auth, auth2;
  struct imc_vm_ids ids;
  size_t cap_ids;
  xmlrpc_value *filters;
  int given; /* how many parameters the call had */
};

int xr_args_read(xmlrpc_env *env, xmlrpc_value *params, const char *fmt, struct xr_args *a,
                 struct imc_err *err);
void xr_args_cleanup(struct xr_args *a);
/* IM's auth parameter: an array of structs, one per auth line. */
int xr_auth(xmlrpc_env *env, xmlrpc_value *v, struct imc_auth *out, struct imc_err *err);
/* A JSON value as XML-RPC (objects as structs, integers as int or i8, null as nil). */
xmlrpc_value *xr_json(xmlrpc_env *env, const json_t *j, int depth);
/* A struct of filters as one auth entry appended to holder; *out NULL when s is NULL. */
int xr_filters(xmlrpc_env *env, xmlrpc_value *s, struct imc_auth *holder,
               const struct imc_auth_entry **out, struct imc_err *err);

/* False when an <i8> value would crash Debian's xmlrpc-c (xmlrpc_values.c says why). */
bool xr_i8_safe(const char *body, size_t len);

#endif
