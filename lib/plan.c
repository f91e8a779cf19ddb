/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where each deploy goes (IM's AddResource planning): clouds from the auth data, a concrete
 * system per cloud (defaults from the config, an image from the cloud's catalogue when none is
 * named, GPU requests checked), groups of deploys bound by private networks, and the clouds
 * that fit each group ordered by score. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deploy_int.h"
#include "imc/alloc.h"
#include "imc/log.h"

static const char *const not_clouds[] = {"InfrastructureManager", "VMRC", "AppDBIS", "EGIIS",
                                         "Vault"};

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

void plan_init(struct plan *p)
{
  memset(p, 0, sizeof *p);
}

void plan_cleanup(struct plan *p)
{
  for (size_t i = 0; i < p->nclouds * p->nsystems && p->concrete; i++)
    imc_elem_free(p->concrete[i]);
  for (size_t i = 0; i < p->ndeploys; i++)
    imc_free(p->deploys[i].private_nets);
  for (size_t i = 0; i < p->ngroups; i++)
    imc_free(p->groups[i].clouds);
  imc_free(p->concrete);
  imc_free(p->score);
  imc_free(p->deploys);
  imc_free(p->groups);
  imc_free(p->systems);
  imc_free(p->clouds);
  plan_init(p);
}

static bool is_cloud_type(const char *type)
{
  for (size_t i = 0; i < sizeof not_clouds / sizeof not_clouds[0]; i++)
    if (strcmp(type, not_clouds[i]) == 0)
      return false;
  return true;
}

int cloud_list(const struct imc_engine *e, const struct imc_auth *auth, struct cloud **out,
               size_t *n, struct imc_err *err)
{
  struct cloud *v = auth->n ? imc_calloc(auth->n, sizeof *v) : NULL;
  size_t k = 0;

  *out = NULL;
  *n = 0;
  if (auth->n && !v)
    return nomem(err);
  for (size_t i = 0; i < auth->n; i++) {
    const struct imc_auth_entry *en = &auth->entries[i];
    const char *type = imc_auth_get(en, "type"), *id = imc_auth_get(en, "id");

    if (!type || !is_cloud_type(type))
      continue;
    v[k].auth = en;
    v[k].conn = engine_connector(e, type);
    if (id && *id)
      snprintf(v[k].id, sizeof v[k].id, "%s", id);
    else
      snprintf(v[k].id, sizeof v[k].id, "%s%zu", type, i);
    if (v[k].conn)
      k++;
    else
      imc_log(IMC_LOG_DEBUG, "auth line %d: no connector for type %s", en->line, type);
  }
  *out = v;
  *n = k;
  return 0;
}

const struct imc_auth_entry *auth_for_cloud(const struct imc_auth *auth, const char *cloud_id)
{
  char auto_id[CLOUD_ID_MAX];

  for (size_t i = 0; i < auth->n; i++) {
    const struct imc_auth_entry *en = &auth->entries[i];
    const char *type = imc_auth_get(en, "type"), *id = imc_auth_get(en, "id");

    if (!type || !is_cloud_type(type))
      continue;
    if (!(id && *id)) {
      snprintf(auto_id, sizeof auto_id, "%s%zu", type, i);
      id = auto_id;
    }
    if (strcmp(id, cloud_id) == 0)
      return en;
  }
  return NULL;
}

const struct imc_elem *plan_concrete(const struct plan *p, size_t cloud, const char *system)
{
  for (size_t s = 0; s < p->nsystems; s++)
    if (strcmp(p->systems[s], system) == 0)
      return p->concrete[cloud * p->nsystems + s];
  return NULL;
}

int vm_set_names(struct imc_elem *system, unsigned id, const struct imc_config *cfg)
{
  char name[64], num[16];

  snprintf(num, sizeof num, "%u", id);
  for (unsigned i = 0;; i++) {
    const char *dns, *at;
    struct imc_buf b;
    int r;

    snprintf(name, sizeof name, "net_interface.%u.connection", i);
    if (!imc_features_get(&system->feats, name))
      return 0;
    snprintf(name, sizeof name, "net_interface.%u.dns_name", i);
    dns = imc_features_str(&system->feats, name);
    if (!dns && i == 0)
      dns = cfg->default_vm_name;
    if (!dns || !strstr(dns, "#N#"))
      continue;
    imc_buf_init(&b, 4096);
    for (const char *p = dns; (at = strstr(p, "#N#")) != NULL; p = at + 3) {
      imc_buf_add(&b, p, (size_t)(at - p));
      imc_buf_adds(&b, num);
      if (!strstr(at + 3, "#N#"))
        imc_buf_adds(&b, at + 3);
    }
    r = imc_buf_err(&b) ? IMC_E_NOMEM : imc_features_set_str(&system->feats, name, imc_buf_cstr(&b));
    imc_buf_free(&b);
    if (r)
      return r;
  }
}

/* --- concrete systems ------------------------------------------------------------------------ */

/* IM's defaults, added when the system does not say: cpu.count >= N, memory.size >= M, arch. */
static int add_defaults(struct imc_elem *s, const struct imc_config *cfg)
{
  struct imc_feature *f;
  int r = 0;

  if (!imc_features_prop(&s->feats, "cpu.count")) {
    if (!(f = imc_feature_new("cpu.count", IMC_OP_GE, IMC_V_NUM)))
      return IMC_E_NOMEM;
    f->num.i = cfg->default_vm_cpus;
    r = imc_features_add(&s->feats, f, IMC_POLICY_ERROR, IMC_POLICY_OTHER, NULL, NULL);
  }
  if (!r && !imc_features_prop(&s->feats, "memory.size")) {
    if (!(f = imc_feature_new("memory.size", IMC_OP_GE, IMC_V_NUM)) ||
        !(f->unit = imc_strdup(cfg->default_vm_memory_unit))) {
      imc_feature_free(f);
      return IMC_E_NOMEM;
    }
    f->num.i = cfg->default_vm_memory;
    r = imc_features_add(&s->feats, f, IMC_POLICY_ERROR, IMC_POLICY_OTHER, NULL, NULL);
  }
  if (!r && !imc_features_prop(&s->feats, "cpu.arch"))
    r = imc_features_set_str(&s->feats, "cpu.arch", cfg->default_vm_cpu_arch);
  return r;
}

/* The first image the cloud lists for the system's os flavour and version (IM's search_vm). */
static int find_image(const struct cloud *c, void *ctx, struct imc_elem *s, bool *found,
                      struct imc_err *err)
{
  const char *flavour = imc_features_str(&s->feats, "disk.0.os.flavour");
  const char *version = imc_features_str(&s->feats, "disk.0.os.version");
  struct imc_auth_entry filters = {0};
  struct imc_image *images = NULL;
  size_t n = 0;
  int r;

  *found = false;
  if (!(c->conn->caps & IMC_CAP_IMAGES) || !c->conn->list_images)
    return 0;
  if ((flavour && imc_auth_entry_set(&filters, "distribution", flavour)) ||
      (version && imc_auth_entry_set(&filters, "version", version))) {
    r = nomem(err);
    goto out;
  }
  if ((r = c->conn->list_images(ctx, &filters, &images, &n, err)) != 0)
    goto out;
  if (n > 0) {
    *found = true;
    r = imc_features_set_str(&s->feats, "disk.0.image.url", images[0].uri) ? nomem(err) : 0;
  }
out:
  imc_images_free(images, n);
  for (size_t i = 0; i < filters.n; i++) {
    imc_free(filters.kv[i].key);
    imc_free_secret(filters.kv[i].value);
  }
  imc_free(filters.kv);
  return r;
}

/* GPU requests are honoured or the cloud does not fit (IM_FEATURES §4.2). */
static bool gpus_fit(const struct imc_elem *want, const struct imc_elem *got, char *why,
                     size_t len)
{
  static const char *const strs[] = {"gpu.vendor", "gpu.model"};
  double n_want, n_got;

  if (imc_features_num(&want->feats, "gpu.count", NULL, &n_want) && n_want > 0 &&
      (!imc_features_num(&got->feats, "gpu.count", NULL, &n_got) || n_got < n_want)) {
    snprintf(why, len, "no flavour with %g GPUs", n_want);
    return false;
  }
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
    const char *w = imc_features_str(&want->feats, strs[i]);
    const char *g = imc_features_str(&got->feats, strs[i]);

    if (w && (!g || strcasecmp(w, g) != 0)) {
      snprintf(why, len, "no flavour with %s = '%s'", strs[i], w);
      return false;
    }
  }
  return true;
}

/* Fills concrete[c][s]; a cloud that cannot run a system leaves NULL and a reason in why. */
static int concrete_all(struct imc_engine *e, const struct imc_doc *req, struct plan *p,
                        struct imc_buf *why, struct imc_err *err)
{
  for (size_t c = 0; c < p->nclouds; c++) {
    const struct cloud *cl = &p->clouds[c];
    void *ctx = NULL;
    struct imc_err cerr = {0};
    int r;

    if ((r = cloud_open(cl->conn, cl->auth, &ctx, &cerr)) != 0) {
      if (r == IMC_E_NOMEM)
        return nomem(err);
      imc_buf_addf(why, "cloud %s: %s. ", cl->id, cerr.msg);
      continue;
    }
    for (size_t s = 0; s < p->nsystems; s++) {
      const struct imc_elem *want = imc_doc_system(req, p->systems[s]);
      struct imc_elem *base = imc_elem_clone(want), *out = NULL;
      double score = 0;
      bool found = true;
      char gwhy[128];

      if (!base || add_defaults(base, e->cfg)) {
        imc_elem_free(base);
        cloud_close(cl->conn, ctx);
        return nomem(err);
      }
      imc_err_clear(&cerr);
      r = 0;
      if (!imc_features_str(&base->feats, "disk.0.image.url"))
        r = find_image(cl, ctx, base, &found, &cerr);
      if (r == 0 && !found)
        imc_buf_addf(why, "cloud %s: no image for system '%s'. ", cl->id, p->systems[s]);
      else if (r == 0 && (r = cl->conn->concrete(ctx, base, &out, &score, &cerr)) == 0 &&
               !gpus_fit(want, out, gwhy, sizeof gwhy)) {
        imc_buf_addf(why, "cloud %s: %s for system '%s'. ", cl->id, gwhy, p->systems[s]);
        imc_elem_free(out);
        out = NULL;
      } else if (r) {
        imc_buf_addf(why, "cloud %s: %s. ", cl->id, cerr.msg);
      }
      imc_elem_free(base);
      if (r == IMC_E_NOMEM) {
        cloud_close(cl->conn, ctx);
        return nomem(err);
      }
      p->concrete[c * p->nsystems + s] = out;
      p->score[c * p->nsystems + s] = score;
    }
    cloud_close(cl->conn, ctx);
  }
  return 0;
}

/* --- groups ----------------------------------------------------------------------------- */

static bool net_is_public(const struct imc_doc *doc, const char *id)
{
  const struct imc_elem *n = imc_doc_network(doc, id);
  const char *out = n ? imc_features_str(&n->feats, "outbound") : NULL;

  return out && strcmp(out, "yes") == 0;
}

/* The private networks system id is connected to. */
static int private_nets(const struct imc_doc *doc, const char *system, struct plan_deploy *pd)
{
  const struct imc_elem *s = imc_doc_system(doc, system);
  char name[64];

  for (unsigned i = 0;; i++) {
    const char *net;

    snprintf(name, sizeof name, "net_interface.%u.connection", i);
    if (!(net = imc_features_str(&s->feats, name)))
      return 0;
    if (net_is_public(doc, net))
      continue;
    if (imc_grow((void **)&pd->private_nets, &pd->cap_private, pd->nprivate + 1,
                 sizeof *pd->private_nets))
      return IMC_E_NOMEM;
    pd->private_nets[pd->nprivate++] = (char *)net;
  }
}

static bool share_net(const struct plan_deploy *a, const struct plan_deploy *b)
{
  for (size_t i = 0; i < a->nprivate; i++)
    for (size_t j = 0; j < b->nprivate; j++)
      if (strcmp(a->private_nets[i], b->private_nets[j]) == 0)
        return true;
  return false;
}

static size_t root(size_t *parent, size_t i)
{
  while (parent[i] != i)
    i = parent[i] = parent[parent[i]];
  return i;
}

static int make_groups(struct plan *p, struct imc_err *err)
{
  size_t *parent = imc_calloc(p->ndeploys + 1, sizeof *parent);

  if (!parent || !(p->groups = imc_calloc(p->ndeploys + 1, sizeof *p->groups))) {
    imc_free(parent);
    return nomem(err);
  }
  for (size_t i = 0; i < p->ndeploys; i++)
    parent[i] = i;
  /* Deploys sharing a private network must go to one cloud (a union-find over deploys). */
  for (size_t i = 0; i < p->ndeploys; i++)
    for (size_t j = i + 1; j < p->ndeploys; j++)
      if (share_net(&p->deploys[i], &p->deploys[j]))
        parent[root(parent, j)] = root(parent, i);
  /* Groups are numbered in order of first appearance. */
  for (size_t i = 0; i < p->ndeploys; i++) {
    size_t rt = root(parent, i);
    size_t g = p->ngroups;

    for (size_t k = 0; k < i; k++)
      if (root(parent, k) == rt) {
        g = p->deploys[k].group;
        break;
      }
    if (g == p->ngroups)
      p->ngroups++;
    p->deploys[i].group = g;
    p->groups[g].private = p->groups[g].private || p->deploys[i].nprivate > 0;
  }
  imc_free(parent);
  return 0;
}

static bool cloud_known(const struct plan *p, const char *id)
{
  for (size_t c = 0; c < p->nclouds; c++)
    if (strcmp(p->clouds[c].id, id) == 0)
      return true;
  return false;
}

struct ranked {
  size_t cloud;
  double score;
};

static int by_score(const void *a, const void *b)
{
  const struct ranked *x = a, *y = b;

  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->cloud < y->cloud ? -1 : x->cloud > y->cloud; /* auth order breaks ties */
}

/* The clouds group g may use, best first. */
static int rank_clouds(struct plan *p, struct infra *inf, size_t g, const char *why,
                       struct imc_err *err)
{
  const char *pinned = NULL;
  struct ranked *rk = imc_calloc(p->nclouds ? p->nclouds : 1, sizeof *rk);
  struct plan_group *grp = &p->groups[g];
  size_t n = 0;

  if (!rk)
    return nomem(err);
  for (size_t d = 0; d < p->ndeploys; d++) {
    const struct plan_deploy *pd = &p->deploys[d];
    const char *want = pd->cloud;

    if (pd->group != g)
      continue;
    for (size_t k = 0; !want && inf && k < pd->nprivate; k++) {
      pthread_mutex_lock(&inf->mu);
      want = json_string_value(json_object_get(inf->private_nets, pd->private_nets[k]));
      pthread_mutex_unlock(&inf->mu);
    }
    if (want && pinned && strcmp(want, pinned) != 0) {
      imc_free(rk);
      return imc_fail(err, IMC_E_INVAL,
                      "Two deployments that have to be launched in the same cloud provider are "
                      "asked to be deployed in different cloud providers: %s and %s",
                      pinned, want);
    }
    if (want)
      pinned = want;
  }
  for (size_t c = 0; c < p->nclouds; c++) {
    double total = 0;
    bool fits = true;

    if (pinned && strcmp(pinned, p->clouds[c].id) != 0)
      continue;
    for (size_t d = 0; d < p->ndeploys && fits; d++) {
      const struct plan_deploy *pd = &p->deploys[d];
      size_t s = 0;

      if (pd->group != g)
        continue;
      while (strcmp(p->systems[s], pd->system) != 0)
        s++;
      fits = p->concrete[c * p->nsystems + s] != NULL;
      total += (double)pd->count * p->score[c * p->nsystems + s];
    }
    if (fits)
      rk[n++] = (struct ranked){c, total};
  }
  if (pinned && n == 0 && !cloud_known(p, pinned)) {
    imc_free(rk);
    return imc_fail(err, IMC_E_INVAL, "No auth data for cloud with ID: %s", pinned);
  }
  if (n == 0) {
    imc_free(rk);
    return imc_fail(err, IMC_E_CLOUD, "No cloud provider available%s%s",
                    *why ? ": " : "", why);
  }
  qsort(rk, n, sizeof *rk, by_score);
  if (!(grp->clouds = imc_calloc(n, sizeof *grp->clouds))) {
    imc_free(rk);
    return nomem(err);
  }
  for (size_t i = 0; i < n; i++)
    grp->clouds[i] = rk[i].cloud;
  grp->nclouds = n;
  imc_free(rk);
  return 0;
}

/* --- the plan ------------------------------------------------------------------------------ */

static int add_system(struct plan *p, const char *id)
{
  for (size_t s = 0; s < p->nsystems; s++)
    if (strcmp(p->systems[s], id) == 0)
      return 0;
  p->systems[p->nsystems++] = id;
  return 0;
}

int plan_make(struct imc_engine *e, struct infra *inf, const struct imc_doc *req,
              const struct imc_auth *auth, struct plan *p, struct imc_err *err)
{
  struct imc_buf why;
  int r;

  imc_buf_init(&why, IMC_ERR_MSG_MAX);
  if ((r = cloud_list(e, auth, &p->clouds, &p->nclouds, err)) != 0)
    goto out;
  if (!(p->deploys = imc_calloc(req->ndeploys + 1, sizeof *p->deploys)) ||
      !(p->systems = imc_calloc(req->ndeploys + 1, sizeof *p->systems))) {
    r = nomem(err);
    goto out;
  }
  for (size_t i = 0; i < req->ndeploys; i++) {
    const struct imc_deploy *d = req->deploys[i];
    struct plan_deploy *pd = &p->deploys[p->ndeploys];

    if (d->count.is_float || d->count.i <= 0)
      continue; /* IM: a deploy of 0 VMs is ignored */
    pd->system = d->system;
    pd->count = (size_t)d->count.i;
    pd->cloud = d->cloud;
    if (private_nets(req, d->system, pd)) {
      r = nomem(err);
      goto out;
    }
    p->ndeploys++;
    add_system(p, d->system);
  }
  if (p->nclouds == 0) {
    r = imc_fail(err, IMC_E_AUTH, "No cloud provider available: the auth data has no cloud "
                                  "entry that this build has a connector for");
    goto out;
  }
  if (!(p->concrete = imc_calloc(p->nclouds * p->nsystems + 1, sizeof *p->concrete)) ||
      !(p->score = imc_calloc(p->nclouds * p->nsystems + 1, sizeof *p->score))) {
    r = nomem(err);
    goto out;
  }
  if ((r = concrete_all(e, req, p, &why, err)) != 0 || (r = make_groups(p, err)) != 0)
    goto out;
  for (size_t g = 0; g < p->ngroups && !r; g++)
    r = rank_clouds(p, inf, g, imc_buf_cstr(&why), err);
out:
  imc_buf_free(&why);
  return r;
}
