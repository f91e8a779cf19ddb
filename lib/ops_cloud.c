/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's calls about clouds and the server: GetCloudImageList, GetCloudQuotas,
 * EstimateResources, GetStats. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deploy_int.h"
#include "imc/alloc.h"
#include "imc/json.h"
#include "imc/radl.h"

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* The caller's cloud cloud_id, opened. */
static int open_cloud(struct imc_engine *e, const char *cloud_id, const struct imc_auth *auth,
                      unsigned cap, const struct imc_connector **conn, void **ctx,
                      struct imc_err *err)
{
  struct caller c = {0};
  const struct imc_auth_entry *en;
  int r;

  *ctx = NULL;
  if ((r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  caller_cleanup(&c);
  if (!cloud_id || !(en = auth_for_cloud(auth, cloud_id)))
    return imc_fail(err, IMC_E_NOTFOUND, "Cloud ID %s not found.", cloud_id ? cloud_id : "");
  if (!(*conn = engine_connector(e, imc_auth_get(en, "type"))))
    return imc_fail(err, IMC_E_UNSUPPORTED, "Cloud ID %s: no connector for type %s in this "
                                            "build", cloud_id, imc_auth_get(en, "type"));
  if (!((*conn)->caps & cap))
    return imc_fail(err, IMC_E_UNSUPPORTED, "Cloud ID %s (%s) cannot do this", cloud_id,
                    (*conn)->name);
  return cloud_open(*conn, en, ctx, err);
}

int imc_cloud_images(struct imc_engine *e, const char *cloud_id,
                     const struct imc_auth_entry *filters, const struct imc_auth *auth,
                     struct imc_image **images, size_t *n, struct imc_err *err)
{
  const struct imc_connector *conn = NULL;
  void *ctx = NULL;
  int r;

  *images = NULL;
  *n = 0;
  if ((r = open_cloud(e, cloud_id, auth, IMC_CAP_IMAGES, &conn, &ctx, err)) == 0)
    r = conn->list_images(ctx, filters, images, n, err);
  if (conn)
    cloud_close(conn, ctx);
  return r;
}

int imc_cloud_quotas(struct imc_engine *e, const char *cloud_id, const struct imc_auth *auth,
                     struct imc_quota quotas[IMC_MAX_QUOTAS], size_t *n, struct imc_err *err)
{
  const struct imc_connector *conn = NULL;
  void *ctx = NULL;
  int r;

  *n = 0;
  if ((r = open_cloud(e, cloud_id, auth, IMC_CAP_QUOTAS, &conn, &ctx, err)) == 0)
    r = conn->quotas(ctx, quotas, n, err);
  if (conn)
    cloud_close(conn, ctx);
  return r;
}

json_t *imc_images_json(const struct imc_image *images, size_t n)
{
  json_t *list = json_array();

  for (size_t i = 0; list && i < n; i++)
    if (json_array_append_new(list, json_pack("{s:o, s:o}", "uri", imc_json_text(images[i].uri
                                                                                  ? images[i].uri
                                                                                  : ""),
                                              "name",
                                              imc_json_text(images[i].name ? images[i].name
                                                                           : ""))) != 0) {
      json_decref(list);
      list = NULL;
    }
  return list;
}

json_t *imc_quotas_json(const struct imc_quota *quotas, size_t n)
{
  json_t *obj = json_object();

  for (size_t i = 0; obj && i < n; i++)
    if (json_object_set_new(obj, quotas[i].name,
                            json_pack("{s:I, s:I}", "used", (json_int_t)quotas[i].used, "limit",
                                      (json_int_t)quotas[i].limit)) != 0) {
      json_decref(obj);
      obj = NULL;
    }
  return obj;
}

/* --- EstimateResources ------------------------------------------------------------------- */

static bool has_public_net(const struct imc_doc *doc, const struct imc_elem *sys)
{
  char name[64];

  for (unsigned i = 0;; i++) {
    const char *net;
    const struct imc_elem *n;
    const char *outb;

    snprintf(name, sizeof name, "net_interface.%u.connection", i);
    if (!(net = imc_features_str(&sys->feats, name)))
      return false;
    n = imc_doc_network(doc, net);
    outb = n ? imc_features_str(&n->feats, "outbound") : NULL;
    if (outb && strcmp(outb, "yes") == 0)
      return true;
  }
}

/* IM's compute entry for one VM of a concrete system. */
static json_t *compute_entry(const struct imc_doc *doc, const struct imc_elem *sys)
{
  json_t *vm = json_object();
  double v, disk = 0;

  if (!vm)
    return NULL;
  if (imc_features_num(&sys->feats, "cpu.count", NULL, &v))
    json_object_set_new(vm, "cpuCores", json_integer((json_int_t)v));
  if (imc_features_num(&sys->feats, "memory.size", "M", &v))
    json_object_set_new(vm, "memoryInMegabytes", json_integer((json_int_t)v));
  if (imc_features_num(&sys->feats, "gpu.count", NULL, &v) && v > 0)
    json_object_set_new(vm, "GPU", json_integer((json_int_t)v));
  if (imc_features_num(&sys->feats, "disk.0.free_size", "G", &v))
    disk += v;
  if (imc_features_num(&sys->feats, "disk.0.size", "G", &v))
    disk += v;
  if (disk > 0)
    json_object_set_new(vm, "diskSizeInGigabytes", json_integer((json_int_t)disk));
  if (has_public_net(doc, sys))
    json_object_set_new(vm, "publicIP", json_integer(1));
  return vm;
}

/* IM's storage entries: every disk with a size (disk 0 included). */
static int storage_entries(const struct imc_elem *sys, json_t *storage)
{
  char name[64];

  for (unsigned i = 0;; i++) {
    double size;
    const char *type;
    json_t *vol;

    snprintf(name, sizeof name, "disk.%u.size", i);
    if (!imc_features_num(&sys->feats, name, "G", &size)) {
      snprintf(name, sizeof name, "disk.%u.image.url", i);
      if (i > 0 && !imc_features_get(&sys->feats, name))
        return 0;
      continue;
    }
    if (!(vol = json_pack("{s:I}", "sizeInGigabytes", (json_int_t)size)))
      return IMC_E_NOMEM;
    snprintf(name, sizeof name, "disk.%u.type", i);
    if ((type = imc_features_str(&sys->feats, name)))
      json_object_set_new(vol, "type", json_string(type));
    if (json_array_append_new(storage, vol))
      return IMC_E_NOMEM;
  }
}

int imc_estimate(struct imc_engine *e, const struct imc_doc *doc, const struct imc_auth *auth,
                 json_t **out, struct imc_err *err)
{
  struct caller c = {0};
  struct plan plan;
  json_t *res;
  int r;

  *out = NULL;
  if ((r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  caller_cleanup(&c);
  if ((r = radl_check(doc, err)) != 0)
    return r;
  if (!(res = json_object()))
    return nomem(err);
  plan_init(&plan);
  if (doc->ndeploys && (r = plan_make(e, NULL, doc, auth, &plan, err)) != 0)
    goto out;
  for (size_t d = 0; d < plan.ndeploys && !r; d++) {
    const struct plan_deploy *pd = &plan.deploys[d];
    const struct cloud *cl = &plan.clouds[plan.groups[pd->group].clouds[0]];
    const struct imc_elem *sys = plan_concrete(&plan, plan.groups[pd->group].clouds[0],
                                               pd->system);
    json_t *entry = json_object_get(res, cl->id);
    const char *host = imc_auth_get(cl->auth, "host");

    if (!entry) {
      entry = json_pack("{s:s, s:s?, s:[], s:[]}", "cloudType", cl->conn->name,
                        "cloudEndpoint", host, "compute", "storage");
      if (!entry || json_object_set_new(res, cl->id, entry)) {
        r = nomem(err);
        break;
      }
    }
    for (size_t k = 0; k < pd->count && !r; k++) {
      json_t *vm = compute_entry(doc, sys);

      if (!vm || json_array_append_new(json_object_get(entry, "compute"), vm) ||
          storage_entries(sys, json_object_get(entry, "storage")))
        r = nomem(err);
    }
  }
out:
  plan_cleanup(&plan);
  if (r) {
    json_decref(res);
    return r;
  }
  *out = res;
  return 0;
}

/* --- GetStats -------------------------------------------------------------------------------- */

static void date_text(int64_t when, char *buf, size_t len)
{
  time_t t = (time_t)when;
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* "YYYY-MM-DD" as seconds since the epoch (UTC); -1 when malformed. */
static int64_t parse_date(const char *s)
{
  struct tm tm = {0};
  const char *end = strptime(s, "%Y-%m-%d", &tm);

  return end && !*end ? (int64_t)timegm(&tm) : -1;
}

/* IM's Stats._get_data for one stored infrastructure. */
static int stats_entry(struct imc_engine *e, const struct imc_store_infra *row, json_t **out,
                       struct imc_err *err)
{
  struct imc_store_vm *vms = NULL;
  size_t n = 0;
  long long cpus = 0, mem = 0;
  const char *cloud_type = "", *cloud = NULL;
  bool hybrid = false;
  char created[32], last[32];
  char *user = row->nowners ? owner_key_name(row->owners[0]) : NULL;
  int r;

  if ((r = imc_store_get_vms(e->store, row->id, &vms, &n, err)) != 0) {
    imc_free(user);
    return r;
  }
  for (size_t i = 0; i < n; i++) {
    struct imc_elem *sys = NULL;
    double v;

    if (!cloud) {
      cloud = vms[i].cloud_id;
      cloud_type = vms[i].cloud_type ? vms[i].cloud_type : "";
    } else if (vms[i].cloud_id && strcmp(cloud, vms[i].cloud_id) != 0) {
      hybrid = true;
    }
    if (vms[i].system && persist_system_parse(vms[i].system, &sys, err) == 0) {
      if (imc_features_num(&sys->feats, "cpu.count", NULL, &v))
        cpus += (long long)v;
      if (imc_features_num(&sys->feats, "memory.size", "M", &v))
        mem += (long long)v;
    }
    imc_elem_free(sys);
    imc_err_clear(err);
  }
  date_text(row->created, created, sizeof created);
  date_text(row->updated, last, sizeof last);
  *out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:b, s:b, s:s?, s:s, s:s}",
                   "creation_date", created, "tosca_name", "", "vm_count", (json_int_t)n,
                   "cpu_count", (json_int_t)cpus, "memory_size", (json_int_t)mem, "cloud_type",
                   cloud_type, "cloud_host", "", "hybrid", hybrid, "deleted", row->deleted,
                   "im_user", user, "inf_id", row->id, "last_date", last);
  imc_store_vms_free(vms, n);
  imc_free(user);
  return *out ? 0 : nomem(err);
}

int imc_stats(struct imc_engine *e, const char *init_date, const char *end_date,
              const struct imc_auth *auth, json_t **out, struct imc_err *err)
{
  struct caller c = {0};
  int64_t from = 0, to = INT64_MAX;
  json_t *list = NULL;
  int r;

  *out = NULL;
  if ((init_date && *init_date && (from = parse_date(init_date)) < 0) ||
      (end_date && *end_date && (to = parse_date(end_date)) < 0))
    return imc_fail(err, IMC_E_INVAL, "dates must read YYYY-MM-DD");
  if (end_date && *end_date)
    to += 86400 - 1; /* the whole end day */
  if ((r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  if (!(list = json_array())) {
    r = nomem(err);
    goto out;
  }
  /* Admins see every user's; one list per IM entry otherwise (deleted ones too). */
  for (size_t k = 0; k < (c.admin ? 1 : c.n) && !r; k++) {
    char **ids = NULL;
    size_t n = 0;

    if ((r = imc_store_list_infras(e->store, c.admin ? NULL : c.keys[k], true, &ids, &n, err)))
      break;
    for (size_t i = 0; i < n && !r; i++) {
      struct imc_store_infra row = {0};
      json_t *entry = NULL;

      if ((r = imc_store_get_infra(e->store, ids[i], &row, err)) == 0 && row.created >= from &&
          row.created <= to && (r = stats_entry(e, &row, &entry, err)) == 0 &&
          json_array_append_new(list, entry))
        r = nomem(err);
      imc_store_infra_cleanup(&row);
    }
    imc_store_ids_free(ids, n);
  }
out:
  caller_cleanup(&c);
  if (r) {
    json_decref(list);
    return r;
  }
  *out = list;
  return 0;
}
