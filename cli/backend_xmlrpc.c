/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The XML-RPC backend: im-client's operations as calls to an IM server's XML-RPC API (IM
 * 1.19.2's methods, as imcd serves them), with xmlrpc-c's client over libcurl.  The auth data
 * is IM's array of structs; every answer is IM's pair [true, value] or [false, message]. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xmlrpc-c/base.h>
#include <xmlrpc-c/client.h>

#include "backend.h"
#include "imc/alloc.h"
#include "imc/vm.h"

/* xmlrpc-c's XMLRPC_CPSIZE and XMLRPC_CXPSIZE, without their member access through a null
 * pointer (undefined behaviour, which UBSan reports): the size of a parameter struct up to
 * and including member. */
#define PARM_SIZE(type, member) \
  (unsigned)(offsetof(struct type, member) + sizeof(((struct type){0}).member))

struct xr {
  const char *url; /* borrowed from the command line */
  xmlrpc_client *client;
  xmlrpc_server_info *server;
  xmlrpc_value *auth; /* IM's auth parameter, built once */
};

static int env_fail(xmlrpc_env *env, const char *url, struct imc_err *err)
{
  int r = imc_fail(err, IMC_E_IO, "%s: %s", url, env->fault_string);

  xmlrpc_env_clean(env);
  return r;
}

/* Calls method with params (stolen) and returns IM's value (a new reference) in *value, or
 * IM's message as the error. */
static int call(struct xr *x, const char *method, xmlrpc_value *params, xmlrpc_value **value,
                struct imc_err *err)
{
  xmlrpc_env env;
  xmlrpc_value *result = NULL, *flag = NULL, *v = NULL;
  xmlrpc_bool ok = 0;
  int r = 0;

  *value = NULL;
  xmlrpc_env_init(&env);
  xmlrpc_client_call2(&env, x->client, x->server, method, params, &result);
  xmlrpc_DECREF(params);
  if (env.fault_occurred)
    return env_fail(&env, x->url, err);
  if (xmlrpc_value_type(result) != XMLRPC_TYPE_ARRAY || xmlrpc_array_size(&env, result) != 2) {
    r = imc_fail(err, IMC_E_IO, "the server's answer is not IM's [success, value] pair");
    goto out;
  }
  xmlrpc_array_read_item(&env, result, 0, &flag);
  xmlrpc_array_read_item(&env, result, 1, &v);
  if (!env.fault_occurred)
    xmlrpc_read_bool(&env, flag, &ok);
  if (env.fault_occurred) {
    r = imc_fail(err, IMC_E_IO, "the server's answer is not IM's [success, value] pair");
  } else if (!ok) {
    const char *msg = NULL;

    xmlrpc_read_string(&env, v, &msg);
    r = imc_fail(err, IMC_E_IO, "%s", env.fault_occurred ? "the server said no" : msg);
    imc_free((void *)msg); /* xmlrpc-c's allocation (malloc) */
  } else {
    *value = v;
    v = NULL;
  }
out:
  if (flag)
    xmlrpc_DECREF(flag);
  if (v)
    xmlrpc_DECREF(v);
  if (result)
    xmlrpc_DECREF(result);
  xmlrpc_env_clean(&env);
  return r;
}

/* A parameter array: the strings (NULL ends them), then the auth when with_auth. */
static xmlrpc_value *params_of(struct xr *x, const char *const *strs, bool with_auth)
{
  xmlrpc_env env;
  xmlrpc_value *a, *item;

  xmlrpc_env_init(&env);
  a = xmlrpc_array_new(&env);
  for (size_t i = 0; !env.fault_occurred && strs && strs[i]; i++) {
    item = xmlrpc_string_new(&env, strs[i]);
    if (!env.fault_occurred) {
      xmlrpc_array_append_item(&env, a, item);
      xmlrpc_DECREF(item);
    }
  }
  if (!env.fault_occurred && with_auth)
    xmlrpc_array_append_item(&env, a, x->auth);
  if (env.fault_occurred && a) {
    xmlrpc_DECREF(a);
    a = NULL;
  }
  xmlrpc_env_clean(&env);
  return a;
}

static void append_bool(xmlrpc_value *a, bool b)
{
  xmlrpc_env env;
  xmlrpc_value *v;

  xmlrpc_env_init(&env);
  v = xmlrpc_bool_new(&env, b);
  if (!env.fault_occurred) {
    xmlrpc_array_append_item(&env, a, v);
    xmlrpc_DECREF(v);
  }
  xmlrpc_env_clean(&env);
}

/* A string answer appended to out. */
static int string_call(struct xr *x, const char *method, xmlrpc_value *params,
                       struct imc_buf *out, struct imc_err *err)
{
  xmlrpc_env env;
  xmlrpc_value *v;
  const char *s = NULL;
  size_t len = 0;
  int r;

  if (!params)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if ((r = call(x, method, params, &v, err)) != 0)
    return r;
  xmlrpc_env_init(&env);
  xmlrpc_read_string_lp(&env, v, &len, &s);
  if (env.fault_occurred)
    r = imc_fail(err, IMC_E_IO, "%s answered something that is not a string", method);
  else
    imc_buf_add(out, s, len);
  imc_free((void *)s); /* xmlrpc-c's allocation (malloc) */
  xmlrpc_DECREF(v);
  xmlrpc_env_clean(&env);
  return r;
}

/* An array of strings answer. */
static int strings_call(struct xr *x, const char *method, xmlrpc_value *params,
                        struct imc_strs *out, struct imc_err *err)
{
  xmlrpc_env env;
  xmlrpc_value *v;
  int n, r;

  memset(out, 0, sizeof *out);
  if (!params)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if ((r = call(x, method, params, &v, err)) != 0)
    return r;
  xmlrpc_env_init(&env);
  n = xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY ? xmlrpc_array_size(&env, v) : -1;
  if (n < 0 || env.fault_occurred)
    r = imc_fail(err, IMC_E_IO, "%s answered something that is not a list", method);
  else if (n > 0 && !(out->v = imc_calloc((size_t)n, sizeof *out->v)))
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (int i = 0; r == 0 && i < n; i++) {
    xmlrpc_value *item = NULL;
    const char *s = NULL;

    xmlrpc_array_read_item(&env, v, (unsigned)i, &item);
    if (!env.fault_occurred)
      xmlrpc_read_string(&env, item, &s);
    if (env.fault_occurred)
      r = imc_fail(err, IMC_E_IO, "%s answered a list of something else", method);
    else if (!(out->v[out->n++] = imc_strdup(s)))
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
    imc_free((void *)s); /* xmlrpc-c's allocation (malloc) */
    if (item)
      xmlrpc_DECREF(item);
  }
  if (r)
    imc_strs_free(out);
  xmlrpc_DECREF(v);
  xmlrpc_env_clean(&env);
  return r;
}

static int x_list(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err)
{
  struct xr *x = ctx;
  xmlrpc_value *p = params_of(x, NULL, true);

  if (p && filter) {
    xmlrpc_env env;
    xmlrpc_value *f;

    xmlrpc_env_init(&env);
    f = xmlrpc_string_new(&env, filter);
    if (!env.fault_occurred) {
      xmlrpc_array_append_item(&env, p, f);
      xmlrpc_DECREF(f);
    }
    xmlrpc_env_clean(&env);
  }
  return strings_call(x, "GetInfrastructureList", p, ids, err);
}

static int x_create(void *ctx, const struct imc_doc *doc, const char *text, size_t len,
                    char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct xr *x = ctx;
  struct imc_buf b;
  char *copy = imc_strndup(text, len);
  const char *strs[] = {copy, NULL};
  int r;

  if (!copy)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  imc_buf_init(&b, IMC_INFRA_ID_MAX);
  r = string_call(x, "CreateInfrastructure", params_of(x, strs, true), &b, err);
  if (r == 0 && (imc_buf_err(&b) || b.len == 0))
    r = imc_fail(err, IMC_E_IO, "the server's answer is not an infrastructure id");
  if (r == 0)
    memcpy(id, b.data, b.len + 1);
  imc_buf_free(&b);
  imc_free(copy);
  return r;
}

static int x_destroy(void *ctx, const char *id, bool force, struct imc_err *err)
{
  struct xr *x = ctx;
  const char *strs[] = {id, NULL};
  xmlrpc_value *p = params_of(x, strs, true);
  struct imc_buf b;
  int r;

  if (p)
    append_bool(p, force);
  imc_buf_init(&b, 4096);
  r = string_call(x, "DestroyInfrastructure", p, &b, err);
  imc_buf_free(&b);
  return r;
}

static int x_info(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct xr *x = ctx;
  const char *strs[] = {id, NULL};
  struct imc_strs ids;
  int r = strings_call(x, "GetInfrastructureInfo", params_of(x, strs, true), &ids, err);

  memset(vms, 0, sizeof *vms);
  if (r == 0)
    r = cli_vm_ids_of(&ids, vms, err);
  imc_strs_free(&ids);
  return r;
}

static int x_vm_radl(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                     struct imc_err *err)
{
  char num[16];
  const char *strs[] = {id, num, NULL};

  snprintf(num, sizeof num, "%u", vm);
  return string_call(ctx, "GetVMInfo", params_of(ctx, strs, true), out, err);
}

static int x_radl(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  const char *strs[] = {id, NULL};

  return string_call(ctx, "GetInfrastructureRADL", params_of(ctx, strs, true), out, err);
}

static int x_contmsg(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  const char *strs[] = {id, NULL};

  return string_call(ctx, "GetInfrastructureContMsg", params_of(ctx, strs, true), out, err);
}

/* A state name from a struct member; -1 when absent or unknown. */
static int state_member(xmlrpc_env *env, xmlrpc_value *s, const char *key)
{
  xmlrpc_value *v = NULL;
  const char *name = NULL;
  int state = -1;

  xmlrpc_struct_find_value(env, s, key, &v);
  if (!env->fault_occurred && v)
    xmlrpc_read_string(env, v, &name);
  if (!env->fault_occurred && name)
    state = imc_vm_state_parse(name);
  imc_free((void *)name); /* xmlrpc-c's allocation (malloc) */
  if (v)
    xmlrpc_DECREF(v);
  return state;
}

static int x_state(void *ctx, const char *id, struct imc_infra_state *st, struct imc_err *err)
{
  struct xr *x = ctx;
  const char *strs[] = {id, NULL};
  xmlrpc_value *v, *vms = NULL;
  xmlrpc_env env;
  int r, state, n = 0;

  memset(st, 0, sizeof *st);
  if ((r = call(x, "GetInfrastructureState", params_of(x, strs, true), &v, err)) != 0)
    return r;
  xmlrpc_env_init(&env);
  state = xmlrpc_value_type(v) == XMLRPC_TYPE_STRUCT ? state_member(&env, v, "state") : -1;
  if (state >= 0)
    xmlrpc_struct_find_value(&env, v, "vm_states", &vms);
  if (vms && !env.fault_occurred)
    n = xmlrpc_struct_size(&env, vms);
  if (state < 0 || !vms || env.fault_occurred || n < 0) {
    r = imc_fail(err, IMC_E_IO, "the server's state answer is not IM's");
    goto out;
  }
  st->state = (enum imc_vm_state)state;
  if (n > 0 && (!(st->vm_ids = imc_calloc((size_t)n, sizeof *st->vm_ids)) ||
                !(st->vm_states = imc_calloc((size_t)n, sizeof *st->vm_states)))) {
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < n; i++) {
    xmlrpc_value *key = NULL, *val = NULL;
    const char *k = NULL, *s = NULL;
    unsigned vm = 0;
    bool number = false;
    int vs = -1;

    xmlrpc_struct_read_member(&env, vms, (unsigned)i, &key, &val);
    if (!env.fault_occurred)
      xmlrpc_read_string(&env, key, &k);
    if (!env.fault_occurred)
      xmlrpc_read_string(&env, val, &s);
    if (!env.fault_occurred) {
      number = cli_parse_vm_id(k, &vm);
      vs = imc_vm_state_parse(s);
    }
    imc_free((void *)k); /* xmlrpc-c's allocations (malloc) */
    imc_free((void *)s);
    if (key)
      xmlrpc_DECREF(key);
    if (val)
      xmlrpc_DECREF(val);
    if (env.fault_occurred || !number || vs < 0) {
      r = imc_fail(err, IMC_E_IO, "the server's state answer is not IM's");
      goto out;
    }
    cli_state_add(st, vm, (enum imc_vm_state)vs);
  }
out:
  if (r)
    imc_infra_state_free(st);
  if (vms)
    xmlrpc_DECREF(vms);
  xmlrpc_DECREF(v);
  xmlrpc_env_clean(&env);
  return r;
}

static int x_version(void *ctx, struct imc_buf *out, struct imc_err *err)
{
  return string_call(ctx, "GetVersion", params_of(ctx, NULL, false), out, err);
}

static void x_close(void *ctx)
{
  struct xr *x = ctx;

  if (!x)
    return;
  if (x->auth)
    xmlrpc_DECREF(x->auth);
  if (x->server)
    xmlrpc_server_info_free(x->server);
  if (x->client)
    xmlrpc_client_destroy(x->client);
  imc_free(x);
  xmlrpc_client_teardown_global_const();
}

/* IM's auth parameter: one struct per entry, its keys and values as strings. */
static xmlrpc_value *auth_param(xmlrpc_env *env, const struct imc_auth *auth)
{
  xmlrpc_value *list = xmlrpc_array_new(env);

  for (size_t i = 0; !env->fault_occurred && i < auth->n; i++) {
    xmlrpc_value *s = xmlrpc_struct_new(env);

    for (size_t k = 0; !env->fault_occurred && k < auth->entries[i].n; k++) {
      xmlrpc_value *v = xmlrpc_string_new(env, auth->entries[i].kv[k].value);

      if (!env->fault_occurred) {
        xmlrpc_struct_set_value(env, s, auth->entries[i].kv[k].key, v);
        xmlrpc_DECREF(v);
      }
    }
    if (!env->fault_occurred)
      xmlrpc_array_append_item(env, list, s);
    if (s)
      xmlrpc_DECREF(s);
  }
  return list;
}

int cli_backend_xmlrpc(const char *url, const struct imc_auth *auth, bool verify,
                       struct cli_backend *out, struct imc_err *err)
{
  struct xr *x = imc_calloc(1, sizeof *x);
  struct xmlrpc_curl_xportparms curl = {.no_ssl_verifypeer = !verify,
                                        .no_ssl_verifyhost = !verify};
  struct xmlrpc_clientparms parms = {.transport = "curl",
                                     .transportparmsP = &curl,
                                     .transportparm_size = PARM_SIZE(xmlrpc_curl_xportparms,
                                                                     no_ssl_verifyhost)};
  xmlrpc_env env;
  int r = 0;

  if (!x)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
    imc_free(x);
    return imc_fail(err, IMC_E_INVAL, "-u needs an http:// or https:// URL");
  }
  x->url = url;
  xmlrpc_env_init(&env);
  xmlrpc_client_setup_global_const(&env);
  if (!env.fault_occurred)
    xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "imc", "1", &parms,
                         PARM_SIZE(xmlrpc_clientparms, transportparm_size), &x->client);
  if (!env.fault_occurred)
    x->server = xmlrpc_server_info_new(&env, url);
  if (!env.fault_occurred)
    x->auth = auth_param(&env, auth);
  if (env.fault_occurred) {
    r = env_fail(&env, url, err);
    x_close(x);
    return r;
  }
  xmlrpc_env_clean(&env);
  *out = (struct cli_backend){x,         x_list,    x_create,  x_destroy, x_info, x_vm_radl,
                              x_radl,    x_contmsg, x_state,   x_version, x_close};
  return 0;
}
