/* SPDX-License-Identifier: GPL-3.0-or-later */
/* im-client's operations: each prints what im-client 1.8.4 prints, so scripts that read its
 * output keep working, whichever backend answers: the engine in this process on the local
 * store (the default), or an IM server's XML-RPC (-u URL) or REST API (-r URL).  A failure
 * prints im-client's ERROR line on stderr and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "backend.h"
#include "cli.h"
#include "imc/alloc.h"
#include "imc/radl.h"

struct cli_global cli_global;

/* im-client's usage checks for an operation: the auth file (every operation but getversion)
 * and the number of arguments. */
static int check_args(int argc, size_t min, size_t max, const char *usage, bool need_auth)
{
  if (need_auth && !cli_global.auth_file)
    return cli_usage_error(usage, "Auth file not specified (-a FILE)");
  if ((size_t)(argc - 1) < min || (size_t)(argc - 1) > max)
    return cli_usage_error(usage, "wrong number of arguments");
  return CLI_OK;
}

/* Prints "WHAT: message" on stderr (im-client's ERROR line) and returns CLI_FAIL. */
static int failed(const char *what, const struct imc_err *err)
{
  fprintf(stderr, "%s: %s\n", what, err->msg);
  return CLI_FAIL;
}

/* v (stolen) as Python's json.dumps(v, indent=4) prints it, as im-client's -q output. */
static int print_json(json_t *v)
{
  char *text = v ? json_dumps(v, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;

  json_decref(v);
  if (!text) {
    fprintf(stderr, "imc: out of memory\n");
    return CLI_FAIL;
  }
  printf("%s\n", text);
  imc_free(text);
  return CLI_OK;
}

static void print_buf(const struct imc_buf *b)
{
  cli_out(b->len ? b->data : "", b->len);
  if (!b->len || b->data[b->len - 1] != '\n')
    cli_out("\n", 1);
}

/* --- the operations ------------------------------------------------------------------------ */

static int op_list(struct cli_backend *b, int argc, char **argv)
{
  struct imc_strs ids = {0};
  struct imc_err err = {0};

  if (b->list(b->ctx, argc > 1 ? argv[1] : NULL, &ids, &err) != 0)
    return failed("ERROR listing then infrastructures", &err);
  if (ids.n == 0) {
    if (!cli_global.quiet)
      printf("No Infrastructures.\n");
  } else if (cli_global.quiet) {
    json_t *list = json_array();

    for (size_t i = 0; list && i < ids.n; i++)
      if (json_array_append_new(list, json_string(ids.v[i])) != 0) {
        json_decref(list);
        list = NULL;
      }
    imc_strs_free(&ids);
    return print_json(list);
  } else {
    printf("Infrastructure IDs: \n");
    for (size_t i = 0; i < ids.n; i++)
      printf("  %s\n", ids.v[i]);
  }
  imc_strs_free(&ids);
  return CLI_OK;
}

static int op_create(struct cli_backend *b, int argc, char **argv)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  struct imc_buf text;
  char id[IMC_INFRA_ID_MAX];
  int r;

  /* Read and parsed here, so that a bad file is reported as FILE:LINE:COL by any backend. */
  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = cli_read_input(argv[1], &text, &err)) == 0)
    r = radl_parse(argv[1], text.len ? text.data : "", text.len, NULL, &doc, &err);
  if (r == 0)
    r = b->create(b->ctx, doc, text.len ? text.data : "", text.len, id, &err);
  imc_doc_free(doc);
  imc_buf_free(&text);
  if (r != 0)
    return failed("ERROR creating the infrastructure", &err);
  if (!cli_global.quiet)
    printf("Infrastructure successfully created with ID: %s\n", id);
  return CLI_OK;
}

/* im-client asks before destroying unless -y; anything but "yes" cancels. */
static bool confirmed(const char *id)
{
  char answer[16] = "", *a;

  if (cli_global.yes)
    return true;
  printf("Are you sure you want to destroy Inf:%s?\nThis process cannot be undone!!.\n"
         "(yes/no):",
         id);
  fflush(stdout);
  if (!fgets(answer, sizeof answer, stdin))
    return false;
  a = answer + strspn(answer, " \t");
  a[strcspn(a, " \t\r\n")] = '\0';
  return strcasecmp(a, "yes") == 0; /* im-client strips and lower-cases the answer */
}

static int op_destroy(struct cli_backend *b, int argc, char **argv)
{
  struct imc_err err = {0};

  if (!confirmed(argv[1])) {
    imc_fail(&err, IMC_E_INVAL, "Canceled by the user.");
    return failed("ERROR destroying the infrastructure", &err);
  }
  if (b->destroy(b->ctx, argv[1], cli_global.force, &err) != 0)
    return failed("ERROR destroying the infrastructure", &err);
  if (!cli_global.quiet)
    printf("Infrastructure successfully destroyed\n");
  return CLI_OK;
}

static int op_getinfo(struct cli_backend *b, int argc, char **argv)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};
  struct imc_buf text;

  if (b->info(b->ctx, argv[1], &vms, &err) != 0)
    return failed("ERROR getting the information about infrastructure", &err);
  imc_buf_init(&text, IMC_MAX_DOC);
  for (size_t i = 0; i < vms.n; i++) {
    struct imc_err verr = {0};

    if (!cli_global.quiet)
      printf("Info about VM with ID: %u\n", vms.v[i]);
    imc_buf_reset(&text);
    if (b->vm_radl(b->ctx, argv[1], vms.v[i], &text, &verr) == 0)
      print_buf(&text);
    else
      printf("ERROR getting the information about the VM: %s\n", verr.msg);
  }
  imc_buf_free(&text);
  imc_vm_ids_free(&vms);
  return CLI_OK;
}

static int op_getvminfo(struct cli_backend *b, int argc, char **argv)
{
  struct imc_err err = {0};
  struct imc_buf text;
  unsigned vm;
  int r;

  if (!cli_parse_vm_id(argv[2], &vm))
    return cli_usage_error(NULL, "VM id '%s' is not a number", argv[2]);
  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = b->vm_radl(b->ctx, argv[1], vm, &text, &err)) == 0)
    print_buf(&text);
  imc_buf_free(&text);
  return r ? failed("ERROR getting the VM info", &err) : CLI_OK;
}

static int op_getradl(struct cli_backend *b, int argc, char **argv)
{
  struct imc_err err = {0};
  struct imc_buf text;
  int r;

  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = b->radl(b->ctx, argv[1], &text, &err)) == 0)
    print_buf(&text);
  imc_buf_free(&text);
  return r ? failed("ERROR getting the infrastructure RADL", &err) : CLI_OK;
}

static int op_getcontmsg(struct cli_backend *b, int argc, char **argv)
{
  struct imc_err err = {0};
  struct imc_buf text;

  imc_buf_init(&text, 64u * 1024 * 1024);
  if (b->contmsg(b->ctx, argv[1], &text, &err) != 0) {
    imc_buf_free(&text);
    return failed("Error getting infrastructure contextualization message", &err);
  }
  if (text.len > 0) {
    if (!cli_global.quiet)
      printf("Msg Contextualizator: \n\n");
    print_buf(&text);
  } else if (!cli_global.quiet) {
    printf("No Msg Contextualizator avaliable\n\n");
  }
  imc_buf_free(&text);
  return CLI_OK;
}

static int op_getstate(struct cli_backend *b, int argc, char **argv)
{
  struct imc_infra_state st = {0};
  struct imc_err err = {0};

  if (b->state(b->ctx, argv[1], &st, &err) != 0)
    return failed("Error getting infrastructure state", &err);
  if (cli_global.quiet) {
    json_t *vms = json_object();
    json_t *all = vms ? json_pack("{s:s, s:o}", "state", imc_vm_state_name(st.state),
                                  "vm_states", vms)
                      : NULL;
    char key[16];

    for (size_t i = 0; all && i < st.n; i++) {
      snprintf(key, sizeof key, "%u", st.vm_ids[i]);
      if (json_object_set_new(vms, key, json_string(imc_vm_state_name(st.vm_states[i]))) != 0) {
        json_decref(all);
        all = NULL;
      }
    }
    imc_infra_state_free(&st);
    return print_json(all);
  } else {
    printf("The infrastructure is in state: %s\n", imc_vm_state_name(st.state));
    for (size_t i = 0; i < st.n; i++)
      printf("VM ID: %u is in state: %s.\n", st.vm_ids[i], imc_vm_state_name(st.vm_states[i]));
  }
  imc_infra_state_free(&st);
  return CLI_OK;
}

static int op_getversion(struct cli_backend *b, int argc, char **argv)
{
  struct imc_err err = {0};
  struct imc_buf text;
  int r;

  imc_buf_init(&text, 4096);
  if ((r = b->version(b->ctx, &text, &err)) == 0)
    printf("%s%s\n", cli_global.quiet ? "" : "IM service version: ", imc_buf_cstr(&text));
  imc_buf_free(&text);
  return r ? failed("ERROR getting IM service version", &err) : CLI_OK;
}

/* --- the table ----------------------------------------------------------------------------- */

struct op {
  const char *name;
  const char *args; /* im-client's usage of the operation */
  size_t min, max;  /* arguments after the name */
  bool auth;
  int (*run)(struct cli_backend *b, int argc, char **argv);
};

static const struct op ops[] = {
  {"list", "[filter]", 0, 1, true, op_list},
  {"create", "<radl_file>", 1, 1, true, op_create},
  {"destroy", "<inf_id>", 1, 1, true, op_destroy},
  {"getinfo", "<inf_id>", 1, 1, true, op_getinfo},
  {"getradl", "<inf_id>", 1, 1, true, op_getradl},
  {"getcontmsg", "<inf_id>", 1, 1, true, op_getcontmsg},
  {"getstate", "<inf_id>", 1, 1, true, op_getstate},
  {"getvminfo", "<inf_id> <vm_id>", 2, 2, true, op_getvminfo},
  {"getversion", "", 0, 0, false, op_getversion},
};

#define NOPS (sizeof ops / sizeof ops[0])

static const struct op *find_op(const char *name)
{
  for (size_t i = 0; i < NOPS; i++)
    if (strcmp(ops[i].name, name) == 0)
      return &ops[i];
  return NULL;
}

int cli_local_run(int argc, char **argv)
{
  const struct op *op = find_op(argv[0]);
  struct cli_backend b = {0};
  struct imc_auth auth;
  struct imc_err err = {0};
  char usage[160];
  int r;

  snprintf(usage, sizeof usage, "Usage: imc [-a FILE] [-u|-r URL] [-q] [-f] [-y] %s %s\n",
           op->name, op->args);
  if ((r = check_args(argc, op->min, op->max, usage, op->auth)) != CLI_OK)
    return r;
  if (cli_global.xmlrpc_url && cli_global.rest_url)
    return cli_usage_error(usage, "-u (XML-RPC) and -r (REST) name two servers: give one");
  imc_auth_init(&auth);
  if (op->auth && (r = imc_auth_parse_file(cli_global.auth_file, IMC_AUTH_CLIENT, &auth,
                                            &err)) == 0)
    r = imc_auth_check(&auth, &err);
  if (r == 0)
    r = cli_global.rest_url     ? cli_backend_rest(cli_global.rest_url, &auth, cli_global.verify,
                                                   &b, &err)
        : cli_global.xmlrpc_url ? cli_backend_xmlrpc(cli_global.xmlrpc_url, &auth,
                                                     cli_global.verify, &b, &err)
                                : cli_backend_local(&auth, &b, &err);
  if (r != 0) {
    fprintf(stderr, "imc: %s\n", err.msg);
    imc_auth_cleanup(&auth);
    return CLI_FAIL;
  }
  r = op->run(&b, argc, argv);
  b.close(b.ctx);
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
    fprintf(f, "  imc %s %s\n", ops[i].name, ops[i].args);
  fputs("\nOptions before the operation, as im-client's: -a FILE (IM's auth file, needed by\n"
        "every operation but getversion), -q (quiet: ids and JSON only), -f (force a\n"
        "destroy), -y (destroy without asking).  Output is im-client's; errors go to stderr.\n",
        f);
}

bool cli_local_has(const char *name)
{
  return find_op(name) != NULL;
}
