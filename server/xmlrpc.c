/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's XML-RPC API (IM 1.19.2's im_service.py): every method with IM's parameter order and its
 * (success, value) answer, through xmlrpc-c's method registry.  One table lists the methods:
 * the name, the argument format (xmlrpc_int.h) and the call; results are built as JSON and
 * turned into XML-RPC values in one place. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <xmlrpc-c/server.h>

#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/radl.h"
#include "xmlrpc_int.h"

#define MAX_TEXT_RESULT IMC_MAX_DOC

typedef int (*xr_call)(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err);

struct method {
  const char *name;
  const char *fmt;
  xr_call call;
  bool nowait; /* answered from memory or the store, never from a cloud */
};

/* --- results ------------------------------------------------------------------------------ */

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

static int text_result(struct imc_buf *b, json_t **out, struct imc_err *err)
{
  if (imc_buf_err(b))
    return imc_fail(err, imc_buf_err(b), "result too large");
  *out = json_stringn(b->len ? b->data : "", b->len);
  return *out ? 0 : nomem(err);
}

/* A document as RADL text, or as RADL JSON when VMINFO_JSON asks for it. */
static int doc_result(struct imcd *d, const struct imc_doc *doc, bool may_json, json_t **out,
                      struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, MAX_TEXT_RESULT);
  r = may_json && d->cfg->vminfo_json ? radl_json_print(doc, false, &b, err)
                                      : radl_print(doc, &b, err);
  if (r == 0)
    r = text_result(&b, out, err);
  imc_buf_free(&b);
  return r;
}

static int strs_result(const struct imc_strs *s, json_t **out, struct imc_err *err)
{
  json_t *list = json_array();

  for (size_t i = 0; list && i < s->n; i++)
    if (json_array_append_new(list, json_string(s->v[i]))) {
      json_decref(list);
      list = NULL;
    }
  *out = list;
  return list ? 0 : nomem(err);
}

/* VM ids as IM gives them: strings for GetInfrastructureInfo, integers for AddResource. */
static int ids_result(const struct imc_vm_ids *ids, bool as_text, json_t **out,
                      struct imc_err *err)
{
  json_t *list = json_array();
  char num[16];

  for (size_t i = 0; list && i < ids->n; i++) {
    snprintf(num, sizeof num, "%u", ids->v[i]);
    if (json_array_append_new(list, as_text ? json_string(num) : json_integer(ids->v[i]))) {
      json_decref(list);
      list = NULL;
    }
  }
  *out = list;
  return list ? 0 : nomem(err);
}

static int empty_result(json_t **out, struct imc_err *err)
{
  return (*out = json_string("")) ? 0 : nomem(err);
}

/* --- documents in calls -------------------------------------------------------------------- */

/* A RADL parameter: text, or JSON RADL when it starts like JSON (IM accepts both). */
static int arg_doc(const char *text, struct imc_doc **doc, struct imc_err *err)
{
  const char *p = text;

  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  return imcd_parse_doc("radl", text, strlen(text), *p == '[' || *p == '{', doc, err);
}

/* --- the methods ------------------------------------------------------------------------- */

static int m_create(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  char id[IMC_INFRA_ID_MAX];
  int r;

  if ((r = arg_doc(a->s[0], &doc, err)) == 0 &&
      (r = imc_infra_create(d->engine, doc, &a->auth, a->b[0], id, err)) == 0)
    r = (*out = json_string(id)) ? 0 : nomem(err);
  imc_doc_free(doc);
  return r;
}

static int m_destroy(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  int r = imc_infra_destroy(d->engine, a->s[0], &a->auth, a->b[0], a->b[1], err);

  return r ? r : empty_result(out, err);
}

static int power(struct imcd *d, struct xr_args *a, enum imc_power op, json_t **out,
                 struct imc_err *err)
{
  int r = imc_infra_power(d->engine, a->s[0], op, &a->auth, err);

  return r ? r : empty_result(out, err);
}

static int m_start(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return power(d, a, IMC_POWER_START, out, err);
}

static int m_stop(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return power(d, a, IMC_POWER_STOP, out, err);
}

static int m_info(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_vm_ids ids;
  int r = imc_infra_info(d->engine, a->s[0], &a->auth, &ids, err);

  if (r == 0)
    r = ids_result(&ids, true, out, err);
  imc_vm_ids_free(&ids);
  return r;
}

/* A VM id parameter (IM's clients send it as a string). */
static int vm_of(const char *text, unsigned *vm, struct imc_err *err)
{
  char *end;
  unsigned long v = strtoul(text, &end, 10);

  if (end == text || *end || v > 0x7fffffffUL)
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid VM ID");
  *vm = (unsigned)v;
  return 0;
}

static int m_vm_info(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  unsigned vm = 0;
  int r;

  if ((r = vm_of(a->s[1], &vm, err)) == 0 &&
      (r = imc_vm_info(d->engine, a->s[0], vm, &a->auth, &doc, err)) == 0)
    r = doc_result(d, doc, true, out, err);
  imc_doc_free(doc);
  return r;
}

/* IM's GetVMProperty answers radl.systems[0].getValue(prop), as REST does: numbers with a unit
 * in base units, `contains` as an object. */
static int m_vm_property(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_feature *f = NULL;
  unsigned vm = 0;
  int r;

  if ((r = vm_of(a->s[1], &vm, err)) == 0 &&
      (r = imc_vm_property(d->engine, a->s[0], vm, a->s[2], &a->auth, &f, err)) == 0)
    r = (*out = radl_feature_json(f)) ? 0 : nomem(err);
  imc_feature_free(f);
  return r;
}

static int m_alter(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL, *res = NULL;
  unsigned vm = 0;
  int r;

  if ((r = vm_of(a->s[1], &vm, err)) == 0 && (r = arg_doc(a->s[2], &doc, err)) == 0 &&
      (r = imc_vm_alter(d->engine, a->s[0], vm, doc, &a->auth, &res, err)) == 0)
    r = doc_result(d, res, true, out, err);
  imc_doc_free(doc);
  imc_doc_free(res);
  return r;
}

static int m_remove(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  unsigned removed = 0;
  bool context = a->given < 4 || a->b[0]; /* context defaults to True */
  int r = imc_infra_remove(d->engine, a->s[0], a->ids.v, a->ids.n, &a->auth, context, &removed,
                           err);

  return r ? r : ((*out = json_integer(removed)) ? 0 : nomem(err));
}

static int m_add(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  struct imc_vm_ids ids = {0};
  bool context = a->given < 4 || a->b[0];
  int r;

  if ((r = arg_doc(a->s[1], &doc, err)) == 0 &&
      (r = imc_infra_add(d->engine, a->s[0], doc, &a->auth, context, &ids, err)) == 0)
    r = ids_result(&ids, false, out, err);
  imc_vm_ids_free(&ids);
  imc_doc_free(doc);
  return r;
}

static int m_list(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_strs ids;
  int r = imc_infra_list(d->engine, &a->auth, a->s[0], &ids, err);

  if (r == 0)
    r = strs_result(&ids, out, err);
  imc_strs_free(&ids);
  return r;
}

static int m_reconfigure(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  int r = 0;

  if (a->s[1] && *a->s[1] && (r = arg_doc(a->s[1], &doc, err)) != 0)
    return r;
  r = imc_infra_reconfigure(d->engine, a->s[0], doc, a->ids.v, a->ids.n, &a->auth, err);
  imc_doc_free(doc);
  return r ? r : empty_result(out, err);
}

static int m_import(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  char id[IMC_INFRA_ID_MAX];
  int r = imc_infra_import(d->engine, a->s[0], strlen(a->s[0]), &a->auth, id, err);

  return r ? r : ((*out = json_string(id)) ? 0 : nomem(err));
}

static int m_export(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, MAX_TEXT_RESULT);
  if ((r = imc_infra_export(d->engine, a->s[0], &a->auth, a->b[0], &b, err)) == 0)
    r = text_result(&b, out, err);
  imc_buf_free(&b);
  return r;
}

static int m_radl(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  int r;

  if ((r = imc_infra_radl(d->engine, a->s[0], &a->auth, &doc, err)) == 0)
    r = doc_result(d, doc, false, out, err);
  imc_doc_free(doc);
  return r;
}

static int m_contmsg(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, MAX_TEXT_RESULT);
  if ((r = imc_infra_contmsg(d->engine, a->s[0], &a->auth, a->b[0], &b, err)) == 0)
    r = text_result(&b, out, err);
  imc_buf_free(&b);
  return r;
}

static int m_vm_contmsg(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_buf b;
  unsigned vm = 0;
  int r;

  imc_buf_init(&b, MAX_TEXT_RESULT);
  if ((r = vm_of(a->s[1], &vm, err)) == 0 &&
      (r = imc_vm_contmsg(d->engine, a->s[0], vm, &a->auth, &b, err)) == 0)
    r = text_result(&b, out, err);
  imc_buf_free(&b);
  return r;
}

static int vm_power(struct imcd *d, struct xr_args *a, enum imc_power op, json_t **out,
                    struct imc_err *err)
{
  unsigned vm = 0;
  int r;

  if ((r = vm_of(a->s[1], &vm, err)) == 0 &&
      (r = imc_vm_power(d->engine, a->s[0], vm, op, &a->auth, err)) == 0)
    r = empty_result(out, err);
  return r;
}

static int m_start_vm(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return vm_power(d, a, IMC_POWER_START, out, err);
}

static int m_stop_vm(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return vm_power(d, a, IMC_POWER_STOP, out, err);
}

static int m_reboot_vm(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return vm_power(d, a, IMC_POWER_REBOOT, out, err);
}

static int m_state(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_infra_state st;
  json_t *vms;
  char num[16];
  int r;

  if ((r = imc_infra_state(d->engine, a->s[0], &a->auth, &st, err)) != 0)
    return r;
  vms = json_object();
  for (size_t i = 0; vms && i < st.n; i++) {
    snprintf(num, sizeof num, "%u", st.vm_ids[i]);
    json_object_set_new(vms, num, json_string(imc_vm_state_name(st.vm_states[i])));
  }
  *out = vms ? json_pack("{s:s, s:o}", "state", imc_vm_state_name(st.state), "vm_states", vms)
             : NULL;
  imc_infra_state_free(&st);
  return *out ? 0 : nomem(err);
}

static int m_version(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return (*out = json_string(imc_engine_version())) ? 0 : nomem(err);
}

static int m_snapshot(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  char *url = NULL, *end;
  unsigned vm = 0;
  unsigned long disk = strtoul(a->s[2], &end, 10);
  int r;

  if (end == a->s[2] || *end)
    return imc_fail(err, IMC_E_INVAL, "Error creating snapshot: the disk number is not a number");
  if ((r = vm_of(a->s[1], &vm, err)) == 0 &&
      (r = imc_vm_snapshot(d->engine, a->s[0], vm, (unsigned)disk, a->s[3], a->b[0], &a->auth,
                           &url, err)) == 0)
    r = (*out = json_string(url)) ? 0 : nomem(err);
  imc_free(url);
  return r;
}

static int m_images(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_auth holder;
  const struct imc_auth_entry *filters = NULL;
  struct imc_image *images = NULL;
  xmlrpc_env env;
  size_t n = 0;
  int r;

  imc_auth_init(&holder);
  xmlrpc_env_init(&env);
  if ((r = xr_filters(&env, a->filters, &holder, &filters, err)) == 0 &&
      (r = imc_cloud_images(d->engine, a->s[0], filters, &a->auth, &images, &n, err)) == 0)
    r = (*out = imc_images_json(images, n)) ? 0 : nomem(err);
  imc_images_free(images, n);
  imc_auth_cleanup(&holder);
  xmlrpc_env_clean(&env);
  return r;
}

static int m_quotas(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_quota q[IMC_MAX_QUOTAS];
  size_t n = 0;
  int r;

  if ((r = imc_cloud_quotas(d->engine, a->s[0], &a->auth, q, &n, err)) != 0)
    return r;
  return (*out = imc_quotas_json(q, n)) ? 0 : nomem(err);
}

static int m_change_auth(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  int r = imc_infra_change_auth(d->engine, a->s[0], &a->auth2, a->b[0], &a->auth, err);

  return r ? r : empty_result(out, err);
}

static int m_owners(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_strs names;
  int r = imc_infra_owners(d->engine, a->s[0], &a->auth, &names, err);

  if (r == 0)
    r = strs_result(&names, out, err);
  imc_strs_free(&names);
  return r;
}

static int m_estimate(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  int r;

  if ((r = arg_doc(a->s[0], &doc, err)) == 0)
    r = imc_estimate(d->engine, doc, &a->auth, out, err);
  imc_doc_free(doc);
  return r;
}

static int m_stats(struct imcd *d, struct xr_args *a, json_t **out, struct imc_err *err)
{
  return imc_stats(d->engine, a->s[0], a->s[1], &a->auth, out, err);
}

/* IM 1.19.2's methods, with its parameter orders (im_service.py); true: never waits on a
 * cloud. */
static const struct method methods[] = {
  {"CreateInfrastructure", "sA|b", m_create, false},
  {"DestroyInfrastructure", "sA|bb", m_destroy, false},
  {"StartInfrastructure", "sA", m_start, false},
  {"StopInfrastructure", "sA", m_stop, false},
  {"GetInfrastructureInfo", "sA", m_info, true},
  {"GetVMInfo", "ssA", m_vm_info, false},
  {"GetVMProperty", "sssA", m_vm_property, false},
  {"AlterVM", "sssA", m_alter, false},
  {"RemoveResource", "sIA|b", m_remove, false},
  {"AddResource", "ssA|b", m_add, false},
  {"GetInfrastructureList", "A|s", m_list, true},
  {"Reconfigure", "ssA|I", m_reconfigure, false},
  {"ExportInfrastructure", "sbA", m_export, false},
  {"ImportInfrastructure", "sA", m_import, false},
  {"GetInfrastructureRADL", "sA", m_radl, true},
  {"GetInfrastructureContMsg", "sA|b", m_contmsg, true},
  {"GetVMContMsg", "ssA", m_vm_contmsg, true},
  {"StartVM", "ssA", m_start_vm, false},
  {"StopVM", "ssA", m_stop_vm, false},
  {"RebootVM", "ssA", m_reboot_vm, false},
  {"GetInfrastructureState", "sA", m_state, false},
  {"GetVersion", "", m_version, true},
  {"CreateDiskSnapshot", "ssssbA", m_snapshot, false},
  {"GetCloudImageList", "sA|F", m_images, false},
  {"GetCloudQuotas", "sA", m_quotas, false},
  {"ChangeInfrastructureAuth", "sNbA", m_change_auth, false},
  {"GetInfrastructureOwners", "sA", m_owners, true},
  {"EstimateResources", "sA", m_estimate, false},
  {"GetStats", "ssA", m_stats, true},
};

#define NMETHODS (sizeof methods / sizeof methods[0])

bool xmlrpc_may_block(const char *body, size_t len)
{
  static const char open_tag[] = "<methodName>";
  const char *name, *close;
  size_t n;

  if (!body || !(name = memmem(body, len, open_tag, sizeof open_tag - 1)))
    return false; /* not a call: a fault at once */
  name += sizeof open_tag - 1;
  if (!(close = memchr(name, '<', len - (size_t)(name - body))))
    return false;
  n = (size_t)(close - name);
  for (size_t i = 0; i < NMETHODS; i++)
    if (strlen(methods[i].name) == n && memcmp(methods[i].name, name, n) == 0)
      return !methods[i].nowait;
  return true; /* unsure (an unknown method is a fault at once, but a name with blanks?) */
}

/* --- the registry ------------------------------------------------------------------------ */

struct bound {
  struct imcd *d;
  const struct method *m;
};

/* What one call passes through xmlrpc-c to its method. */
struct call {
  const char *request_id;
  struct imcd_response *rs;
};

static xmlrpc_value *answer(xmlrpc_env *env, bool ok, xmlrpc_value *value)
{
  xmlrpc_value *pair = xmlrpc_array_new(env), *flag = xmlrpc_bool_new(env, ok);

  xmlrpc_array_append_item(env, pair, flag);
  xmlrpc_array_append_item(env, pair, value);
  xmlrpc_DECREF(flag);
  xmlrpc_DECREF(value);
  return pair;
}

static xmlrpc_value *dispatch(xmlrpc_env *env, xmlrpc_value *params, void *server_info,
                              void *call_info)
{
  const struct bound *b = server_info;
  struct call *call = call_info;
  struct xr_args a;
  struct imc_err err = {0};
  json_t *result = NULL;
  xmlrpc_value *v;
  int r;

  if ((r = xr_args_read(env, params, b->m->fmt, &a, &err)) == 0)
    r = b->m->call(b->d, &a, &result, &err);
  xr_args_cleanup(&a);
  call->rs->route_method = "POST";
  call->rs->route = b->m->name;
  call->rs->failed = r != 0;
  if (r) {
    imc_log(IMC_LOG_INFO, "%s %s: %s", call->request_id, b->m->name, err.msg);
    return answer(env, false, xmlrpc_string_new(env, err.msg));
  }
  v = xr_json(env, result, 0);
  json_decref(result);
  return answer(env, true, v);
}

static struct {
  pthread_once_t once;
  xmlrpc_registry *reg;
  struct bound bound[NMETHODS];
} registry = {.once = PTHREAD_ONCE_INIT};

static struct imcd *registry_server;

static void registry_init(void)
{
  xmlrpc_env env;

  xmlrpc_env_init(&env);
  /* xmlrpc-c refuses calls over 512 KB by default: the configured body limit decides. */
  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, (size_t)registry_server->cfg->max_request_body);
  registry.reg = xmlrpc_registry_new(&env);
  for (size_t i = 0; i < NMETHODS && !env.fault_occurred; i++) {
    struct xmlrpc_method_info3 info = {
      .methodName = methods[i].name,
      .methodFunction = dispatch,
      .serverInfo = &registry.bound[i],
    };

    registry.bound[i] = (struct bound){registry_server, &methods[i]};
    xmlrpc_registry_add_method3(&env, registry.reg, &info);
  }
  if (env.fault_occurred) {
    imc_log(IMC_LOG_ERROR, "XML-RPC registry: %s", env.fault_string);
    registry.reg = NULL;
  }
  xmlrpc_env_clean(&env);
}

void xmlrpc_handle(struct imcd *d, const struct imcd_request *rq, struct imcd_response *rs)
{
  xmlrpc_env env;
  xmlrpc_mem_block *output = NULL;
  struct call call = {rq->request_id, rs};

  registry_server = d;
  pthread_once(&registry.once, registry_init);
  snprintf(rs->content_type, sizeof rs->content_type, "text/xml");
  if (strcmp(rq->method, "POST") != 0) {
    rs->status = 405;
    snprintf(rs->content_type, sizeof rs->content_type, "text/plain");
    imc_buf_adds(&rs->body, "XML-RPC calls are POST requests");
    imcd_add_header(rs, "Allow", "POST");
    return;
  }
  if (!registry.reg) {
    rs->status = 500;
    return;
  }
  if (!xr_i8_safe(rq->body, rq->body_len)) {
    rs->status = 400;
    snprintf(rs->content_type, sizeof rs->content_type, "text/plain");
    imc_buf_adds(&rs->body, "XML-RPC: an <i8> value is not a 64-bit integer");
    return;
  }
  xmlrpc_env_init(&env);
  rs->failed = true; /* a fault (unknown method, not XML-RPC) never reaches dispatch */
  xmlrpc_registry_process_call2(&env, registry.reg, rq->body, rq->body_len,
                                &call, &output);
  if (env.fault_occurred || !output) {
    rs->status = 500;
    snprintf(rs->content_type, sizeof rs->content_type, "text/plain");
    imc_buf_adds(&rs->body, "XML-RPC: cannot process the call");
  } else {
    imc_buf_add(&rs->body, XMLRPC_MEMBLOCK_CONTENTS(char, output),
                XMLRPC_MEMBLOCK_SIZE(char, output));
  }
  if (output)
    XMLRPC_MEMBLOCK_FREE(char, output);
  xmlrpc_env_clean(&env);
}
