/* SPDX-License-Identifier: GPL-3.0-or-later */
/* im-client's operations that change infrastructures: each prints im-client 1.8.4's text
 * (nothing with -q), or with --json one JSON object. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "ops_int.h"

/* With --json, {"id": id} and the members of extra (stolen, may be NULL). */
static int done_json(const char *id, json_t *extra)
{
  json_t *o = json_pack("{s:s}", "id", id);

  if (o && extra && json_object_update(o, extra) != 0) {
    json_decref(o);
    o = NULL;
  }
  json_decref(extra);
  return op_print_json(o);
}

/* The success line, or the JSON object. */
static int done(const char *id, const char *line, json_t *extra)
{
  if (cli_global.json)
    return done_json(id, extra);
  json_decref(extra);
  if (!cli_global.quiet)
    printf("%s\n", line);
  return CLI_OK;
}

static json_t *vm_ids_json(const struct imc_vm_ids *vms)
{
  json_t *list = json_array();

  for (size_t i = 0; list && i < vms->n; i++)
    if (json_array_append_new(list, json_integer(vms->v[i])) != 0) {
      json_decref(list);
      list = NULL;
    }
  return list;
}

int op_create(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct op_doc d;
  char id[IMC_INFRA_ID_MAX], line[128];
  int async = c->rest, r; /* im-client: asynchronous on REST unless the flag says */

  if ((r = op_flag(c, 2, "async", &async, &err)) == 0 &&
      (r = op_doc_read(c->argv[1], true, &d, &err)) == 0)
    r = c->b->create(c->b->ctx, d.doc, d.text.data ? d.text.data : "", d.text.len, async, id, &err);
  op_doc_free(&d);
  if (r)
    return op_failed("ERROR creating the infrastructure", &err);
  snprintf(line, sizeof line, "Infrastructure successfully created with ID: %s", id);
  if (!cli_global.wait)
    return done(id, line, NULL);
  if (op_chatty())
    printf("%s\n", line);
  if (op_wait_for(c, id, 36000, &err) != 0)
    return op_failed("ERROR waiting for the infrastructure", &err);
  return cli_global.json ? done_json(id, json_pack("{s:s}", "state", "configured")) : CLI_OK;
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

int op_destroy(struct op_ctx *c)
{
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];

  if (op_infra_id(c, id, &err) != 0)
    return op_failed("ERROR destroying the infrastructure", &err);
  if (!confirmed(id))
    return op_failed_msg("ERROR destroying the infrastructure", "Canceled by the user.");
  if (c->b->destroy(c->b->ctx, id, cli_global.force, &err) != 0)
    return op_failed("ERROR destroying the infrastructure", &err);
  return done(id, "Infrastructure successfully destroyed", NULL);
}

int op_addresource(struct op_ctx *c)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};
  struct op_doc d = {0};
  char id[IMC_INFRA_ID_MAX];
  int context = -1, r;

  if ((r = op_infra_id(c, id, &err)) == 0 && (r = op_flag(c, 3, "ctxt", &context, &err)) == 0 &&
      (r = op_doc_read(c->argv[2], false, &d, &err)) == 0)
    r = c->b->add(c->b->ctx, id, d.doc, d.text.data ? d.text.data : "", d.text.len, context, &vms,
                  &err);
  op_doc_free(&d);
  if (r)
    return op_failed("ERROR adding resources to infrastructure", &err);
  if (cli_global.json) {
    r = done_json(id, json_pack("{s:o}", "vms", vm_ids_json(&vms)));
  } else if (cli_global.quiet) {
    r = op_print_json(vm_ids_json(&vms));
  } else {
    printf("Resources with IDs: ");
    for (size_t i = 0; i < vms.n; i++)
      printf("%s%u", i ? "," : "", vms.v[i]);
    printf(" successfully added.\n");
  }
  imc_vm_ids_free(&vms);
  return r;
}

int op_removeresource(struct op_ctx *c)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX], line[512];
  int context = -1, r;

  if ((r = op_infra_id(c, id, &err)) == 0 && (r = op_flag(c, 3, "ctxt", &context, &err)) == 0 &&
      (r = op_vm_list(c->argv[2], &vms, &err)) == 0)
    r = c->b->remove(c->b->ctx, id, &vms, context, &err);
  if (r == 0) {
    snprintf(line, sizeof line, "Resources with IDs: %s successfully deleted.", c->argv[2]);
    r = done(id, line, json_pack("{s:o}", "removed", vm_ids_json(&vms)));
  } else {
    r = op_failed("ERROR deleting resources from the infrastructure", &err);
  }
  imc_vm_ids_free(&vms);
  return r;
}

int op_alter(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct imc_buf radl;
  struct op_doc d = {0};
  char id[IMC_INFRA_ID_MAX];
  unsigned vm;
  int r;

  if ((r = op_vm_id(c, 2, &vm)) != CLI_OK)
    return r;
  imc_buf_init(&radl, IMC_MAX_DOC);
  if ((r = op_infra_id(c, id, &err)) == 0 && (r = op_doc_read(c->argv[3], false, &d, &err)) == 0)
    r = c->b->alter(c->b->ctx, id, vm, d.doc, d.text.data ? d.text.data : "", d.text.len, &radl,
                    &err);
  op_doc_free(&d);
  r =
    r ? op_failed("ERROR modifying the VM", &err)
      : done(id, "VM successfully modified.",
             json_pack("{s:i, s:s%}", "vm", (int)vm, "radl", radl.data ? radl.data : "", radl.len));
  imc_buf_free(&radl);
  return r;
}

int op_reconfigure(struct op_ctx *c)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};
  struct op_doc d = {0};
  char id[IMC_INFRA_ID_MAX];
  int r;

  imc_buf_init(&d.text, 1);
  if ((r = op_infra_id(c, id, &err)) == 0 && c->argc > 3)
    r = op_vm_list(c->argv[3], &vms, &err);
  if (r == 0 && c->argc > 2) {
    op_doc_free(&d);
    r = op_doc_read(c->argv[2], false, &d, &err);
  }
  if (r == 0)
    r = c->b->reconfigure(c->b->ctx, id, d.doc, d.text.data ? d.text.data : "", d.text.len, &vms,
                          &err);
  op_doc_free(&d);
  imc_vm_ids_free(&vms);
  return r ? op_failed("ERROR reconfiguring the infrastructure", &err)
           : done(id, "Infrastructure successfully reconfigured.", NULL);
}

/* --- start, stop, reboot ----------------------------------------------------------------- */

/* What im-client prints for each power operation. */
struct power_words {
  enum imc_power op;
  const char *infra_ok, *infra_fail, *vm_ok, *vm_fail;
};

static const struct power_words power_words[] = {
  {IMC_POWER_START, "Infrastructure successfully started", "ERROR starting the infraestructure",
   "VM successfully started", "Error starting VM"},
  {IMC_POWER_STOP, "Infrastructure successfully stopped", "ERROR stopping the infrastructure",
   "VM successfully stopped", "Error stopping VM"},
  {IMC_POWER_REBOOT, "Infrastructure successfully rebooted", "ERROR rebooting the infrastructure",
   "VM successfully rebooted", "Error rebooting VM"},
};

/* IM has no reboot of a whole infrastructure: each VM is rebooted in turn. */
static int reboot_all(struct op_ctx *c, const char *id, struct imc_err *err)
{
  struct imc_vm_ids vms = {0};
  int r = c->b->info(c->b->ctx, id, &vms, err);

  for (size_t i = 0; r == 0 && i < vms.n; i++)
    r = c->b->power(c->b->ctx, id, &vms.v[i], IMC_POWER_REBOOT, err);
  imc_vm_ids_free(&vms);
  return r;
}

static int power(struct op_ctx *c, enum imc_power op, bool one_vm)
{
  const struct power_words *w = &power_words[op];
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  unsigned vm = 0;
  int r;

  if (one_vm && (r = op_vm_id(c, 2, &vm)) != CLI_OK)
    return r;
  if ((r = op_infra_id(c, id, &err)) == 0)
    r = one_vm                   ? c->b->power(c->b->ctx, id, &vm, op, &err)
        : op == IMC_POWER_REBOOT ? reboot_all(c, id, &err)
                                 : c->b->power(c->b->ctx, id, NULL, op, &err);
  if (r)
    return op_failed(one_vm ? w->vm_fail : w->infra_fail, &err);
  return done(id, one_vm ? w->vm_ok : w->infra_ok,
              one_vm ? json_pack("{s:i}", "vm", (int)vm) : NULL);
}

int op_start(struct op_ctx *c)
{
  return power(c, IMC_POWER_START, false);
}

int op_stop(struct op_ctx *c)
{
  return power(c, IMC_POWER_STOP, false);
}

int op_reboot(struct op_ctx *c)
{
  return power(c, IMC_POWER_REBOOT, false);
}

int op_startvm(struct op_ctx *c)
{
  return power(c, IMC_POWER_START, true);
}

int op_stopvm(struct op_ctx *c)
{
  return power(c, IMC_POWER_STOP, true);
}

int op_rebootvm(struct op_ctx *c)
{
  return power(c, IMC_POWER_REBOOT, true);
}

/* --- import, change_auth ----------------------------------------------------------------- */

int op_import(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct imc_buf text;
  char id[IMC_INFRA_ID_MAX];
  json_t *quoted = NULL;
  int r;

  imc_buf_init(&text, 64u * 1024 * 1024);
  if ((r = cli_read_input(c->argv[1], &text, &err)) == 0) {
    /* What `imc export` (and im-client's) printed: the data as one JSON string. */
    quoted = json_loadb(text.data ? text.data : "", text.len, JSON_DECODE_ANY, NULL);
    if (json_is_string(quoted))
      r = c->b->import_data(c->b->ctx, json_string_value(quoted), json_string_length(quoted), id,
                            &err);
    else
      r = c->b->import_data(c->b->ctx, text.data ? text.data : "", text.len, id, &err);
  }
  json_decref(quoted);
  imc_buf_free(&text);
  if (r)
    return op_failed("ERROR importing data", &err);
  if (cli_global.json)
    return done_json(id, NULL);
  printf("%s%s\n", cli_global.quiet ? "" : "New Inf: ", id);
  return CLI_OK;
}

/* The InfrastructureManager entry of the new auth file (im-client reads only that one). */
static int new_owner(const char *path, struct imc_auth *a, const struct imc_auth_entry **im,
                     struct imc_err *err)
{
  size_t pos = 0;
  int r = imc_auth_parse_file(path, IMC_AUTH_CLIENT, a, err);

  if (r == 0 && !(*im = imc_auth_next_of_type(a, "InfrastructureManager", NULL, &pos)))
    r = imc_fail(err, IMC_E_INVAL, "No new InfrastructureManager auth provided.");
  return r;
}

int op_change_auth(struct op_ctx *c)
{
  const struct imc_auth_entry *im = NULL;
  struct imc_auth fresh;
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  int overwrite = 0, r;

  imc_auth_init(&fresh);
  if ((r = op_infra_id(c, id, &err)) == 0 &&
      (r = op_flag(c, 3, "overwrite", &overwrite, &err)) == 0 &&
      (r = new_owner(c->argv[2], &fresh, &im, &err)) == 0)
    r = c->b->change_auth(c->b->ctx, id, im, overwrite, &err);
  imc_auth_cleanup(&fresh);
  return r ? op_failed("ERROR changing auth data", &err)
           : done(id, "Auth data successfully changed.", NULL);
}
