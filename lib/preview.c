/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `imc plan`: what a document would create, change or remove, with nothing launched or
 * stored.  Where new VMs go is plan_make's answer, the one AddResource acts on; this file only
 * compares the document with the infrastructure's current state and words both as JSON
 * (engine.h, imc_preview, has the shape; doc/cli.md §plan the meaning). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_int.h"
#include "imc/alloc.h"
#include "imc/json.h"
#include "imc/radl.h"

#define VALUE_TEXT_MAX 4096   /* one feature's value as the plan shows it */
#define MAX_JSON_INT   9.0e15 /* larger numbers stay JSON reals (a double holds them exactly) */

/* Features whose values are never shown: a plan is printed on terminals and kept in CI logs. */
static const char *const secret_words[] = {"password", "private_key", "token", "secret"};

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* What happens to one system. */
struct sys_plan {
  const char *id;                    /* borrowed from one of the documents */
  const struct imc_elem *now, *want; /* its definition in current and in the request */
  size_t wanted;                     /* the VMs the request deploys */
  unsigned *vms;                     /* its VMs now, ascending ids */
  size_t nvms, cap_vms;
};

struct preview {
  struct imc_doc *req;           /* the document completed from current, checked */
  const struct imc_doc *current; /* NULL: a new infrastructure */
  struct imc_doc *plan_doc;      /* req with each deploy cut to the VMs it would create */
  struct sys_plan *sys;
  size_t nsys, cap_sys;
  struct plan plan;
};

static void preview_cleanup(struct preview *pv)
{
  for (size_t i = 0; i < pv->nsys; i++)
    imc_free(pv->sys[i].vms);
  imc_free(pv->sys);
  imc_doc_free(pv->req);
  imc_doc_free(pv->plan_doc);
  plan_cleanup(&pv->plan);
}

/* --- the systems and their VMs ---------------------------------------------------------- */

static struct sys_plan *sys_find(const struct preview *pv, const char *id)
{
  for (size_t i = 0; i < pv->nsys; i++)
    if (strcmp(pv->sys[i].id, id) == 0)
      return &pv->sys[i];
  return NULL;
}

/* The entry of system id, appended when new; NULL when out of memory. */
static struct sys_plan *sys_get(struct preview *pv, const char *id)
{
  struct sys_plan *s = sys_find(pv, id);

  if (s)
    return s;
  if (imc_grow((void **)&pv->sys, &pv->cap_sys, pv->nsys + 1, sizeof *pv->sys))
    return NULL;
  s = &pv->sys[pv->nsys++];
  memset(s, 0, sizeof *s);
  s->id = id;
  return s;
}

/* The system a VM was deployed from: GetVMInfo puts the VM's networks first, its system last. */
static const struct imc_elem *vm_system(const struct imc_doc *info)
{
  return info && info->nsystems ? info->systems[info->nsystems - 1] : NULL;
}

static int by_id(const void *a, const void *b)
{
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

  return x < y ? -1 : x > y;
}

static size_t deploy_count(const struct imc_deploy *d)
{
  return !d->count.is_float && d->count.i > 0 ? (size_t)d->count.i : 0; /* as plan_make */
}

static int collect(struct preview *pv, const struct imc_preview_vm *vms, size_t nvms,
                   struct imc_err *err)
{
  const struct imc_doc *cur = pv->current;

  for (size_t i = 0; i < pv->req->nsystems; i++) {
    struct sys_plan *s = sys_get(pv, pv->req->systems[i]->id);

    if (!s)
      return nomem(err);
    s->want = pv->req->systems[i];
  }
  for (size_t i = 0; cur && i < cur->nsystems; i++) {
    struct sys_plan *s = sys_get(pv, cur->systems[i]->id);

    if (!s)
      return nomem(err);
    s->now = cur->systems[i];
  }
  for (size_t i = 0; i < pv->req->ndeploys; i++) {
    struct sys_plan *s = sys_find(pv, pv->req->deploys[i]->system);

    if (s) /* radl_check makes every deploy name a system */
      s->wanted += deploy_count(pv->req->deploys[i]);
  }
  for (size_t i = 0; i < nvms; i++) {
    const struct imc_elem *sys = vm_system(vms[i].info);
    struct sys_plan *s;

    if (!sys)
      return imc_fail(err, IMC_E_INVAL, "VM %u: its document has no system", vms[i].id);
    if (!(s = sys_get(pv, sys->id)) ||
        imc_grow((void **)&s->vms, &s->cap_vms, s->nvms + 1, sizeof *s->vms))
      return nomem(err);
    s->vms[s->nvms++] = vms[i].id;
  }
  for (size_t i = 0; i < pv->nsys; i++)
    if (pv->sys[i].nvms > 1)
      qsort(pv->sys[i].vms, pv->sys[i].nvms, sizeof *pv->sys[i].vms, by_id);
  return 0;
}

/* The VMs a system has now are matched against its first deploys; what is left of its deploys
 * is what AddResource would launch.  True when anything is. */
static bool cut_deploys(struct preview *pv)
{
  bool any = false;

  for (size_t i = 0; i < pv->nsys; i++) {
    size_t left = pv->sys[i].nvms;

    for (size_t k = 0; k < pv->plan_doc->ndeploys; k++) {
      struct imc_deploy *d = pv->plan_doc->deploys[k];
      size_t n = deploy_count(d), take;

      if (strcmp(d->system, pv->sys[i].id) != 0 || n == 0)
        continue;
      take = n < left ? n : left;
      left -= take;
      d->count.i = (int64_t)(n - take);
      any = any || n > take;
    }
  }
  return any;
}

/* --- private networks already in use ---------------------------------------------------- */

static bool net_public(const struct imc_doc *doc, const char *id)
{
  const struct imc_elem *n = doc ? imc_doc_network(doc, id) : NULL;
  const char *out = n ? imc_features_str(&n->feats, "outbound") : NULL;

  return out && strcmp(out, "yes") == 0;
}

/* The cloud of auth a VM runs on, by what its document reports (IM's provider.type and
 * provider.host); NULL when it reports nothing or names no cloud of auth. */
static const struct cloud *vm_cloud(const struct cloud *clouds, size_t n,
                                    const struct imc_elem *sys)
{
  const char *type = imc_features_str(&sys->feats, "provider.type");
  const char *host = imc_features_str(&sys->feats, "provider.host");

  for (size_t c = 0; type && c < n; c++) {
    const char *h = imc_auth_get(clouds[c].auth, "host");

    if (strcmp(clouds[c].conn->name, type) == 0 && (!host || (h && strcmp(h, host) == 0)))
      return &clouds[c];
  }
  return NULL;
}

/* An infrastructure that exists only for plan_make: its private networks pinned to the cloud
 * of the first VM on each, so new VMs on them go there as AddResource sends them. */
static int pin_networks(struct imc_engine *e, const struct preview *pv,
                        const struct imc_preview_vm *vms, size_t nvms, const struct imc_auth *auth,
                        struct infra **out, struct imc_err *err)
{
  struct cloud *clouds = NULL;
  struct infra *inf = NULL;
  size_t n = 0;
  char name[64];
  int r;

  *out = NULL;
  if ((r = cloud_list(e, auth, &clouds, &n, err)) != 0)
    return r;
  if (!(inf = infra_new("preview"))) {
    r = nomem(err);
    goto out;
  }
  for (size_t i = 0; i < nvms && !r; i++) {
    const struct imc_elem *sys = vm_system(vms[i].info);
    const struct cloud *cl = sys ? vm_cloud(clouds, n, sys) : NULL;
    const char *net;

    for (unsigned k = 0; cl; k++) {
      snprintf(name, sizeof name, "net_interface.%u.connection", k);
      if (!(net = imc_features_str(&sys->feats, name)))
        break;
      if (net_public(pv->current, net) || json_object_get(inf->private_nets, net))
        continue;
      if (json_object_set_new(inf->private_nets, net, json_string(cl->id))) {
        r = nomem(err);
        break;
      }
    }
  }
  if (r == 0) {
    *out = inf;
    inf = NULL;
  }
out:
  infra_free(inf);
  imc_free(clouds);
  return r;
}

/* --- values as the plan shows them ------------------------------------------------------- */

static bool is_secret(const char *name)
{
  for (size_t i = 0; name && i < sizeof secret_words / sizeof secret_words[0]; i++)
    if (strstr(name, secret_words[i]))
      return true;
  return false;
}

/* unit (may be NULL): write a number in that unit.  A document read back from the store has
 * its sizes in bytes, and `1024000000 -> 4096M` would hide what changed. */
static void add_value(struct imc_buf *b, const struct imc_feature *f, const char *unit)
{
  switch (f->type) {
  case IMC_V_NUM:
    if (unit && !(f->unit && strcmp(f->unit, unit) == 0)) {
      imc_buf_addf(b, "%.15g%s", imc_feature_num_in(f, unit), unit);
      break;
    }
    if (f->num.is_float)
      imc_buf_addf(b, "%g", f->num.f);
    else
      imc_buf_addf(b, "%lld", (long long)f->num.i);
    imc_buf_adds(b, f->unit ? f->unit : "");
    break;
  case IMC_V_STR:
    imc_buf_addf(b, "'%s'", f->str);
    break;
  case IMC_V_LIST:
    imc_buf_addc(b, '[');
    for (size_t i = 0; i < f->nlist; i++)
      imc_buf_addf(b, "%s'%s'", i ? ", " : "", f->list[i]);
    imc_buf_addc(b, ']');
    break;
  case IMC_V_FEATURES: {
    /* An application (`contains`) by its name and version; a soft group by its weight. */
    const char *name = f->sub ? imc_features_str(f->sub, "name") : NULL;
    const char *version = f->sub ? imc_features_str(f->sub, "version") : NULL;

    if (f->op == IMC_OP_SOFT)
      imc_buf_addf(b, "soft %g (%zu features)", imc_num_value(f->num), f->sub ? f->sub->nprops : 0);
    else
      imc_buf_addf(b, "'%s'%s%s", name ? name : "?", version ? " " : "", version ? version : "");
    break;
  }
  }
}

/* "value" for `=`, else the comparison ("OP value", two joined by "and" for a range). */
static void add_compared(struct imc_buf *b, const struct imc_feature *f, const char *unit)
{
  if (f->op != IMC_OP_EQ)
    imc_buf_addf(b, "%s ", imc_op_text(f->op));
  add_value(b, f, unit);
}

/* The unit a numeric property is written in, NULL for none. */
static const char *prop_unit(const struct imc_prop *p)
{
  const struct imc_feature *f = p->kind == IMC_PROP_VALUE   ? p->value
                                : p->kind == IMC_PROP_RANGE ? (p->lo ? p->lo : p->hi)
                                                            : NULL;

  return f && f->type == IMC_V_NUM ? f->unit : NULL;
}

/* One property's value as text (a new string), numbers in unit (may be NULL), or NULL when
 * out of memory. */
static char *prop_text(const struct imc_prop *p, const char *unit)
{
  struct imc_buf b;

  imc_buf_init(&b, VALUE_TEXT_MAX);
  if (is_secret(p->name)) {
    imc_buf_adds(&b, "(sensitive)");
  } else if (p->kind == IMC_PROP_VALUE) {
    add_compared(&b, p->value, unit);
  } else if (p->kind == IMC_PROP_RANGE) {
    if (p->lo && p->hi && imc_feature_equal(p->lo, p->hi)) {
      add_value(&b, p->lo, unit);
    } else {
      if (p->lo)
        add_compared(&b, p->lo, unit);
      imc_buf_adds(&b, p->lo && p->hi ? " and " : "");
      if (p->hi)
        add_compared(&b, p->hi, unit);
    }
  } else {
    imc_buf_adds(&b, p->kind == IMC_PROP_CONTAINS ? "contains (" : "(");
    for (size_t i = 0; i < p->nitems; i++) {
      imc_buf_adds(&b, i ? ", " : "");
      add_value(&b, p->items[i], NULL);
    }
    imc_buf_addc(&b, ')');
  }
  /* Past the limit the text is cut, not lost: it is only shown. */
  if (imc_buf_err(&b) == IMC_E_NOMEM) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

static bool prop_equal(const struct imc_prop *a, const struct imc_prop *b)
{
  if (a->kind != b->kind)
    return false;
  if (a->kind == IMC_PROP_VALUE)
    return imc_feature_equal(a->value, b->value);
  if (a->kind == IMC_PROP_RANGE)
    return imc_feature_equal(a->lo, b->lo) && imc_feature_equal(a->hi, b->hi);
  if (a->nitems != b->nitems)
    return false;
  for (size_t i = 0; i < a->nitems; i++)
    if (!imc_feature_equal(a->items[i], b->items[i]))
      return false;
  return true;
}

/* The property of fs that p's is: same name, or the soft groups (which have none). */
static const struct imc_prop *same_prop(const struct imc_features *fs, const struct imc_prop *p)
{
  for (size_t i = 0; i < fs->nprops; i++) {
    const struct imc_prop *q = &fs->props[i];

    if (p->kind == IMC_PROP_SOFT ? q->kind == IMC_PROP_SOFT
                                 : q->name && p->name && strcmp(q->name, p->name) == 0)
      return q;
  }
  return NULL;
}

/* Appends {"feature", "old", "new"} (old or new null when absent), both numbers in the unit
 * the new value is written in. */
static int add_change(json_t *list, const struct imc_prop *old, const struct imc_prop *new_)
{
  const struct imc_prop *p = new_ ? new_ : old;
  const char *unit = new_ && prop_unit(new_) ? prop_unit(new_) : old ? prop_unit(old) : NULL;
  char *o = old ? prop_text(old, unit) : NULL, *n = new_ ? prop_text(new_, unit) : NULL;
  int r = IMC_E_NOMEM;

  if ((!old || o) && (!new_ || n) &&
      json_array_append_new(list, json_pack("{s:o, s:o, s:o}", "feature",
                                            imc_json_text(p->name ? p->name : "soft"), "old",
                                            imc_json_text(o), "new", imc_json_text(n))) == 0)
    r = 0;
  imc_free(o);
  imc_free(n);
  return r;
}

/* The feature changes from now to want, in want's order, then what want drops. */
static json_t *changes_json(const struct imc_elem *now, const struct imc_elem *want)
{
  json_t *list = json_array();
  int r = list ? 0 : IMC_E_NOMEM;

  for (size_t i = 0; now && want && !r && i < want->feats.nprops; i++) {
    const struct imc_prop *p = &want->feats.props[i], *q = same_prop(&now->feats, p);

    if (!q || !prop_equal(q, p))
      r = add_change(list, q, p);
  }
  for (size_t i = 0; now && want && !r && i < now->feats.nprops; i++)
    if (!same_prop(&want->feats, &now->feats.props[i]))
      r = add_change(list, &now->feats.props[i], NULL);
  if (r) {
    json_decref(list);
    return NULL;
  }
  return list;
}

/* --- JSON --------------------------------------------------------------------------------- */

/* json_object_set_new's failure as a flag to gather: it also frees v, and takes NULL. */
static bool set(json_t *o, const char *key, json_t *v)
{
  return json_object_set_new(o, key, v) != 0;
}

static json_t *num_json(double v)
{
  if (v > -MAX_JSON_INT && v < MAX_JSON_INT && (double)(json_int_t)v == v)
    return json_integer((json_int_t)v);
  return json_real(v);
}

static json_t *feature_num(const struct imc_elem *sys, const char *name, const char *unit)
{
  double v;

  return imc_features_num(&sys->feats, name, unit, &v) ? num_json(v) : json_null();
}

/* An endpoint without any `user:password@` part: a URL in an auth file may carry one. */
static json_t *endpoint_json(const char *host)
{
  const char *start, *at, *slash, *scheme;
  struct imc_buf b;
  json_t *v;

  if (!host)
    return json_null();
  scheme = strstr(host, "://");
  start = scheme ? scheme + 3 : host;
  at = strchr(start, '@');
  slash = strchr(start, '/');
  if (!at || (slash && slash < at))
    return imc_json_text(host);
  imc_buf_init(&b, strlen(host) + 1);
  imc_buf_add(&b, host, (size_t)(start - host));
  imc_buf_adds(&b, at + 1);
  v = imc_buf_err(&b) ? NULL : imc_json_text(imc_buf_cstr(&b));
  imc_buf_free(&b);
  return v;
}

/* disk.0.image.url as the concrete system has it: a string, a list, or null. */
static json_t *image_json(const struct imc_elem *sys)
{
  const struct imc_feature *f = imc_features_get(&sys->feats, "disk.0.image.url");
  json_t *list;

  if (!f || (f->type != IMC_V_STR && f->type != IMC_V_LIST))
    return json_null();
  if (f->type == IMC_V_STR)
    return imc_json_text(f->str);
  if (!(list = json_array()))
    return NULL;
  for (size_t i = 0; i < f->nlist; i++)
    if (json_array_append_new(list, imc_json_text(f->list[i]))) {
      json_decref(list);
      return NULL;
    }
  return list;
}

/* The GPUs the concrete system has (what the connector wrote back), null when none. */
static json_t *gpu_json(const struct imc_elem *sys)
{
  const char *vendor = imc_features_str(&sys->feats, "gpu.vendor");
  const char *model = imc_features_str(&sys->feats, "gpu.model");
  double n = 0;
  bool has_count = imc_features_num(&sys->feats, "gpu.count", NULL, &n);

  if ((!has_count || n <= 0) && !vendor && !model)
    return json_null();
  return json_pack("{s:o, s:o, s:o}", "count", has_count ? num_json(n) : json_null(), "vendor",
                   imc_json_text(vendor), "model", imc_json_text(model));
}

static json_t *deploy_json(const struct plan *p, const struct plan_deploy *pd)
{
  size_t c = p->groups[pd->group].clouds[0];
  const struct cloud *cl = &p->clouds[c];
  const struct imc_elem *sys = plan_concrete(p, c, pd->system); /* ranked clouds fit */
  json_t *o = json_object();
  bool bad = !o;

  if (bad)
    return NULL;
  bad |= set(o, "count", json_integer((json_int_t)pd->count));
  bad |= set(o, "group", json_integer((json_int_t)pd->group));
  bad |= set(o, "cloud",
             json_pack("{s:o, s:s, s:o}", "id", imc_json_text(cl->id), "type", cl->conn->name,
                       "host", endpoint_json(imc_auth_get(cl->auth, "host"))));
  bad |= set(o, "image", image_json(sys));
  bad |= set(o, "flavour", imc_json_text(imc_features_str(&sys->feats, "instance_type")));
  bad |= set(o, "cpu", feature_num(sys, "cpu.count", NULL));
  bad |= set(o, "memory_mb", feature_num(sys, "memory.size", "M"));
  bad |= set(o, "disk_gb", feature_num(sys, "disk.0.size", "G"));
  bad |= set(o, "gpu", gpu_json(sys));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *ids_json(const unsigned *ids, size_t n, bool newest_first)
{
  json_t *list = json_array();

  for (size_t i = 0; list && i < n; i++)
    if (json_array_append_new(list, json_integer(ids[newest_first ? n - 1 - i : i]))) {
      json_decref(list);
      return NULL;
    }
  return list;
}

struct totals {
  size_t create, change, remove;
};

static const char *action_of(const struct sys_plan *s, size_t create, size_t remove, size_t alter)
{
  if (create && !s->nvms)
    return "create";
  if (!s->wanted && s->nvms)
    return "remove";
  return create || remove || alter ? "update" : "none";
}

static json_t *system_json(const struct preview *pv, const struct sys_plan *s, struct totals *t)
{
  size_t create = s->wanted > s->nvms ? s->wanted - s->nvms : 0;
  size_t remove = s->nvms > s->wanted ? s->nvms - s->wanted : 0;
  size_t keep = s->nvms - remove, alter;
  json_t *o = json_object(), *changes = changes_json(s->now, s->want), *deploys = json_array();
  bool bad = !o || !changes || !deploys;

  alter = changes && json_array_size(changes) ? keep : 0;
  for (size_t d = 0; !bad && d < pv->plan.ndeploys; d++)
    if (strcmp(pv->plan.deploys[d].system, s->id) == 0)
      bad = json_array_append_new(deploys, deploy_json(&pv->plan, &pv->plan.deploys[d])) != 0;
  if (bad) {
    json_decref(o);
    json_decref(changes);
    json_decref(deploys);
    return NULL;
  }
  bad |= set(o, "system", imc_json_text(s->id));
  bad |= set(o, "action", json_string(action_of(s, create, remove, alter)));
  bad |= set(o, "vms_now", json_integer((json_int_t)s->nvms));
  bad |= set(o, "vms_wanted", json_integer((json_int_t)s->wanted));
  bad |= set(o, "create", json_integer((json_int_t)create));
  bad |= set(o, "remove_vms", ids_json(remove ? s->vms + keep : NULL, remove, true));
  bad |= set(o, "alter_vms", ids_json(s->vms, alter, false));
  bad |= set(o, "changes", changes);
  bad |= set(o, "deploys", deploys);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  t->create += create;
  t->change += alter;
  t->remove += remove;
  return o;
}

static int outports_json(const struct imc_elem *net, json_t **out, struct imc_err *err)
{
  const char *text = imc_features_str(&net->feats, "outports");
  struct radl_outport *ports = NULL;
  size_t n = 0;
  json_t *list = json_array();
  int r = list ? 0 : nomem(err);

  *out = NULL;
  if (!r && text && (r = radl_outports_parse(text, &ports, &n, err)) != 0)
    imc_err_prefix(err, "network %s: ", net->id);
  for (size_t i = 0; !r && i < n; i++) {
    const struct radl_outport *p = &ports[i];
    json_t *o = json_pack("{s:s, s:s}", "protocol", radl_proto_name(p->proto), "cidr",
                          p->cidr[0] ? p->cidr : "0.0.0.0/0");

    if (!o || set(o, p->is_range ? "port_min" : "remote_port", json_integer(p->port_init)) ||
        set(o, p->is_range ? "port_max" : "local_port", json_integer(p->port_end)) ||
        json_array_append_new(list, o)) {
      json_decref(o);
      r = nomem(err);
    }
  }
  imc_free(ports);
  if (r) {
    json_decref(list);
    return r;
  }
  *out = list;
  return 0;
}

/* One network of the request.  A network the infrastructure has keeps its stored definition
 * (IM's update_radl ignores redefinitions), so that one is shown. */
static int network_json(const struct preview *pv, const struct imc_elem *net, json_t *list,
                        struct imc_err *err)
{
  const struct imc_elem *had = pv->current ? imc_doc_network(pv->current, net->id) : NULL;
  const char *action = !had                                           ? "create"
                       : imc_features_equal(&had->feats, &net->feats) ? "none"
                                                                      : "ignored";
  const struct imc_elem *shown = had ? had : net;
  const char *outbound = imc_features_str(&shown->feats, "outbound");
  json_t *ports = NULL, *o;
  int r;

  if ((r = outports_json(shown, &ports, err)) != 0)
    return r;
  o = json_pack("{s:o, s:s, s:b, s:o, s:o}", "network", imc_json_text(net->id), "action", action,
                "public", outbound && strcmp(outbound, "yes") == 0, "provider_id",
                imc_json_text(imc_features_str(&shown->feats, "provider_id")), "outports", ports);
  return !o || json_array_append_new(list, o) ? nomem(err) : 0;
}

static int result_json(const struct preview *pv, json_t **out, struct imc_err *err)
{
  struct totals t = {0};
  json_t *res = json_object(), *nets = json_array(), *systems = json_array();
  int r = res && nets && systems ? 0 : nomem(err);

  *out = NULL;
  for (size_t i = 0; !r && i < pv->req->nnetworks; i++)
    r = network_json(pv, pv->req->networks[i], nets, err);
  for (size_t i = 0; !r && i < pv->nsys; i++) {
    const struct sys_plan *s = &pv->sys[i];

    /* A definition with no VM now and none wanted changes nothing that runs. */
    if ((s->nvms || s->wanted) && json_array_append_new(systems, system_json(pv, s, &t)))
      r = nomem(err);
  }
  if (!r && (set(res, "new_infrastructure", json_boolean(!pv->current)) ||
             set(res, "networks", json_incref(nets)) || set(res, "systems", json_incref(systems)) ||
             set(res, "summary",
                 json_pack("{s:I, s:I, s:I}", "create", (json_int_t)t.create, "change",
                           (json_int_t)t.change, "remove", (json_int_t)t.remove))))
    r = nomem(err);
  json_decref(nets);
  json_decref(systems);
  if (r) {
    json_decref(res);
    return r;
  }
  *out = res;
  return 0;
}

/* --- the call ------------------------------------------------------------------------------ */

/* doc with its references completed from current (an empty document for a new
 * infrastructure: a reference is then an error, as in CreateInfrastructure), checked. */
static int complete_request(const struct imc_doc *doc, const struct imc_doc *current,
                            struct imc_doc **out, struct imc_err *err)
{
  struct imc_doc *req = imc_doc_clone(doc), *none = current ? NULL : imc_doc_new(NULL);
  int r;

  *out = NULL;
  if (!req || (!current && !none))
    r = nomem(err);
  else
    r = radl_complete(req, current ? current : none, err); /* checks the result too */
  imc_doc_free(none);
  if (r) {
    imc_doc_free(req);
    return r;
  }
  *out = req;
  return 0;
}

int imc_preview(struct imc_engine *e, const struct imc_doc *doc, const struct imc_doc *current,
                const struct imc_preview_vm *vms, size_t nvms, const struct imc_auth *auth,
                json_t **out, struct imc_err *err)
{
  struct preview pv = {.current = current};
  struct caller c = {0};
  struct infra *pins = NULL;
  int r;

  *out = NULL;
  plan_init(&pv.plan);
  if ((r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  caller_cleanup(&c);
  if (!current)
    nvms = 0;
  if ((r = complete_request(doc, current, &pv.req, err)) != 0 ||
      (r = collect(&pv, vms, nvms, err)) != 0)
    goto out;
  if (!(pv.plan_doc = imc_doc_clone(pv.req))) {
    r = nomem(err);
    goto out;
  }
  if (cut_deploys(&pv) && ((r = pin_networks(e, &pv, vms, nvms, auth, &pins, err)) != 0 ||
                           (r = plan_make(e, pins, pv.plan_doc, auth, &pv.plan, err)) != 0))
    goto out;
  r = result_json(&pv, out, err);
out:
  infra_free(pins);
  preview_cleanup(&pv);
  return r;
}
