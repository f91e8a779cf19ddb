/* SPDX-License-Identifier: GPL-3.0-or-later */
/* XML-RPC bodies: xmlrpc-c parses the call, then imcd's argument reader takes the params with
 * every format imcd's methods use (the auth array of structs, VM id lists, filters, optional
 * booleans), and what it read goes back out through the JSON-to-XML-RPC converter.  No engine:
 * the target is the untrusted-input path up to the engine's door. */
#include <string.h>

#include <xmlrpc-c/server.h>

#include "fuzz.h"
#include "imc/alloc.h"
#include "xmlrpc_int.h"

/* The formats of server/xmlrpc.c's method table, one method each (M0, M1, ...). */
static const char *const formats[] = {
  "sA|b", "sA|bb", "sA", "ssA", "sssA", "sIA|b", "ssA|b", "A|s", "ssA|I", "sbA", "ssssbA",
  "sA|F", "sNbA", "ssA", "",
};

#define NFORMATS (sizeof formats / sizeof formats[0])

/* Echoes what was read as JSON, through xr_json. */
static xmlrpc_value *method(xmlrpc_env *env, xmlrpc_value *params, void *info, void *call)
{
  const char *fmt = info;
  struct xr_args a;
  struct imc_err err = {0};
  json_t *echo = json_array();
  xmlrpc_value *out;

  if (xr_args_read(env, params, fmt, &a, &err) == 0) {
    for (size_t i = 0; i < XR_MAX_ARGS && a.s[i]; i++)
      json_array_append_new(echo, json_string(a.s[i]));
    json_array_append_new(echo, json_integer((json_int_t)a.auth.n));
    json_array_append_new(echo, json_integer((json_int_t)a.ids.n));
  } else {
    json_array_append_new(echo, json_string(err.msg));
  }
  xr_args_cleanup(&a);
  out = xr_json(env, echo, 0);
  json_decref(echo);
  return out;
}

static xmlrpc_registry *registry(void)
{
  static xmlrpc_registry *reg;
  static char names[NFORMATS][8];
  xmlrpc_env env;

  if (reg)
    return reg;
  xmlrpc_env_init(&env);
  reg = xmlrpc_registry_new(&env);
  for (size_t i = 0; i < NFORMATS; i++) {
    struct xmlrpc_method_info3 m = {.methodName = names[i], .methodFunction = method,
                                    .serverInfo = (void *)formats[i]};

    names[i][0] = 'M';
    names[i][1] = (char)('A' + i);
    xmlrpc_registry_add_method3(&env, reg, &m);
  }
  xmlrpc_env_clean(&env);
  return reg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  xmlrpc_env env;
  xmlrpc_mem_block *out = NULL;

  /* imcd refuses what would crash the library before it parses (xr_i8_safe). */
  if (!xr_i8_safe((const char *)data, size))
    return 0;
  xmlrpc_env_init(&env);
  xmlrpc_registry_process_call2(&env, registry(), (const char *)data, size, NULL, &out);
  if (out)
    XMLRPC_MEMBLOCK_FREE(char, out);
  xmlrpc_env_clean(&env);
  return 0;
}
