/* SPDX-License-Identifier: GPL-3.0-or-later */
/* XML-RPC values to and from imc's: the auth parameter (IM's array of structs), call
 * arguments read by a format, and JSON results as XML-RPC structs and arrays.  xmlrpc-c
 * allocates with malloc; its strings are freed with imc_free, which is free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imc/alloc.h"
#include "xmlrpc_int.h"

#define MAX_JSON_DEPTH 64

/* Clears a fault xmlrpc-c recorded, so the next call starts clean. */
static void env_reset(xmlrpc_env *env)
{
  xmlrpc_env_clean(env);
  xmlrpc_env_init(env);
}

static int xr_fail(xmlrpc_env *env, struct imc_err *err, const char *what)
{
  env_reset(env);
  return imc_fail(err, IMC_E_INVAL, "%s", what);
}

/* A scalar as text: IM's auth values are strings, but clients send numbers too. */
static int scalar_text(xmlrpc_env *env, xmlrpc_value *v, char **out)
{
  const char *s = NULL;
  char buf[32];

  *out = NULL;
  switch (xmlrpc_value_type(v)) {
  case XMLRPC_TYPE_STRING:
    xmlrpc_read_string(env, v, &s);
    if (env->fault_occurred)
      return IMC_E_INVAL;
    *out = (char *)s;
    return 0;
  case XMLRPC_TYPE_INT: {
    int i;

    xmlrpc_read_int(env, v, &i);
    snprintf(buf, sizeof buf, "%d", i);
    break;
  }
  case XMLRPC_TYPE_BOOL: {
    xmlrpc_bool b;

    xmlrpc_read_bool(env, v, &b);
    snprintf(buf, sizeof buf, "%s", b ? "true" : "false");
    break;
  }
  default:
    return IMC_E_INVAL;
  }
  return (*out = imc_strdup(buf)) ? 0 : IMC_E_NOMEM;
}

/* The members of struct s as key = value pairs of en (values as text).  code and what make
 * the error: which parameter, and why it is refused. */
static int struct_entry(xmlrpc_env *env, xmlrpc_value *s, struct imc_auth_entry *en,
                        enum imc_code code, const char *what, struct imc_err *err)
{
  int m = xmlrpc_struct_size(env, s), r = 0;

  for (int k = 0; k < m && !r; k++) {
    xmlrpc_value *key = NULL, *val = NULL;
    char *ks = NULL, *vs = NULL;

    xmlrpc_struct_read_member(env, s, (unsigned)k, &key, &val);
    if (env->fault_occurred || scalar_text(env, key, &ks) || scalar_text(env, val, &vs))
      r = imc_fail(err, code, "%s", what);
    else if (imc_auth_entry_set(en, ks, vs))
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
    imc_free(ks);
    imc_free_secret(vs); /* auth values are secrets as often as not */
    if (key)
      xmlrpc_DECREF(key);
    if (val)
      xmlrpc_DECREF(val);
  }
  if (env->fault_occurred)
    env_reset(env);
  return r;
}

int xr_auth(xmlrpc_env *env, xmlrpc_value *v, struct imc_auth *out, struct imc_err *err)
{
  int n;

  if (xmlrpc_value_type(v) != XMLRPC_TYPE_ARRAY)
    return imc_fail(err, IMC_E_AUTH, "the auth parameter must be an array of structs");
  n = xmlrpc_array_size(env, v);
  for (int i = 0; i < n; i++) {
    xmlrpc_value *item = NULL;
    struct imc_auth_entry *en;
    char what[64];
    int r;

    xmlrpc_array_read_item(env, v, i, &item);
    if (env->fault_occurred || xmlrpc_value_type(item) != XMLRPC_TYPE_STRUCT) {
      if (item)
        xmlrpc_DECREF(item);
      env_reset(env);
      return imc_fail(err, IMC_E_AUTH, "auth item %d is not a struct", i + 1);
    }
    if (!(en = imc_auth_add_entry(out))) {
      xmlrpc_DECREF(item);
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    }
    en->line = i + 1;
    snprintf(what, sizeof what, "auth item %d: values must be strings", i + 1);
    r = struct_entry(env, item, en, IMC_E_AUTH, what, err);
    xmlrpc_DECREF(item);
    if (r)
      return r;
  }
  return imc_auth_check(out, err);
}

static bool text_bool(const char *s, bool *out)
{
  static const char *const yes[] = {"1", "true", "yes", "y"}, *const no[] = {"0", "false", "no",
                                                                             "n", ""};

  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp(s, yes[i]) == 0)
      return *out = true;
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strcasecmp(s, no[i]) == 0)
      return !(*out = false);
  return false;
}

/* Python clients send booleans as <boolean>; older scripts as ints or strings. */
static int read_bool(xmlrpc_env *env, xmlrpc_value *v, bool *out)
{
  char *s = NULL;
  bool ok;

  if (xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL) {
    xmlrpc_bool b;

    xmlrpc_read_bool(env, v, &b);
    *out = b;
    return env->fault_occurred ? IMC_E_INVAL : 0;
  }
  if (xmlrpc_value_type(v) == XMLRPC_TYPE_NIL) {
    *out = false;
    return 0;
  }
  if (scalar_text(env, v, &s))
    return IMC_E_INVAL;
  ok = text_bool(s, out);
  imc_free(s);
  return ok ? 0 : IMC_E_INVAL;
}

/* VM ids: an int, a string "1,2,3" or an array of either (IM's RemoveResource). */
static int read_ids(xmlrpc_env *env, xmlrpc_value *v, struct imc_vm_ids *ids, size_t *cap)
{
  char *s = NULL, *p, *end;
  int r = 0;

  if (xmlrpc_value_type(v) == XMLRPC_TYPE_ARRAY) {
    int n = xmlrpc_array_size(env, v);

    for (int i = 0; i < n && !r; i++) {
      xmlrpc_value *item = NULL;

      xmlrpc_array_read_item(env, v, i, &item);
      r = env->fault_occurred ? IMC_E_INVAL : read_ids(env, item, ids, cap);
      if (item)
        xmlrpc_DECREF(item);
    }
    return r;
  }
  if (scalar_text(env, v, &s))
    return IMC_E_INVAL;
  for (p = s; *p && !r;) {
    unsigned long id;

    while (*p == ' ' || *p == ',')
      p++;
    if (!*p)
      break;
    id = strtoul(p, &end, 10);
    if (end == p || id > 0x7fffffffUL) {
      r = IMC_E_INVAL;
      break;
    }
    if (imc_grow((void **)&ids->v, cap, ids->n + 1, sizeof *ids->v))
      r = IMC_E_NOMEM;
    else
      ids->v[ids->n++] = (unsigned)id;
    p = end;
  }
  imc_free(s);
  return r;
}

void xr_args_cleanup(struct xr_args *a)
{
  for (size_t i = 0; i < XR_MAX_ARGS; i++)
    imc_free_secret(a->s[i]);
  imc_vm_ids_free(&a->ids);
  imc_auth_cleanup(&a->auth);
  imc_auth_cleanup(&a->auth2);
  if (a->filters)
    xmlrpc_DECREF(a->filters);
}

int xr_args_read(xmlrpc_env *env, xmlrpc_value *params, const char *fmt, struct xr_args *a,
                 struct imc_err *err)
{
  int n = xmlrpc_array_size(env, params), r = 0;
  size_t si = 0, bi = 0;
  bool optional = false;
  int i = 0;

  memset(a, 0, sizeof *a);
  imc_auth_init(&a->auth);
  imc_auth_init(&a->auth2);
  for (const char *f = fmt; *f && !r; f++) {
    xmlrpc_value *v = NULL;
    char what = *f;

    if (what == '|') {
      optional = true;
      continue;
    }
    if (i >= n) {
      if (!optional)
        r = imc_fail(err, IMC_E_INVAL, "expected more parameters (%d given)", n);
      break;
    }
    xmlrpc_array_read_item(env, params, i++, &v);
    if (env->fault_occurred)
      return xr_fail(env, err, "bad parameter list");
    switch (what) {
    case 's': /* a string */
      if (scalar_text(env, v, &a->s[si++]))
        r = imc_fail(err, IMC_E_INVAL, "parameter %d must be a string", i);
      break;
    case 'b': /* a boolean */
      if (read_bool(env, v, &a->b[bi++]))
        r = imc_fail(err, IMC_E_INVAL, "parameter %d must be a boolean", i);
      break;
    case 'A': /* IM's auth data */
      r = xr_auth(env, v, &a->auth, err);
      break;
    case 'N': /* a second auth (ChangeInfrastructureAuth's new one) */
      r = xr_auth(env, v, &a->auth2, err);
      break;
    case 'I': /* VM ids */
      if (read_ids(env, v, &a->ids, &a->cap_ids))
        r = imc_fail(err, IMC_E_INVAL, "parameter %d must list VM ids", i);
      break;
    case 'F': /* a struct of filters */
      if (xmlrpc_value_type(v) == XMLRPC_TYPE_STRUCT) {
        xmlrpc_INCREF(v);
        a->filters = v;
      } else if (xmlrpc_value_type(v) != XMLRPC_TYPE_NIL) {
        r = imc_fail(err, IMC_E_INVAL, "parameter %d must be a struct", i);
      }
      break;
    default:
      r = imc_fail(err, IMC_E_INTERNAL, "bad argument format");
    }
    a->given = i;
    xmlrpc_DECREF(v);
    if (env->fault_occurred)
      r = xr_fail(env, err, "bad parameter");
  }
  return r;
}

xmlrpc_value *xr_json(xmlrpc_env *env, const json_t *j, int depth)
{
  xmlrpc_value *out = NULL;

  if (depth > MAX_JSON_DEPTH)
    return xmlrpc_nil_new(env);
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    const char *key;
    json_t *v;

    out = xmlrpc_struct_new(env);
    json_object_foreach((json_t *)j, key, v)
    {
      xmlrpc_value *x = xr_json(env, v, depth + 1);

      if (env->fault_occurred)
        break;
      xmlrpc_struct_set_value(env, out, key, x);
      xmlrpc_DECREF(x);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *v;

    out = xmlrpc_array_new(env);
    json_array_foreach(j, i, v)
    {
      xmlrpc_value *x = xr_json(env, v, depth + 1);

      if (env->fault_occurred)
        break;
      xmlrpc_array_append_item(env, out, x);
      xmlrpc_DECREF(x);
    }
    break;
  }
  case JSON_STRING:
    return xmlrpc_string_new_lp(env, json_string_length(j), json_string_value(j));
  case JSON_INTEGER: {
    json_int_t v = json_integer_value(j);

    return v >= -2147483647 - 1 && v <= 2147483647 ? xmlrpc_int_new(env, (int)v)
                                                    : xmlrpc_i8_new(env, v);
  }
  case JSON_REAL:
    return xmlrpc_double_new(env, json_real_value(j));
  case JSON_TRUE:
  case JSON_FALSE:
    return xmlrpc_bool_new(env, json_is_true(j));
  case JSON_NULL:
    return xmlrpc_nil_new(env);
  }
  if (env->fault_occurred && out) {
    xmlrpc_DECREF(out);
    out = NULL;
  }
  return out;
}

/* An auth entry built from a struct of filters (connector-specific key=value pairs). */
int xr_filters(xmlrpc_env *env, xmlrpc_value *s, struct imc_auth *holder,
               const struct imc_auth_entry **out, struct imc_err *err)
{
  struct imc_auth_entry *en;
  int r;

  *out = NULL;
  if (!s)
    return 0;
  if (!(en = imc_auth_add_entry(holder)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  r = struct_entry(env, s, en, IMC_E_INVAL, "filters must map names to strings", err);
  if (!r)
    *out = en;
  return r;
}

/* Debian 12's xmlrpc-c (1.33.14) crashes on an <i8> whose text is not a 64-bit integer (its
 * fault message is built with a bad format), so any client could stop imcd with one call.
 * Until the library is fixed every <i8> and <ex:i8> element is checked here first: its whole
 * content must be optional leading blanks, an optional sign and 1 to 19 digits that fit an
 * int64 (or nothing at all), with nothing else before the closing tag (no trailing blank, no
 * reference, comment or CDATA that the parser would decode into something else), and the tag
 * has no attribute. */
static bool i8_text_ok(const char *p, const char *end)
{
  unsigned long long v = 0;
  bool neg = false, sign;
  int digits = 0;

  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  sign = p < end && (*p == '+' || *p == '-');
  if (sign)
    neg = *p++ == '-';
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (++digits > 19)
      return false;
    v = v * 10 + (unsigned)(*p - '0');
  }
  if (p != end) /* blanks after the digits crash the library too */
    return false;
  if (digits == 0)
    return !sign; /* empty is handled; a lone sign crashes */
  return v <= (neg ? 9223372036854775808ULL : 9223372036854775807ULL);
}

bool xr_i8_safe(const char *body, size_t len)
{
  static const char *const opens[] = {"<i8", "<ex:i8"};
  const char *end = body + len;

  for (size_t k = 0; k < sizeof opens / sizeof opens[0]; k++) {
    size_t olen = strlen(opens[k]);

    for (const char *p = memmem(body, len, opens[k], olen); p;
         p = memmem(p + 1, (size_t)(end - p - 1), opens[k], olen)) {
      const char *q = p + olen, *text, *close;

      while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
        q++;
      if (q < end && *q == '/')
        continue; /* <i8/>: empty, which the library handles */
      if (q >= end || *q != '>') {
        /* Right after the name only: after a blank it is an attribute, which valid
         * XML-RPC never has and which the library does not survive either. */
        if (q < end && q == p + olen && (*q == '_' || *q == '-' || *q == '.' || *q == ':' ||
                        (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
                        (*q >= 'A' && *q <= 'Z')))
          continue; /* another name that starts the same (<i8x>) */
        return false;
      }
      text = q + 1;
      if (!(close = memchr(text, '<', (size_t)(end - text))))
        return false;
      if (!i8_text_ok(text, close))
        return false;
      if ((size_t)(end - close) < olen + 1 || close[1] != '/' ||
          memcmp(close + 2, opens[k] + 1, olen - 1) != 0)
        return false;
    }
  }
  return true;
}
