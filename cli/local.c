/* SPDX-License-Identifier: GPL-3.0-or-later */
/* im-client's operations in local mode: the engine runs in this process on a SQLite store in
 * the user's data directory, so `imc -a auth.dat create recipe.radl && imc -a auth.dat list`
 * works with no server.  Each operation prints what im-client 1.8.4 prints, so scripts that
 * read its output keep working; a failure prints im-client's ERROR line on stderr and exits 1.
 * Server mode (-u, -r) comes in a later step and is refused explicitly until then. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "imc/alloc.h"
#include "imc/auth.h"
#include "imc/config.h"
#include "imc/connector.h"
#include "imc/engine.h"
#include "imc/radl.h"
#include "imc/store.h"

struct cli_global cli_global;

/* One open local engine. */
struct local {
  struct imc_config cfg;
  struct imc_store *store;
  struct imc_engine *engine;
  struct imc_auth auth;
};

/* The directory of the local store: $IMC_DATA_DIR, else $XDG_DATA_HOME/imc, else
 * ~/.local/share/imc.  Created (0700) with its parents under $HOME when missing. */
static int data_dir(char *out, size_t size, struct imc_err *err)
{
  const char *v;
  int n;

  if ((v = getenv("IMC_DATA_DIR")) && *v)
    n = snprintf(out, size, "%s", v);
  else if ((v = getenv("XDG_DATA_HOME")) && *v)
    n = snprintf(out, size, "%s/imc", v);
  else if ((v = getenv("HOME")) && *v)
    n = snprintf(out, size, "%s/.local/share/imc", v);
  else
    return imc_fail(err, IMC_E_INVAL, "no HOME: set IMC_DATA_DIR to the local store's directory");
  if (n < 0 || (size_t)n >= size)
    return imc_fail(err, IMC_E_INVAL, "the local store's directory name is too long");
  for (char *p = out + 1; *p; p++) { /* mkdir -p */
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
      int e = errno;

      *p = '/';
      return imc_fail(err, IMC_E_IO, "cannot create %s: %s", out, strerror(e));
    }
    *p = '/';
  }
  if (mkdir(out, 0700) != 0 && errno != EEXIST)
    return imc_fail(err, IMC_E_IO, "cannot create %s: %s", out, strerror(errno));
  return 0;
}

static int local_open(struct local *l, bool need_auth, struct imc_err *err)
{
  struct imc_engine_opts o = {.config = &l->cfg, .connectors = imc_connectors_builtin};
  char dir[4000], url[4096];
  int r;

  imc_auth_init(&l->auth);
  if ((r = imc_config_init(&l->cfg, err)) != 0)
    return r;
  if (need_auth && (r = imc_auth_parse_file(cli_global.auth_file, IMC_AUTH_CLIENT, &l->auth,
                                             err)) != 0)
    return r;
  if ((r = data_dir(dir, sizeof dir, err)) != 0)
    return r;
  snprintf(url, sizeof url, "sqlite://%s/imc.db", dir);
  if ((r = imc_store_open(url, &l->store, err)) != 0)
    return r;
  o.store = l->store;
  return imc_engine_open(&o, &l->engine, err);
}

static void local_close(struct local *l)
{
  imc_engine_close(l->engine);
  imc_store_close(l->store);
  imc_auth_cleanup(&l->auth);
  imc_config_cleanup(&l->cfg);
}

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

static void print_buf(const struct imc_buf *b)
{
  cli_out(b->len ? b->data : "", b->len);
  if (!b->len || b->data[b->len - 1] != '\n')
    cli_out("\n", 1);
}

/* --- the operations ------------------------------------------------------------------------ */

static int op_list(struct local *l, int argc, char **argv)
{
  struct imc_strs ids = {0};
  struct imc_err err = {0};

  if (imc_infra_list(l->engine, &l->auth, argc > 1 ? argv[1] : NULL, &ids, &err) != 0)
    return failed("ERROR listing then infrastructures", &err);
  if (ids.n == 0) {
    if (!cli_global.quiet)
      printf("No Infrastructures.\n");
  } else if (cli_global.quiet) {
    printf("[\n");
    for (size_t i = 0; i < ids.n; i++)
      printf("    \"%s\"%s\n", ids.v[i], i + 1 < ids.n ? "," : "");
    printf("]\n");
  } else {
    printf("Infrastructure IDs: \n");
    for (size_t i = 0; i < ids.n; i++)
      printf("  %s\n", ids.v[i]);
  }
  imc_strs_free(&ids);
  return CLI_OK;
}

static int op_create(struct local *l, int argc, char **argv)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  int r;

  if (radl_parse_file(argv[1], NULL, &doc, &err) != 0)
    return failed("ERROR creating the infrastructure", &err);
  r = imc_infra_create(l->engine, doc, &l->auth, false, id, &err);
  imc_doc_free(doc);
  if (r != 0)
    return failed("ERROR creating the infrastructure", &err);
  if (!cli_global.quiet)
    printf("Infrastructure successfully created with ID: %s\n", id);
  return CLI_OK;
}

/* im-client asks before destroying unless -y; anything but "yes" cancels. */
static bool confirmed(const char *id)
{
  char answer[16] = "";

  if (cli_global.yes)
    return true;
  printf("Are you sure you want to destroy Inf:%s?\nThis process cannot be undone!!.\n"
         "(yes/no):",
         id);
  fflush(stdout);
  if (!fgets(answer, sizeof answer, stdin))
    return false;
  answer[strcspn(answer, " \t\r\n")] = '\0';
  return strcmp(answer, "yes") == 0 || strcmp(answer, "YES") == 0 || strcmp(answer, "Yes") == 0;
}

static int op_destroy(struct local *l, int argc, char **argv)
{
  struct imc_err err = {0};

  if (!confirmed(argv[1])) {
    imc_fail(&err, IMC_E_INVAL, "Canceled by the user.");
    return failed("ERROR destroying the infrastructure", &err);
  }
  if (imc_infra_destroy(l->engine, argv[1], &l->auth, cli_global.force, false, &err) != 0)
    return failed("ERROR destroying the infrastructure", &err);
  if (!cli_global.quiet)
    printf("Infrastructure successfully destroyed\n");
  return CLI_OK;
}

/* A VM's RADL as text. */
static int vm_text(struct local *l, const char *id, unsigned vm, struct imc_buf *out,
                   struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  int r;

  if ((r = imc_vm_info(l->engine, id, vm, &l->auth, &doc, err)) != 0)
    return r;
  r = radl_print(doc, out, err);
  imc_doc_free(doc);
  return r;
}

static int op_getinfo(struct local *l, int argc, char **argv)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};
  struct imc_buf b;

  if (imc_infra_info(l->engine, argv[1], &l->auth, &vms, &err) != 0)
    return failed("ERROR getting the information about infrastructure", &err);
  imc_buf_init(&b, IMC_MAX_DOC);
  for (size_t i = 0; i < vms.n; i++) {
    struct imc_err verr = {0};

    if (!cli_global.quiet)
      printf("Info about VM with ID: %u\n", vms.v[i]);
    imc_buf_reset(&b);
    if (vm_text(l, argv[1], vms.v[i], &b, &verr) == 0)
      print_buf(&b);
    else
      printf("ERROR getting the information about the VM: %s\n", verr.msg);
  }
  imc_buf_free(&b);
  imc_vm_ids_free(&vms);
  return CLI_OK;
}

static int op_getvminfo(struct local *l, int argc, char **argv)
{
  struct imc_err err = {0};
  struct imc_buf b;
  char *end;
  unsigned long vm = strtoul(argv[2], &end, 10);
  int r;

  if (*end || end == argv[2] || vm > 0xffffffffUL)
    return cli_usage_error(NULL, "VM id '%s' is not a number", argv[2]);
  imc_buf_init(&b, IMC_MAX_DOC);
  r = vm_text(l, argv[1], (unsigned)vm, &b, &err);
  if (r == 0)
    print_buf(&b);
  imc_buf_free(&b);
  return r ? failed("ERROR getting the VM info", &err) : CLI_OK;
}

static int op_getradl(struct local *l, int argc, char **argv)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  struct imc_buf b;
  int r;

  if (imc_infra_radl(l->engine, argv[1], &l->auth, &doc, &err) != 0)
    return failed("ERROR getting the infrastructure RADL", &err);
  imc_buf_init(&b, IMC_MAX_DOC);
  r = radl_print(doc, &b, &err);
  imc_doc_free(doc);
  if (r == 0)
    print_buf(&b);
  imc_buf_free(&b);
  return r ? failed("ERROR getting the infrastructure RADL", &err) : CLI_OK;
}

static int op_getcontmsg(struct local *l, int argc, char **argv)
{
  struct imc_err err = {0};
  struct imc_buf b;

  imc_buf_init(&b, 64u * 1024 * 1024);
  if (imc_infra_contmsg(l->engine, argv[1], &l->auth, false, &b, &err) != 0) {
    imc_buf_free(&b);
    return failed("Error getting infrastructure contextualization message", &err);
  }
  if (b.len > 0) {
    if (!cli_global.quiet)
      printf("Msg Contextualizator: \n\n");
    print_buf(&b);
  } else if (!cli_global.quiet) {
    printf("No Msg Contextualizator avaliable\n\n");
  }
  imc_buf_free(&b);
  return CLI_OK;
}

static int op_getstate(struct local *l, int argc, char **argv)
{
  struct imc_infra_state st;
  struct imc_err err = {0};

  if (imc_infra_state(l->engine, argv[1], &l->auth, &st, &err) != 0)
    return failed("Error getting infrastructure state", &err);
  if (cli_global.quiet) {
    printf("{\n    \"state\": \"%s\",\n    \"vm_states\": {", imc_vm_state_name(st.state));
    for (size_t i = 0; i < st.n; i++)
      printf("%s\n        \"%u\": \"%s\"", i ? "," : "", st.vm_ids[i],
             imc_vm_state_name(st.vm_states[i]));
    printf("%s}\n}\n", st.n ? "\n    " : "");
  } else {
    printf("The infrastructure is in state: %s\n", imc_vm_state_name(st.state));
    for (size_t i = 0; i < st.n; i++)
      printf("VM ID: %u is in state: %s.\n", st.vm_ids[i], imc_vm_state_name(st.vm_states[i]));
  }
  imc_infra_state_free(&st);
  return CLI_OK;
}

static int op_getversion(struct local *l, int argc, char **argv)
{
  if (cli_global.quiet)
    printf("%s\n", imc_engine_version());
  else
    printf("IM service version: %s\n", imc_engine_version());
  return CLI_OK;
}

/* --- the table ----------------------------------------------------------------------------- */

struct op {
  const char *name;
  const char *args; /* im-client's usage of the operation */
  size_t min, max;  /* arguments after the name */
  bool auth;
  int (*run)(struct local *l, int argc, char **argv);
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
  struct local l = {0};
  struct imc_err err = {0};
  char usage[160];
  int r;

  snprintf(usage, sizeof usage, "Usage: imc [-a FILE] [-q] [-f] [-y] %s %s\n", op->name,
           op->args);
  if ((r = check_args(argc, op->min, op->max, usage, op->auth)) != CLI_OK)
    return r;
  if (cli_global.server_url)
    return cli_usage_error(usage, "server mode (%s URL) is not built yet; without -u and -r, "
                                  "imc works on its local store",
                           cli_global.server_url_option);
  if (local_open(&l, op->auth, &err) != 0) {
    fprintf(stderr, "imc: %s\n", err.msg);
    local_close(&l);
    return CLI_FAIL;
  }
  r = op->run(&l, argc, argv);
  local_close(&l);
  return r;
}

void cli_local_help(FILE *f)
{
  fputs("im-client's operations, run by the engine in this process on the local store\n"
        "($IMC_DATA_DIR, else $XDG_DATA_HOME/imc, else ~/.local/share/imc):\n\n",
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
