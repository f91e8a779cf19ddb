/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `imc plan [--json] [INF_ID] FILE`: what FILE would create, change or remove, printed as
 * Terraform prints a plan, with nothing created, changed or stored anywhere.
 *
 * The planning (imc_preview) runs in an engine of this process on a store in a new temporary
 * directory, removed at the end.  The local store is never opened for planning: opening it
 * settles launch intents (a write), and the plan needs nothing it holds.  For a plan against
 * an infrastructure, its current state is read through the backend the options name (the
 * local store, -u or -r) with read calls only: GetInfrastructureRADL, GetInfrastructureInfo
 * and GetVMInfo of each VM. */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "cli.h"
#include "imc/alloc.h"
#include "imc/config.h"
#include "imc/connector.h"
#include "imc/radl.h"
#include "imc/store.h"

static const char usage[] = "Usage: imc -a AUTH_FILE [-u|-r URL] plan [--json] [INF_ID] FILE\n";

#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define RED    "\033[31m"
#define RESET  "\033[0m"

struct plan_args {
  bool json;
  const char *infra_id; /* NULL: a new infrastructure */
  const char *file;
};

/* Returns CLI_OK, or the status of a usage error (reported).  *help: --help was given and
 * printed, nothing more to do. */
static int parse_args(int argc, char **argv, struct plan_args *a, bool *help)
{
  static const struct option options[] = {
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int c;

  *help = false;
  optind = 0; /* glibc: start over, the dispatcher's getopt state is not ours */
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
    if (c == 'h') {
      *help = true;
      cli_plan_help(stdout);
      return CLI_OK;
    }
    if (c != 'j')
      return cli_option_error(usage, c, argv);
    a->json = true;
  }
  if (argc - optind < 1)
    return cli_usage_error(usage, "no FILE given");
  if (argc - optind > 2)
    return cli_usage_error(usage, "too many arguments");
  a->infra_id = argc - optind == 2 ? argv[optind] : NULL;
  a->file = argv[argc - 1];
  if (!cli_global.auth_file)
    return cli_usage_error(usage, "Auth file not specified (-a FILE)");
  if (a->infra_id && cli_global.xmlrpc_url && cli_global.rest_url)
    return cli_usage_error(usage, "-u (XML-RPC) and -r (REST) name two servers: give one");
  return CLI_OK;
}

static int parse_text(const char *source, const struct imc_buf *text, struct imc_doc **doc,
                      struct imc_err *err)
{
  return radl_parse(source, text->len ? text->data : "", text->len, NULL, doc, err);
}

static int read_doc(const char *path, struct imc_doc **doc, struct imc_err *err)
{
  const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
  struct imc_buf text;
  int r;

  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = cli_read_input(path, &text, err)) == 0)
    r = parse_text(source, &text, doc, err);
  imc_buf_free(&text);
  return r;
}

/* --- the current state ---------------------------------------------------------------------- */

struct current {
  struct imc_doc *doc;
  struct imc_preview_vm *vms;
  size_t nvms;
};

static void current_cleanup(struct current *cur)
{
  for (size_t i = 0; i < cur->nvms; i++)
    imc_doc_free((struct imc_doc *)cur->vms[i].info);
  imc_free(cur->vms);
  imc_doc_free(cur->doc);
}

/* Reads each VM's document (GetVMInfo) into cur->vms. */
static int read_vms(struct cli_backend *b, const char *id, const struct imc_vm_ids *ids,
                    struct current *cur, struct imc_err *err)
{
  struct imc_buf text;
  char source[64];
  int r = 0;

  if (ids->n && !(cur->vms = imc_calloc(ids->n, sizeof *cur->vms)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  imc_buf_init(&text, IMC_MAX_DOC);
  for (size_t i = 0; i < ids->n && !r; i++) {
    struct imc_doc *info = NULL;

    imc_buf_reset(&text);
    snprintf(source, sizeof source, "VM %u", ids->v[i]);
    if ((r = b->vm_radl(b->ctx, id, ids->v[i], &text, err)) != 0 ||
        (r = parse_text(source, &text, &info, err)) != 0)
      imc_err_prefix(err, "VM %u: ", ids->v[i]);
    cur->vms[i] = (struct imc_preview_vm){.id = ids->v[i], .info = info};
    cur->nvms = i + 1;
  }
  imc_buf_free(&text);
  return r;
}

static int read_current(const struct imc_auth *auth, const char *id, struct current *cur,
                        struct imc_err *err)
{
  struct cli_backend b = {0};
  struct imc_vm_ids ids = {0};
  struct imc_buf text;
  int r;

  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = cli_backend_open(auth, &b, err)) != 0)
    goto out;
  if ((r = b.radl(b.ctx, id, &text, err)) == 0 &&
      (r = parse_text("GetInfrastructureRADL", &text, &cur->doc, err)) == 0 &&
      (r = b.info(b.ctx, id, &ids, err)) == 0)
    r = read_vms(&b, id, &ids, cur, err);
  b.close(b.ctx);
out:
  imc_vm_ids_free(&ids);
  imc_buf_free(&text);
  return r;
}

/* --- the planning engine ------------------------------------------------------------------- */

/* Removes dir and the store files in it (SQLite's database, -wal and -shm). */
static void remove_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *ent;

  while (d && (ent = readdir(d)) != NULL)
    if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
      unlinkat(dirfd(d), ent->d_name, 0);
  if (d)
    closedir(d);
  rmdir(dir);
}

static int run_preview(const struct imc_doc *doc, const struct current *cur,
                       const struct imc_auth *auth, json_t **out, struct imc_err *err)
{
  struct imc_engine_opts o = {.connectors = imc_connectors_builtin};
  const char *tmp = getenv("TMPDIR");
  struct imc_store *store = NULL;
  struct imc_engine *e = NULL;
  struct imc_config cfg;
  char dir[PATH_MAX], url[PATH_MAX + 32];
  bool made = false;
  int r, n;

  n = snprintf(dir, sizeof dir, "%s/imc-plan-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if ((r = imc_config_init(&cfg, err)) != 0)
    return r;
  cfg.workers = 1; /* a plan runs no background work */
  if (n < 0 || (size_t)n >= sizeof dir) {
    r = imc_fail(err, IMC_E_INVAL, "TMPDIR is too long");
    goto out;
  }
  if (!(made = mkdtemp(dir) != NULL)) {
    r = imc_fail(err, IMC_E_IO, "cannot create a temporary directory in %s", dir);
    goto out;
  }
  snprintf(url, sizeof url, "sqlite://%s/plan.db", dir);
  o.config = &cfg;
  if ((r = imc_store_open(url, &store, err)) != 0)
    goto out;
  o.store = store;
  if ((r = imc_engine_open(&o, &e, err)) != 0)
    goto out;
  r = imc_preview(e, doc, cur->doc, cur->vms, cur->nvms, auth, out, err);
out:
  if (e)
    imc_engine_close(e);
  imc_store_close(store);
  if (made)
    remove_dir(dir);
  imc_config_cleanup(&cfg);
  return r;
}

/* --- the text -------------------------------------------------------------------------------- */

struct out {
  bool colour;
};

static void symbol(const struct out *o, const char *colour, char sym)
{
  if (o->colour)
    printf("%s%c%s ", colour, sym, RESET);
  else
    printf("%c ", sym);
}

static const char *s_of(long long n)
{
  return n == 1 ? "" : "s";
}

static long long int_of(json_t *o, const char *key)
{
  return json_integer_value(json_object_get(o, key));
}

/* A JSON number as plan text; false for null. */
static bool print_num(json_t *v, const char *after)
{
  if (json_is_integer(v))
    printf("%lld%s", (long long)json_integer_value(v), after);
  else if (json_is_real(v))
    printf("%g%s", json_real_value(v), after);
  else
    return false;
  return true;
}

/* "VM 5" or "VMs 5, 4". */
static void print_vms(json_t *ids)
{
  size_t i;
  json_t *v;

  printf("VM%s ", s_of((long long)json_array_size(ids)));
  json_array_foreach(ids, i, v)
    printf("%s%lld", i ? ", " : "", (long long)json_integer_value(v));
}

static void print_cloud(json_t *cloud)
{
  const char *host = json_string_value(json_object_get(cloud, "host"));

  printf("on cloud %s (%s%s%s)", json_string_value(json_object_get(cloud, "id")),
         json_string_value(json_object_get(cloud, "type")), host ? ", " : "", host ? host : "");
}

/* ", " before every part of a list but the first. */
static void next_part(bool *first)
{
  if (!*first)
    printf(", ");
  *first = false;
}

static void print_size(json_t *v, const char *unit, bool *first)
{
  if (json_is_null(v) || !v)
    return;
  next_part(first);
  print_num(v, unit);
}

/* The image and the flavour lines of one deploy. */
static void print_details(json_t *d)
{
  json_t *image = json_object_get(d, "image"), *gpu = json_object_get(d, "gpu"), *v;
  const char *flavour = json_string_value(json_object_get(d, "flavour"));
  bool first = true;
  size_t i;

  printf("    image   ");
  if (json_is_string(image))
    printf("%s", json_string_value(image));
  json_array_foreach(image, i, v)
    printf("%s%s", i ? ", " : "", json_string_value(v));
  if (json_is_null(image))
    printf("-");
  printf("\n    flavour %s (", flavour ? flavour : "-");
  print_size(json_object_get(d, "cpu"), " CPU", &first);
  print_size(json_object_get(d, "memory_mb"), " MB", &first);
  print_size(json_object_get(d, "disk_gb"), " GB disk", &first);
  if (json_is_object(gpu)) {
    const char *vendor = json_string_value(json_object_get(gpu, "vendor"));
    const char *model = json_string_value(json_object_get(gpu, "model"));

    next_part(&first);
    if (!print_num(json_object_get(gpu, "count"), " "))
      printf("? ");
    printf("GPU%s%s%s%s", vendor ? " " : "", vendor ? vendor : "", model ? " " : "",
           model ? model : "");
  }
  printf(")\n");
}

/* Where the new VMs of a system go: inline after head when there is one deploy. */
static void print_deploys(json_t *deploys, bool inline_first)
{
  size_t i;
  json_t *d;

  json_array_foreach(deploys, i, d) {
    if (!(inline_first && json_array_size(deploys) == 1)) {
      long long n = int_of(d, "count");

      printf("    %lld VM%s ", n, s_of(n));
    }
    print_cloud(json_object_get(d, "cloud"));
    printf("\n");
    print_details(d);
  }
}

static void print_changes(json_t *changes)
{
  size_t i;
  json_t *c;

  json_array_foreach(changes, i, c) {
    const char *o = json_string_value(json_object_get(c, "old"));
    const char *n = json_string_value(json_object_get(c, "new"));

    printf("%s%s %s -> %s", i ? ", " : "", json_string_value(json_object_get(c, "feature")),
           o ? o : "(none)", n ? n : "(none)");
  }
}

static void print_system(const struct out *o, json_t *s)
{
  const char *name = json_string_value(json_object_get(s, "system"));
  const char *action = json_string_value(json_object_get(s, "action"));
  long long now = int_of(s, "vms_now"), want = int_of(s, "vms_wanted");
  long long create = int_of(s, "create");
  json_t *deploys = json_object_get(s, "deploys"), *rm = json_object_get(s, "remove_vms");
  json_t *alter = json_object_get(s, "alter_vms");

  if (strcmp(action, "create") == 0) {
    symbol(o, GREEN, '+');
    printf("system %s: %lld VM%s%s", name, create, s_of(create),
           json_array_size(deploys) == 1 ? " " : "\n");
    print_deploys(deploys, true);
  } else if (strcmp(action, "remove") == 0) {
    symbol(o, RED, '-');
    printf("system %s: %lld VM%s to remove (", name, now, s_of(now));
    print_vms(rm);
    printf(")\n");
  }
  if (strcmp(action, "update") != 0)
    return;
  if (create) {
    symbol(o, YELLOW, '~');
    printf("system %s: %lld -> %lld VMs (%lld to create)\n", name, now, want, create);
    print_deploys(deploys, false);
  }
  if (json_array_size(rm)) {
    symbol(o, YELLOW, '~');
    printf("system %s: %lld -> %lld VMs (%zu to remove: ", name, now, want, json_array_size(rm));
    print_vms(rm);
    printf(")\n");
  }
  if (json_array_size(alter)) {
    symbol(o, YELLOW, '~');
    printf("system %s: ", name);
    print_changes(json_object_get(s, "changes"));
    printf(" (");
    print_vms(alter);
    printf(" altered)\n");
  }
}

/* " (public; security: 22/tcp, 80/tcp from 0.0.0.0/0)": rules sharing a source are grouped. */
static void print_network(const struct out *o, json_t *n)
{
  const char *name = json_string_value(json_object_get(n, "network"));
  const char *action = json_string_value(json_object_get(n, "action"));
  json_t *ports = json_object_get(n, "outports"), *p;
  size_t i;

  if (strcmp(action, "ignored") == 0) {
    symbol(o, YELLOW, '!');
    printf("network %s: the new definition is ignored (IM keeps the stored one)\n", name);
    return;
  }
  if (strcmp(action, "create") != 0)
    return;
  symbol(o, GREEN, '+');
  printf("network %s (%s", name, json_is_true(json_object_get(n, "public")) ? "public" : "private");
  json_array_foreach(ports, i, p) {
    const char *cidr = json_string_value(json_object_get(p, "cidr"));
    json_t *next = json_array_get(ports, i + 1);

    printf("%s", i ? ", " : "; security: ");
    if (json_object_get(p, "port_min"))
      printf("%lld:%lld", int_of(p, "port_min"), int_of(p, "port_max"));
    else if (int_of(p, "remote_port") != int_of(p, "local_port"))
      printf("%lld->%lld", int_of(p, "remote_port"), int_of(p, "local_port"));
    else
      printf("%lld", int_of(p, "remote_port"));
    printf("/%s", json_string_value(json_object_get(p, "protocol")));
    if (!next || strcmp(cidr, json_string_value(json_object_get(next, "cidr"))) != 0)
      printf(" from %s", cidr);
  }
  printf(")\n");
}

static void print_plan(json_t *plan, bool colour)
{
  const struct out o = {.colour = colour};
  json_t *sum = json_object_get(plan, "summary"), *v;
  size_t i;

  json_array_foreach(json_object_get(plan, "networks"), i, v)
    print_network(&o, v);
  json_array_foreach(json_object_get(plan, "systems"), i, v)
    print_system(&o, v);
  if (!int_of(sum, "create") && !int_of(sum, "change") && !int_of(sum, "remove"))
    printf("No changes to the VMs.\n");
  printf("Plan: %lld to create, %lld to change, %lld to remove.\n", int_of(sum, "create"),
         int_of(sum, "change"), int_of(sum, "remove"));
}

static int print_json(json_t *plan)
{
  char *text = json_dumps(plan, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

  if (!text) {
    fputs("imc: out of memory\n", stderr);
    return CLI_FAIL;
  }
  printf("%s\n", text);
  imc_free(text);
  return CLI_OK;
}

/* --- the command ------------------------------------------------------------------------------ */

int cli_plan_run(int argc, char **argv)
{
  struct plan_args a = {0};
  struct current cur = {0};
  struct imc_doc *doc = NULL;
  struct imc_auth auth;
  struct imc_err err = {0};
  json_t *plan = NULL;
  bool help;
  int r;

  if ((r = parse_args(argc, argv, &a, &help)) != CLI_OK || help)
    return r;
  imc_auth_init(&auth);
  /* The document first: a bad FILE is reported as FILE:LINE:COL before anything is read. */
  if (read_doc(a.file, &doc, &err) != 0) {
    fprintf(stderr, "%s\n", err.msg);
    r = CLI_FAIL;
    goto out;
  }
  if (imc_auth_parse_file(cli_global.auth_file, IMC_AUTH_CLIENT, &auth, &err) != 0 ||
      imc_auth_check(&auth, &err) != 0 ||
      (a.infra_id && read_current(&auth, a.infra_id, &cur, &err) != 0) ||
      run_preview(doc, &cur, &auth, &plan, &err) != 0) {
    /* A document error from the engine already starts with FILE:LINE:COL. */
    fprintf(stderr, "%s%s\n", err.code == IMC_E_INVAL ? "" : "imc: plan: ", err.msg);
    r = CLI_FAIL;
    goto out;
  }
  if (a.json)
    r = print_json(plan);
  else
    print_plan(plan, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
out:
  json_decref(plan);
  current_cleanup(&cur);
  imc_doc_free(doc);
  imc_auth_cleanup(&auth);
  return r;
}

void cli_plan_help(FILE *f)
{
  fputs(usage, f);
  fputs("\nShows what FILE (a RADL document; - reads standard input) would create, change or\n"
        "remove, and creates, changes and stores nothing.  Without INF_ID, FILE is a new\n"
        "infrastructure; with it, FILE is the desired state of that infrastructure: the VMs\n"
        "each system deploys in FILE minus the VMs it has now are created (or its newest VMs\n"
        "removed), a system FILE does not deploy loses its VMs, and a changed system lists\n"
        "its feature changes and the VMs they apply to.  For each new VM: the cloud chosen\n"
        "(as CreateInfrastructure/AddResource choose it), image and flavour.  The current\n"
        "state is read from the local store, or from the server of -u/-r.\n\n"
        "Options:\n"
        "  --json      print the plan as JSON (see doc/cli.md, imc plan)\n"
        "  -h, --help  show this help\n\n"
        "Output: + to create, ~ to change, - to remove (coloured on a terminal unless\n"
        "NO_COLOR is set), then 'Plan: N to create, N to change, N to remove.' counting VMs.\n"
        "Exit status: 0 planned, 1 the plan failed (a document error prints FILE:LINE:COL),\n"
        "2 usage error.\n",
        f);
}
