/* SPDX-License-Identifier: GPL-3.0-or-later */
/* im-client's operations: each prints what im-client 1.8.4 prints, so scripts that read its
 * output keep working, whichever backend answers: the engine in this process on the local
 * store (the default), or an IM server's XML-RPC (-u URL) or REST API (-r URL).  A failure
 * prints im-client's ERROR line on stderr and exits 1.  This file holds the table, the
 * dispatcher and the helpers; the operations are in ops_get.c, ops_change.c, ops_wait.c and
 * ops_ssh.c. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "ops_int.h"
#include "worker.h"

struct cli_global cli_global;

/* --- printing ------------------------------------------------------------------------------ */

bool op_chatty(void)
{
  return !cli_global.quiet && !cli_global.json;
}

int op_failed_msg(const char *what, const char *msg)
{
  fprintf(stderr, "%s: %s\n", what, msg);
  if (cli_global.json) {
    json_t *e = json_pack("{s:s}", "error", msg);

    op_print_json(e);
  }
  return CLI_FAIL;
}

int op_failed(const char *what, const struct imc_err *err)
{
  return op_failed_msg(what, err->msg);
}

int op_print_json(json_t *v)
{
  char *text = v ? json_dumps(v, JSON_INDENT(4) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;

  json_decref(v);
  if (!text) {
    fprintf(stderr, "imc: out of memory\n");
    return CLI_FAIL;
  }
  printf("%s\n", text);
  imc_free(text);
  return CLI_OK;
}

void op_print_text(const char *text, size_t len)
{
  cli_out(text, len);
  if (!len || text[len - 1] != '\n')
    cli_out("\n", 1);
}

/* --- arguments ----------------------------------------------------------------------------- */

/* IM's list filter for a description's name (im-client's), the name's regex characters
 * escaped so that a name is matched as written. */
static int name_filter(const char *name, char *out, size_t size, struct imc_err *err)
{
  size_t o = 0;
  int n = snprintf(out, size, ".*description\\s*.*\\s*(\\s*name\\s*=\\s*'");

  for (o = (size_t)n; *name && o + 2 < size; name++) {
    if (strchr("\\^$.|?*+()[]{}", *name))
      out[o++] = '\\';
    out[o++] = *name;
  }
  if (*name || (size_t)snprintf(out + o, size - o, "'.*).*") >= size - o)
    return imc_fail(err, IMC_E_INVAL, "the infrastructure name is too long");
  return 0;
}

int op_infra_id(struct op_ctx *c, char *id, struct imc_err *err)
{
  struct imc_strs ids = {0};
  char filter[1024];
  int r;

  if (!cli_global.name) {
    if (strlen(c->argv[1]) >= IMC_INFRA_ID_MAX)
      return imc_fail(err, IMC_E_NOTFOUND, "Invalid infrastructure ID or access not granted.");
    memcpy(id, c->argv[1], strlen(c->argv[1]) + 1);
    return 0;
  }
  if ((r = name_filter(c->argv[1], filter, sizeof filter, err)) != 0 ||
      (r = c->b->list(c->b->ctx, filter, &ids, err)) != 0)
    return r;
  if (ids.n == 0)
    r = imc_fail(err, IMC_E_NOTFOUND, "Infrastructure Name not found");
  else if (strlen(ids.v[0]) >= IMC_INFRA_ID_MAX)
    r = imc_fail(err, IMC_E_IO, "the server's infrastructure id is too long");
  else
    memcpy(id, ids.v[0], strlen(ids.v[0]) + 1);
  if (ids.n > 1)
    fprintf(stderr, "WARNING!: more that one infrastructure with the same name. "
                    "First one returned.\n");
  imc_strs_free(&ids);
  return r;
}

int op_vm_id(const struct op_ctx *c, int i, unsigned *vm)
{
  if (!cli_parse_vm_id(c->argv[i], vm))
    return cli_usage_error(NULL, "VM id '%s' is not a number", c->argv[i]);
  return CLI_OK;
}

int op_flag(const struct op_ctx *c, int i, const char *name, int *flag, struct imc_err *err)
{
  if (i >= c->argc)
    return 0;
  if (strcmp(c->argv[i], "0") != 0 && strcmp(c->argv[i], "1") != 0)
    return imc_fail(err, IMC_E_INVAL, "The %s flag must be 0 or 1", name);
  *flag = c->argv[i][0] - '0';
  return 0;
}

int op_vm_list(const char *text, struct imc_vm_ids *out, struct imc_err *err)
{
  size_t n = 1;
  char item[16];

  memset(out, 0, sizeof *out);
  for (const char *p = text; *p; p++)
    n += *p == ',';
  if (!(out->v = imc_calloc(n, sizeof *out->v)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (const char *p = text;; p++) {
    size_t len = strcspn(p, ",");

    snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
    if (len >= sizeof item || !cli_parse_vm_id(item, &out->v[out->n])) {
      imc_vm_ids_free(out);
      return imc_fail(err, IMC_E_INVAL, "'%s' is not a comma-separated list of VM ids", text);
    }
    out->n++;
    p += len;
    if (!*p)
      return 0;
  }
}

static bool has_suffix(const char *path, const char *suffix)
{
  size_t n = strlen(path), k = strlen(suffix);

  return n >= k && strcasecmp(path + n - k, suffix) == 0;
}

/* Asks for each @input.NAME@ of text on the terminal, as im-client does ("Specify parameter
 * NAME: "), and parses text with the answers. */
static int parse_with_inputs(const char *path, const struct imc_buf *text, struct imc_doc **doc,
                             bool *substituted, struct imc_err *err)
{
  struct radl_parse_opts opts = {.inputs = true};
  struct radl_input_ref *refs = NULL;
  struct radl_input *values = NULL;
  size_t n = 0;
  int r;

  if ((r = radl_inputs_missing(text->len ? text->data : "", text->len, NULL, 0, &refs, &n, err)) !=
      0)
    return r;
  if (n && !(values = imc_calloc(n, sizeof *values)))
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n && r == 0; i++) {
    char line[4096];

    printf("Specify parameter %s: ", refs[i].name);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
      r = imc_fail(err, IMC_E_INVAL, "no value given for parameter %s", refs[i].name);
    line[strcspn(line, "\r\n")] = '\0';
    values[i] = (struct radl_input){refs[i].name, imc_strdup(line)};
    if (r == 0 && !values[i].value)
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  opts.values = values;
  opts.nvalues = n;
  if (r == 0)
    r = radl_parse(path, text->len ? text->data : "", text->len, &opts, doc, err);
  *substituted = n > 0;
  for (size_t i = 0; i < n && values; i++)
    imc_free((char *)values[i].value);
  imc_free(values);
  radl_input_refs_free(refs, n);
  return r;
}

int op_doc_read(const char *path, bool whole, struct op_doc *d, struct imc_err *err)
{
  bool json = has_suffix(path, ".json") || has_suffix(path, ".jsn"), rewrite = json;
  int r;

  d->doc = NULL;
  imc_buf_init(&d->text, IMC_MAX_DOC);
  if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
    return imc_fail(err, IMC_E_INVAL, "%s: TOSCA input is not supported by this build", path);
  if ((r = cli_read_input(path, &d->text, err)) != 0)
    return r;
  if (json)
    r = radl_json_parse(path, d->text.len ? d->text.data : "", d->text.len, &d->doc, err);
  else
    r = parse_with_inputs(path, &d->text, &d->doc, &rewrite, err);
  if (r == 0 && whole)
    r = radl_check(d->doc, err);
  if (r == 0 && rewrite) { /* servers get RADL text with the parameters given */
    imc_buf_reset(&d->text);
    r = radl_print(d->doc, &d->text, err);
  }
  return r;
}

void op_doc_free(struct op_doc *d)
{
  imc_doc_free(d->doc);
  imc_buf_free(&d->text);
  d->doc = NULL;
}

/* --- the table and the dispatcher ---------------------------------------------------------- */

struct op {
  const char *name;
  const char *args; /* im-client's usage of the operation */
  size_t min, max;  /* operands after the name */
  bool auth;        /* needs the auth file: every operation but getversion */
  bool detach;      /* may run in a background worker in local mode (--detach) */
  /* local mode: waits for the engine's work (launches, contextualization), which Ctrl-C stops
   * at a safe point, ansible-playbook runs included */
  bool waits;
  int (*run)(struct op_ctx *c);
};

/* im-client 1.8.4's operations in its help's order, then imc's additions. */
static const struct op cli_ops[] = {
  {"list", "[filter]", 0, 1, true, false, false, op_list},
  {"create", "<radl_file> [async_flag]", 1, 2, true, true, true, op_create},
  {"destroy", "<inf_id>", 1, 1, true, true, true, op_destroy},
  {"getinfo", "<inf_id> [radl_attribute]", 1, 2, true, false, false, op_getinfo},
  {"getradl", "<inf_id>", 1, 1, true, false, false, op_getradl},
  {"getcontmsg", "<inf_id>", 1, 1, true, false, false, op_getcontmsg},
  {"getstate", "<inf_id>", 1, 1, true, false, false, op_getstate},
  {"getvminfo", "<inf_id> <vm_id> [radl_attribute]", 2, 3, true, false, false, op_getvminfo},
  {"getvmcontmsg", "<inf_id> <vm_id>", 2, 2, true, false, false, op_getvmcontmsg},
  {"addresource", "<inf_id> <radl_file> [ctxt_flag]", 2, 3, true, true, true, op_addresource},
  {"removeresource", "<inf_id> <vm_list> [ctxt_flag]", 2, 3, true, false, true, op_removeresource},
  {"alter", "<inf_id> <vm_id> <radl_file>", 3, 3, true, false, false, op_alter},
  {"start", "<inf_id>", 1, 1, true, false, false, op_start},
  {"stop", "<inf_id>", 1, 1, true, false, false, op_stop},
  {"reboot", "<inf_id>", 1, 1, true, false, false, op_reboot},
  {"reconfigure", "<inf_id> [radl_file] [vm_list]", 1, 3, true, false, true, op_reconfigure},
  {"startvm", "<inf_id> <vm_id>", 2, 2, true, false, false, op_startvm},
  {"stopvm", "<inf_id> <vm_id>", 2, 2, true, false, false, op_stopvm},
  {"rebootvm", "<inf_id> <vm_id>", 2, 2, true, false, false, op_rebootvm},
  {"sshvm", "<inf_id> <vm_id> [show_only] [cmd...]", 2, 64, true, false, false, op_ssh},
  {"ssh", "<inf_id> [show_only] [cmd...]", 1, 64, true, false, false, op_ssh},
  {"getvm", "<inf_id> <vm_id> <show_only> <orig> <dest>", 5, 5, true, false, false, op_ssh},
  {"get", "<inf_id> <show_only> <orig> <dest>", 4, 4, true, false, false, op_ssh},
  {"putvm", "<inf_id> <vm_id> <show_only> <orig> <dest>", 5, 5, true, false, false, op_ssh},
  {"put", "<inf_id> <show_only> <orig> <dest>", 4, 4, true, false, false, op_ssh},
  {"export", "<inf_id> [delete]", 1, 2, true, false, false, op_export},
  {"import", "<json_file>", 1, 1, true, false, false, op_import},
  {"getoutputs", "<inf_id>", 1, 1, true, false, false, op_getoutputs},
  {"cloudusage", "<cloud_id>", 1, 1, true, false, false, op_cloudusage},
  {"cloudimages", "<cloud_id>", 1, 1, true, false, false, op_cloudimages},
  {"getversion", "", 0, 0, false, false, false, op_getversion},
  {"wait", "<inf_id> [max_time]", 1, 2, true, false, false, op_wait},
  {"create_wait_outputs", "<radl_file>", 1, 1, true, false, false, op_create_wait_outputs},
  {"change_auth", "<inf_id> <new_auth_file> [overwrite]", 2, 3, true, false, false, op_change_auth},
  {"getowners", "<inf_id>", 1, 1, true, false, false, op_getowners},
  {"estimate", "<radl_file>", 1, 1, true, false, false, op_estimate},
  {"stats", "[init_date] [end_date]", 0, 2, true, false, false, op_stats},
};

#define NOPS (sizeof cli_ops / sizeof cli_ops[0])

static const struct op *find_op(const char *name)
{
  for (size_t i = 0; i < NOPS; i++)
    if (strcasecmp(cli_ops[i].name, name) == 0) /* im-client lower-cases the operation */
      return &cli_ops[i];
  return NULL;
}

/* Reads the auth file, opens the backend and says where it is connected, as im-client. */
static int open_backend(const struct op *op, struct imc_auth *auth, struct cli_backend *b)
{
  struct imc_err err = {0};
  int r = 0;

  if (op->auth && (r = imc_auth_parse_file(cli_global.auth_file, IMC_AUTH_CLIENT, auth, &err)) == 0)
    r = imc_auth_check(auth, &err);
  if (r == 0)
    r = cli_backend_open(auth, b, &err);
  if (r != 0) {
    fprintf(stderr, "imc: %s\n", err.msg);
    return CLI_FAIL;
  }
  if (op_chatty() && !cli_global.local && (cli_global.rest_url || cli_global.xmlrpc_url)) {
    const char *url = cli_global.rest_url ? cli_global.rest_url : cli_global.xmlrpc_url;
    const char *host = strstr(url, "://"), *at, *rest;

    /* im-client's line, without a user:password@ the URL may carry */
    host = host ? host + 3 : url;
    at = strchr(host, '@');
    rest = at && at < host + strcspn(host, "/") ? at + 1 : host;
    printf("%s with: %.*s%s\n", strncmp(url, "https", 5) == 0 ? "Secure connection" : "Connected",
           (int)(host - url), url, rest);
  }
  return CLI_OK;
}

int cli_local_run(int argc, char **argv)
{
  const struct op *op = find_op(argv[0]);
  struct cli_backend b = {0};
  struct imc_auth auth;
  struct imc_err err = {0};
  struct op_ctx c = {.b = &b, .auth = &auth, .argv = argv};
  char usage[200], dir[4000], log_path[4096];
  int r, nargs, verdict_fd = -1;

  snprintf(usage, sizeof usage, "Usage: imc [OPTIONS] %s %s\n", op->name, op->args);
  if ((r = cli_options_parse_op(argc, argv, &cli_global, &nargs)) != CLI_OK)
    return r;
  c.argc = nargs + 1;
  if ((r = cli_options_defaults(&cli_global, &err)) != 0) {
    fprintf(stderr, "imc: %s\n", err.msg);
    return CLI_FAIL;
  }
  if (op->auth && !cli_global.auth_file)
    return cli_usage_error(usage, "Auth file not specified (-a FILE)");
  if ((size_t)nargs < op->min || (size_t)nargs > op->max)
    return cli_usage_error(usage, "wrong number of arguments");
  if (cli_global.xmlrpc_url && cli_global.rest_url && !cli_global.local)
    return cli_usage_error(usage, "-u (XML-RPC) and -r (REST) name two servers: give one");
  c.server = !cli_global.local && (cli_global.rest_url || cli_global.xmlrpc_url);
  c.rest = c.server && cli_global.rest_url;
  if (cli_global.detach && (c.server || !op->detach))
    return cli_usage_error(usage, "--detach is for create, addresource and destroy in local "
                                  "mode (a server already works in the background)");
  if (cli_global.detach) {
    if (cli_local_data_dir(dir, sizeof dir, &err) != 0) {
      fprintf(stderr, "imc: %s\n", err.msg);
      return CLI_FAIL;
    }
    snprintf(log_path, sizeof log_path, "%s/worker.log", dir);
    if ((r = cli_detach(log_path, &verdict_fd)) >= 0)
      return r; /* the caller's side: the worker answered */
  }
  if (!c.server && op->waits)
    cli_interrupt_arm();
  imc_auth_init(&auth);
  r = open_backend(op, &auth, &b);
  if (r == CLI_OK)
    r = op->run(&c);
  if (verdict_fd >= 0)
    cli_detach_answer(verdict_fd, r, log_path);
  if (b.close)
    b.close(b.ctx); /* local mode: waits for the engine's background work */
  imc_auth_cleanup(&auth);
  return r;
}

void cli_local_help(FILE *f)
{
  fputs("im-client's operations, run by the engine in this process on the local store\n"
        "($IMC_DATA_DIR, else $XDG_DATA_HOME/imc, else ~/.local/share/imc), or by an IM\n"
        "server's XML-RPC API (-u URL) or REST API (-r URL):\n\n",
        f);
  for (size_t i = 0; i < NOPS; i++)
    fprintf(f, "  imc %s %s\n", cli_ops[i].name, cli_ops[i].args);
  fputs("\nEvery operation but getversion needs IM's auth file (-a FILE).  Output is\n"
        "im-client's; errors go to stderr.\n",
        f);
}

bool cli_local_has(const char *name)
{
  return find_op(name) != NULL;
}
