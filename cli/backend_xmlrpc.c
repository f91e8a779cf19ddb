/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The XML-RPC backend: im-client's operations as calls to an IM server's XML-RPC API (IM
 * 1.19.2's methods, as imcd serves them), with xmlrpc-c's client over libcurl.  The auth data
 * is IM's array of structs; every answer is IM's pair [true, value] or [false, message]. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmlrpc-c/base.h>
#include <xmlrpc-c/client.h>

#include "backend.h"
#include "imc/alloc.h"
#include "imc/json.h"
#include "imc/radl.h"
#include "imc/vm.h"

/* xmlrpc-c's XMLRPC_CPSIZE and XMLRPC_CXPSIZE, without their member access through a null
 * pointer (undefined behaviour, which UBSan reports): the size of a parameter struct up to
 * and including member. */
#define PARM_SIZE(type, member) \
  (unsigned)(offsetof(struct type, member) + sizeof(((struct type){0}).member))

#define MAX_DEPTH   64             /* nesting of an answer read as JSON */
#define MAX_VM_LIST (1024u * 1024) /* RemoveResource's "1,2,3" */
#define VM_TEXT     16             /* a VM id as text, NUL included */

struct xr {
  const char *url; /* borrowed from the command line */
  xmlrpc_client *client;
  xmlrpc_server_info *server;
  xmlrpc_value *auth; /* IM's auth parameter, built once */
  char fault[160];    /* why the last params() failed */
};

static int env_fail(xmlrpc_env *env, const char *url, struct imc_err *err)
{
  int r = imc_fail(err, IMC_E_IO, "%s: %s", url, env->fault_string);

  xmlrpc_env_clean(env);
  return r;
}

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* The parameter array fmt describes, in xmlrpc_build_value's words: "(s#Vb)" is a string
 * given as pointer and length, a value (borrowed: the auth) and a boolean.  NULL when it
 * cannot be built (a string that is not UTF-8, no memory), the reason in x->fault. */
static xmlrpc_value *params(struct xr *x, const char *fmt, ...)
{
  xmlrpc_env env;
  xmlrpc_value *p = NULL;
  const char *tail = NULL;
  va_list ap;

  xmlrpc_env_init(&env);
  va_start(ap, fmt);
  xmlrpc_build_value_va(&env, fmt, ap, &p, &tail);
  va_end(ap);
  if (env.fault_occurred) {
    snprintf(x->fault, sizeof x->fault, "%s", env.fault_string);
    p = NULL;
  }
  xmlrpc_env_clean(&env);
  return p;
}

/* Calls method with params (stolen; NULL when params() failed) and returns IM's value (a new
 * reference) in *value, or IM's message as the error. */
static int call(struct xr *x, const char *method, xmlrpc_value *params, xmlrpc_value **value,
                struct imc_err *err)
{
  xmlrpc_env env;
  xmlrpc_value *result = NULL, *flag = NULL, *v = NULL;
  xmlrpc_bool ok = 0;
  int r = 0;

  *value = NULL;
  if (!params)
    return imc_fail(err, IMC_E_INVAL, "cannot call %s: %s", method, x->fault);
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

/* A call whose value says nothing (IM's ""). */
static int void_call(struct xr *x, const char *method, xmlrpc_value *params, struct imc_err *err)
{
  xmlrpc_value *v;
  int r = call(x, method, params, &v, err);

  if (r == 0)
    xmlrpc_DECREF(v);
  return r;
}

/* A string answer appended to out. */
static int string_call(struct xr *x, const char *method, xmlrpc_value *params, struct imc_buf *out,
                       struct imc_err *err)
{
  xmlrpc_env env;
  xmlrpc_value *v;
  const char *s = NULL;
  size_t len = 0;
  int r;

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

/* An infrastructure id answer (CreateInfrastructure, ImportInfrastructure). */
static int id_call(struct xr *x, const char *method, xmlrpc_value *params,
                   char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, IMC_INFRA_ID_MAX - 1); /* room for the NUL in id */
  r = string_call(x, method, params, &b, err);
  if (r == 0 && (imc_buf_err(&b) || b.len == 0))
    r = imc_fail(err, IMC_E_IO, "the server's answer is not an infrastructure id");
  if (r == 0)
    memcpy(id, b.data, b.len + 1);
  imc_buf_free(&b);
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
  if ((r = call(x, method, params, &v, err)) != 0)
    return r;
  xmlrpc_env_init(&env);
  n = xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY ? xmlrpc_array_size(&env, v) : -1;
  if (n < 0 || env.fault_occurred)
    r = imc_fail(err, IMC_E_IO, "%s answered something that is not a list", method);
  else if (n > 0 && !(out->v = imc_calloc((size_t)n, sizeof *out->v)))
    r = nomem(err);
  for (int i = 0; r == 0 && i < n; i++) {
    xmlrpc_value *item = NULL;
    const char *s = NULL;

    xmlrpc_array_read_item(&env, v, (unsigned)i, &item);
    if (!env.fault_occurred)
      xmlrpc_read_string(&env, item, &s);
    if (env.fault_occurred)
      r = imc_fail(err, IMC_E_IO, "%s answered a list of something else", method);
    else if (!(out->v[out->n++] = imc_strdup(s)))
      r = nomem(err);
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

/* --- answers as JSON ------------------------------------------------------------------------ */

/* Each reader turns one XML-RPC value into JSON: NULL with env's fault when the value cannot
 * be read, NULL alone when out of memory. */
static json_t *value_json(xmlrpc_env *env, xmlrpc_value *v, int depth);

static json_t *int_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  int i = 0;

  xmlrpc_read_int(env, v, &i);
  return env->fault_occurred ? NULL : json_integer(i);
}

static json_t *i8_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  xmlrpc_int64 i = 0;

  xmlrpc_read_i8(env, v, &i);
  return env->fault_occurred ? NULL : json_integer((json_int_t)i);
}

static json_t *bool_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  xmlrpc_bool b = 0;

  xmlrpc_read_bool(env, v, &b);
  return env->fault_occurred ? NULL : json_boolean(b);
}

static json_t *double_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  double d = 0;

  xmlrpc_read_double(env, v, &d);
  if (!env->fault_occurred && !isfinite(d))
    xmlrpc_faultf(env, "a number that is not finite"); /* JSON has none */
  return env->fault_occurred ? NULL : json_real(d);
}

static json_t *string_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  const char *s = NULL;
  size_t n = 0;
  json_t *j;

  xmlrpc_read_string_lp(env, v, &n, &s);
  if (env->fault_occurred)
    return NULL;
  j = imc_json_textn(s, n);
  imc_free((void *)s); /* xmlrpc-c's allocation (malloc) */
  return j;
}

static json_t *nil_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  return json_null();
}

static json_t *array_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  int n = xmlrpc_array_size(env, v);
  json_t *a = env->fault_occurred ? NULL : json_array();

  for (int i = 0; a && i < n; i++) {
    xmlrpc_value *item = NULL;
    json_t *j = NULL;

    xmlrpc_array_read_item(env, v, (unsigned)i, &item);
    if (!env->fault_occurred)
      j = value_json(env, item, depth + 1);
    if (item)
      xmlrpc_DECREF(item);
    if (!j || json_array_append_new(a, j) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

static json_t *struct_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  int n = xmlrpc_struct_size(env, v);
  json_t *o = env->fault_occurred ? NULL : json_object();

  for (int i = 0; o && i < n; i++) {
    xmlrpc_value *key = NULL, *val = NULL;
    const char *k = NULL;
    size_t klen = 0;
    json_t *j = NULL;

    xmlrpc_struct_read_member(env, v, (unsigned)i, &key, &val);
    if (!env->fault_occurred)
      xmlrpc_read_string_lp(env, key, &klen, &k);
    if (!env->fault_occurred)
      j = value_json(env, val, depth + 1);
    if (!j || json_object_setn_new(o, k, klen, j) != 0) {
      json_decref(o);
      o = NULL;
    }
    imc_free((void *)k); /* xmlrpc-c's allocation (malloc) */
    if (key)
      xmlrpc_DECREF(key);
    if (val)
      xmlrpc_DECREF(val);
  }
  return o;
}

static const struct {
  xmlrpc_type type;
  json_t *(*read)(xmlrpc_env *env, xmlrpc_value *v, int depth);
} readers[] = {
  {XMLRPC_TYPE_STRING, string_json}, {XMLRPC_TYPE_INT, int_json},
  {XMLRPC_TYPE_I8, i8_json},         {XMLRPC_TYPE_BOOL, bool_json},
  {XMLRPC_TYPE_DOUBLE, double_json}, {XMLRPC_TYPE_ARRAY, array_json},
  {XMLRPC_TYPE_STRUCT, struct_json}, {XMLRPC_TYPE_NIL, nil_json},
};

static json_t *value_json(xmlrpc_env *env, xmlrpc_value *v, int depth)
{
  xmlrpc_type t = xmlrpc_value_type(v);

  if (depth >= MAX_DEPTH) {
    xmlrpc_faultf(env, "values nested more than %d deep", MAX_DEPTH);
    return NULL;
  }
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
    if (readers[i].type == t)
      return readers[i].read(env, v, depth);
  xmlrpc_faultf(env, "a value of type %s", xmlrpc_type_name(t));
  return NULL;
}

/* IM's value v (borrowed) of method as JSON: a new reference in *out. */
static int answer_json(const char *method, xmlrpc_value *v, json_t **out, struct imc_err *err)
{
  xmlrpc_env env;
  json_t *j;
  int r = 0;

  *out = NULL;
  xmlrpc_env_init(&env);
  j = value_json(&env, v, 0);
  if (env.fault_occurred)
    r = imc_fail(err, IMC_E_IO, "%s answered what imc cannot read: %s", method, env.fault_string);
  else if (!j)
    r = nomem(err);
  if (r == 0)
    *out = j;
  else
    json_decref(j);
  xmlrpc_env_clean(&env);
  return r;
}

static int json_call(struct xr *x, const char *method, xmlrpc_value *params, json_t **out,
                     struct imc_err *err)
{
  xmlrpc_value *v;
  int r;

  *out = NULL;
  if ((r = call(x, method, params, &v, err)) != 0)
    return r;
  r = answer_json(method, v, out, err);
  xmlrpc_DECREF(v);
  return r;
}

/* --- parameters ----------------------------------------------------------------------------- */

/* A VM id as IM's clients send it: a string. */
static const char *vm_text(unsigned vm, char buf[VM_TEXT])
{
  snprintf(buf, VM_TEXT, "%u", vm);
  return buf;
}

/* A document's text for "s#": never a null pointer. */
static const char *text_of(const char *text)
{
  return text ? text : "";
}

/* IM's auth data: one struct per entry, its keys and values as strings.  On a fault the
 * partial list is returned (the caller frees it) and env says why. */
static xmlrpc_value *entries_value(xmlrpc_env *env, const struct imc_auth_entry *entries, size_t n)
{
  xmlrpc_value *list = xmlrpc_array_new(env);

  for (size_t i = 0; !env->fault_occurred && i < n; i++) {
    xmlrpc_value *s = xmlrpc_struct_new(env);

    for (size_t k = 0; !env->fault_occurred && k < entries[i].n; k++) {
      xmlrpc_value *v = xmlrpc_string_new(env, entries[i].kv[k].value);

      if (!env->fault_occurred) {
        xmlrpc_struct_set_value(env, s, entries[i].kv[k].key, v);
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

/* VM ids as IM's Reconfigure takes them: an array of integers. */
static int ints_value(const struct imc_vm_ids *vms, xmlrpc_value **out, struct imc_err *err)
{
  xmlrpc_env env;
  xmlrpc_value *a;
  int r = 0;

  xmlrpc_env_init(&env);
  a = xmlrpc_array_new(&env);
  for (size_t i = 0; r == 0 && !env.fault_occurred && i < vms->n; i++) {
    xmlrpc_value *v;

    if (vms->v[i] > INT_MAX) {
      r = imc_fail(err, IMC_E_INVAL, "VM ID %u is too large for IM", vms->v[i]);
      break;
    }
    v = xmlrpc_int_new(&env, (int)vms->v[i]);
    if (!env.fault_occurred) {
      xmlrpc_array_append_item(&env, a, v);
      xmlrpc_DECREF(v);
    }
  }
  if (r == 0 && env.fault_occurred)
    r = nomem(err);
  if (r == 0)
    *out = a;
  else if (a)
    xmlrpc_DECREF(a);
  xmlrpc_env_clean(&env);
  return r;
}

/* --- the operations ------------------------------------------------------------------------- */

static int x_list(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err)
{
  struct xr *x = ctx;

  return strings_call(x, "GetInfrastructureList",
                      filter ? params(x, "(Vs)", x->auth, filter) : params(x, "(V)", x->auth), ids,
                      err);
}

static int x_create(void *ctx, const struct imc_doc *doc, const char *text, size_t len, bool async,
                    char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct xr *x = ctx;

  return id_call(x, "CreateInfrastructure",
                 params(x, "(s#Vb)", text_of(text), len, x->auth, (xmlrpc_bool)async), id, err);
}

static int x_destroy(void *ctx, const char *id, bool force, struct imc_err *err)
{
  struct xr *x = ctx;

  return void_call(x, "DestroyInfrastructure", params(x, "(sVb)", id, x->auth, (xmlrpc_bool)force),
                   err);
}

static int x_info(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct xr *x = ctx;
  struct imc_strs ids;
  int r = strings_call(x, "GetInfrastructureInfo", params(x, "(sV)", id, x->auth), &ids, err);

  memset(vms, 0, sizeof *vms);
  if (r == 0)
    r = cli_vm_ids_of(&ids, vms, err);
  imc_strs_free(&ids);
  return r;
}

static int x_vm_radl(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                     struct imc_err *err)
{
  struct xr *x = ctx;
  char num[VM_TEXT];

  return string_call(x, "GetVMInfo", params(x, "(ssV)", id, vm_text(vm, num), x->auth), out, err);
}

static int x_radl(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  struct xr *x = ctx;

  return string_call(x, "GetInfrastructureRADL", params(x, "(sV)", id, x->auth), out, err);
}

static int x_contmsg(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  struct xr *x = ctx;

  return string_call(x, "GetInfrastructureContMsg", params(x, "(sV)", id, x->auth), out, err);
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
  xmlrpc_value *v, *vms = NULL;
  xmlrpc_env env;
  int r, state, n = 0;

  memset(st, 0, sizeof *st);
  if ((r = call(x, "GetInfrastructureState", params(x, "(sV)", id, x->auth), &v, err)) != 0)
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
    r = nomem(err);
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
  struct xr *x = ctx;

  return string_call(x, "GetVersion", params(x, "()"), out, err);
}

/* One VM id of an answer: a number, or a string of digits (IM answers either). */
static bool vm_id_json(const json_t *j, unsigned *out)
{
  json_int_t n = json_integer_value(j);

  if (json_is_string(j))
    return cli_parse_vm_id(json_string_value(j), out);
  if (!json_is_integer(j) || n < 0 || n > (json_int_t)UINT_MAX)
    return false;
  *out = (unsigned)n;
  return true;
}

static int x_add(void *ctx, const char *id, const struct imc_doc *doc, const char *text, size_t len,
                 int context, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct xr *x = ctx;
  json_t *list = NULL;
  size_t n;
  int r;

  memset(vms, 0, sizeof *vms);
  /* context -1: no fourth parameter, so the server contextualizes (IM's default). */
  r = json_call(x, "AddResource",
                params(x, context < 0 ? "(ss#V)" : "(ss#Vb)", id, text_of(text), len, x->auth,
                       (xmlrpc_bool)(context > 0)),
                &list, err);
  if (r)
    return r;
  n = json_array_size(list);
  if (!json_is_array(list))
    r = imc_fail(err, IMC_E_IO, "AddResource answered something that is not a list");
  else if (n > 0 && !(vms->v = imc_calloc(n, sizeof *vms->v)))
    r = nomem(err);
  for (size_t i = 0; r == 0 && i < n; i++) {
    if (!vm_id_json(json_array_get(list, i), &vms->v[vms->n++]))
      r = imc_fail(err, IMC_E_IO, "the server's answer is not a list of VMs");
  }
  if (r)
    imc_vm_ids_free(vms);
  json_decref(list);
  return r;
}

static int x_remove(void *ctx, const char *id, const struct imc_vm_ids *vms, int context,
                    struct imc_err *err)
{
  struct xr *x = ctx;
  struct imc_buf list;
  int r;

  /* "1,2,3", as im-client sends the list. */
  imc_buf_init(&list, MAX_VM_LIST);
  for (size_t i = 0; i < vms->n; i++)
    imc_buf_addf(&list, "%s%u", i > 0 ? "," : "", vms->v[i]);
  if ((r = imc_buf_err(&list)) != 0)
    r = imc_fail(err, r, "too many VMs to remove at once");
  else
    r = void_call(x, "RemoveResource",
                  params(x, context < 0 ? "(ssV)" : "(ssVb)", id, imc_buf_cstr(&list), x->auth,
                         (xmlrpc_bool)(context > 0)),
                  err);
  imc_buf_free(&list);
  return r;
}

static int x_alter(void *ctx, const char *id, unsigned vm, const struct imc_doc *doc,
                   const char *text, size_t len, struct imc_buf *out, struct imc_err *err)
{
  struct xr *x = ctx;
  char num[VM_TEXT];

  return string_call(x, "AlterVM",
                     params(x, "(sss#V)", id, vm_text(vm, num), text_of(text), len, x->auth), out,
                     err);
}

static int x_reconfigure(void *ctx, const char *id, const struct imc_doc *doc, const char *text,
                         size_t len, const struct imc_vm_ids *vms, struct imc_err *err)
{
  struct xr *x = ctx;
  xmlrpc_value *list = NULL;
  int r;

  /* No VM list: no fourth parameter, so every VM (IM's None). */
  if (vms->n > 0 && (r = ints_value(vms, &list, err)) != 0)
    return r;
  r = void_call(x, "Reconfigure",
                params(x, list ? "(ss#VA)" : "(ss#V)", id, text_of(text), len, x->auth, list), err);
  if (list)
    xmlrpc_DECREF(list);
  return r;
}

/* IM's power methods by operation: on the whole infrastructure, on one VM. */
static const struct {
  const char *infra, *vm;
} power_methods[] = {
  [IMC_POWER_START] = {"StartInfrastructure", "StartVM"},
  [IMC_POWER_STOP] = {"StopInfrastructure", "StopVM"},
  [IMC_POWER_REBOOT] = {NULL, "RebootVM"}, /* IM reboots VMs one by one */
};

static int x_power(void *ctx, const char *id, const unsigned *vm, enum imc_power op,
                   struct imc_err *err)
{
  struct xr *x = ctx;
  char num[VM_TEXT];
  const char *method = NULL;

  if ((size_t)op < sizeof power_methods / sizeof power_methods[0])
    method = vm ? power_methods[op].vm : power_methods[op].infra;
  if (!method)
    return imc_fail(err, IMC_E_INVAL, "IM has no such operation on a whole infrastructure");
  return void_call(
    x, method,
    vm ? params(x, "(ssV)", id, vm_text(*vm, num), x->auth) : params(x, "(sV)", id, x->auth), err);
}

static int x_vm_property(void *ctx, const char *id, unsigned vm, const char *name,
                         struct imc_buf *out, struct imc_err *err)
{
  struct xr *x = ctx;
  char num[VM_TEXT];
  xmlrpc_value *v;
  json_t *j = NULL;
  int r =
    call(x, "GetVMProperty", params(x, "(sssV)", id, vm_text(vm, num), name, x->auth), &v, err);

  if (r)
    return r;
  /* IM answers None (nil) for a feature the system does not have; imcd says so in words. */
  if (xmlrpc_value_type(v) == XMLRPC_TYPE_NIL)
    r = imc_fail(err, IMC_E_NOTFOUND, "Invalid property %s of VM %u", name, vm);
  else if ((r = answer_json("GetVMProperty", v, &j, err)) == 0)
    radl_py_str(j, out);
  if (r == 0 && imc_buf_err(out))
    r = imc_fail(err, imc_buf_err(out), "the property's value is too large");
  json_decref(j);
  xmlrpc_DECREF(v);
  return r;
}

static int x_vm_contmsg(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                        struct imc_err *err)
{
  struct xr *x = ctx;
  char num[VM_TEXT];

  return string_call(x, "GetVMContMsg", params(x, "(ssV)", id, vm_text(vm, num), x->auth), out,
                     err);
}

static int x_outputs(void *ctx, const char *id, json_t **out, struct imc_err *err)
{
  *out = NULL;
  return imc_fail(err, IMC_E_INVAL, "Only available with REST API."); /* IM has no method */
}

static int x_export(void *ctx, const char *id, bool delete_it, struct imc_buf *out,
                    struct imc_err *err)
{
  struct xr *x = ctx;

  return string_call(x, "ExportInfrastructure",
                     params(x, "(sbV)", id, (xmlrpc_bool)delete_it, x->auth), out, err);
}

static int x_import(void *ctx, const char *text, size_t len, char id[IMC_INFRA_ID_MAX],
                    struct imc_err *err)
{
  struct xr *x = ctx;

  return id_call(x, "ImportInfrastructure", params(x, "(s#V)", text_of(text), len, x->auth), id,
                 err);
}

static int x_cloud_images(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err)
{
  struct xr *x = ctx;

  return json_call(x, "GetCloudImageList", params(x, "(sV)", cloud_id, x->auth), out, err);
}

static int x_cloud_quotas(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err)
{
  struct xr *x = ctx;

  return json_call(x, "GetCloudQuotas", params(x, "(sV)", cloud_id, x->auth), out, err);
}

static int x_estimate(void *ctx, const struct imc_doc *doc, const char *text, size_t len,
                      json_t **out, struct imc_err *err)
{
  struct xr *x = ctx;

  return json_call(x, "EstimateResources", params(x, "(s#V)", text_of(text), len, x->auth), out,
                   err);
}

static int x_stats(void *ctx, const char *init_date, const char *end_date, json_t **out,
                   struct imc_err *err)
{
  struct xr *x = ctx;

  /* A missing date is "": IM's None would be <nil/>, which imcd's string parameters refuse. */
  return json_call(x, "GetStats",
                   params(x, "(ssV)", text_of(init_date), text_of(end_date), x->auth), out, err);
}

static int x_change_auth(void *ctx, const char *id, const struct imc_auth_entry *new_im,
                         bool overwrite, struct imc_err *err)
{
  struct xr *x = ctx;
  xmlrpc_env env;
  xmlrpc_value *list;
  int r;

  /* The new entry as a one-item auth list: imcd reads the new auth as IM's auth parameter,
   * and IM 1.19.2 wraps it in Authentication() the same way. */
  xmlrpc_env_init(&env);
  list = entries_value(&env, new_im, 1);
  if (env.fault_occurred)
    r = imc_fail(err, IMC_E_INVAL, "the new auth data: %s", env.fault_string);
  else
    r = void_call(x, "ChangeInfrastructureAuth",
                  params(x, "(sAbV)", id, list, (xmlrpc_bool)overwrite, x->auth), err);
  if (list)
    xmlrpc_DECREF(list);
  xmlrpc_env_clean(&env);
  return r;
}

static int x_owners(void *ctx, const char *id, struct imc_strs *names, struct imc_err *err)
{
  struct xr *x = ctx;

  return strings_call(x, "GetInfrastructureOwners", params(x, "(sV)", id, x->auth), names, err);
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

int cli_backend_xmlrpc(const char *url, const struct imc_auth *auth, bool verify,
                       struct cli_backend *out, struct imc_err *err)
{
  struct xr *x = imc_calloc(1, sizeof *x);
  struct xmlrpc_curl_xportparms curl = {.no_ssl_verifypeer = !verify, .no_ssl_verifyhost = !verify};
  struct xmlrpc_clientparms parms = {.transport = "curl",
                                     .transportparmsP = &curl,
                                     .transportparm_size =
                                       PARM_SIZE(xmlrpc_curl_xportparms, no_ssl_verifyhost)};
  xmlrpc_env env;
  int r = 0;

  if (!x)
    return nomem(err);
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
    x->auth = entries_value(&env, auth->entries, auth->n);
  if (env.fault_occurred) {
    r = env_fail(&env, url, err);
    x_close(x);
    return r;
  }
  xmlrpc_env_clean(&env);
  *out = (struct cli_backend){.ctx = x,
                              .list = x_list,
                              .create = x_create,
                              .destroy = x_destroy,
                              .info = x_info,
                              .vm_radl = x_vm_radl,
                              .radl = x_radl,
                              .contmsg = x_contmsg,
                              .state = x_state,
                              .version = x_version,
                              .close = x_close,
                              .add = x_add,
                              .remove = x_remove,
                              .alter = x_alter,
                              .reconfigure = x_reconfigure,
                              .power = x_power,
                              .vm_property = x_vm_property,
                              .vm_contmsg = x_vm_contmsg,
                              .outputs = x_outputs,
                              .export_data = x_export,
                              .import_data = x_import,
                              .cloud_images = x_cloud_images,
                              .cloud_quotas = x_cloud_quotas,
                              .estimate = x_estimate,
                              .stats = x_stats,
                              .change_auth = x_change_auth,
                              .owners = x_owners};
  return 0;
}
