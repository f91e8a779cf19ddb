/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Document elements and the document itself (IM's RADL class). */
#include "imc/alloc.h"
#include "imc/model.h"
#include "model_int.h"

#include <string.h>

const char *imc_elem_kind_name(enum imc_elem_kind kind)
{
  static const char *const names[] = {"description", "network", "system", "ansible"};

  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* --- elements ---------------------------------------------------------------------- */

struct imc_elem *imc_elem_new(enum imc_elem_kind kind, const char *id)
{
  struct imc_elem *e = imc_calloc(1, sizeof *e);

  if (!e)
    return NULL;
  e->kind = kind;
  imc_features_init(&e->feats);
  if (imc_strdup_opt(&e->id, id)) {
    imc_free(e);
    return NULL;
  }
  return e;
}

void imc_elem_free(struct imc_elem *e)
{
  if (!e)
    return;
  imc_free(e->id);
  imc_features_cleanup(&e->feats);
  imc_free(e);
}

struct imc_elem *imc_elem_clone(const struct imc_elem *e)
{
  struct imc_elem *c = imc_elem_new(e->kind, e->id);

  if (!c)
    return NULL;
  c->reference = e->reference;
  c->pos = e->pos;
  if (imc_features_copy(&c->feats, &e->feats)) {
    imc_elem_free(c);
    return NULL;
  }
  return c;
}

bool imc_elem_equal(const struct imc_elem *a, const struct imc_elem *b)
{
  if (!a || !b)
    return a == b;
  return a->kind == b->kind && a->reference == b->reference && imc_str_eq_opt(a->id, b->id) &&
         imc_features_equal(&a->feats, &b->feats);
}

/* --- configure ----------------------------------------------------------------------- */

struct imc_configure *imc_configure_new(const char *id)
{
  struct imc_configure *c = imc_calloc(1, sizeof *c);

  if (c && imc_strdup_opt(&c->id, id)) {
    imc_free(c);
    return NULL;
  }
  return c;
}

void imc_configure_free(struct imc_configure *c)
{
  if (!c)
    return;
  imc_free(c->id);
  imc_free(c->recipe);
  imc_free(c);
}

struct imc_configure *imc_configure_clone(const struct imc_configure *c)
{
  struct imc_configure *n = imc_configure_new(c->id);

  if (!n)
    return NULL;
  n->reference = c->reference;
  n->pos = c->pos;
  n->recipe_pos = c->recipe_pos;
  if (imc_strdup_opt(&n->recipe, c->recipe)) {
    imc_configure_free(n);
    return NULL;
  }
  return n;
}

static bool configure_equal(const struct imc_configure *a, const struct imc_configure *b)
{
  return imc_str_eq_opt(a->id, b->id) && a->reference == b->reference &&
         imc_str_eq_opt(a->recipe, b->recipe);
}

/* --- contextualize -------------------------------------------------------------------- */

void imc_ctxt_init(struct imc_ctxt *c)
{
  memset(c, 0, sizeof *c);
  imc_index_init(&c->item_index);
  imc_index_init(&c->option_index);
}

static uint64_t item_key_hash(const struct imc_ctxt_item *it)
{
  return imc_hash_mix(imc_hash_str(it->system), imc_hash_str(it->configure));
}

static bool item_eq(const void *ctx, size_t pos, const void *key)
{
  const struct imc_ctxt_item *a = ((const struct imc_ctxt *)ctx)->items[pos], *b = key;

  return imc_str_eq_opt(a->system, b->system) && imc_str_eq_opt(a->configure, b->configure);
}

static uint64_t item_hash(const void *ctx, size_t pos)
{
  return item_key_hash(((const struct imc_ctxt *)ctx)->items[pos]);
}

static bool option_eq(const void *ctx, size_t pos, const void *key)
{
  return imc_str_eq_opt(((const struct imc_ctxt *)ctx)->options[pos]->name, key);
}

static uint64_t option_hash(const void *ctx, size_t pos)
{
  return imc_hash_str(((const struct imc_ctxt *)ctx)->options[pos]->name);
}

static size_t find_item(const struct imc_ctxt *c, const struct imc_ctxt_item *key)
{
  if (imc_index_built(&c->item_index))
    return imc_index_find(&c->item_index, item_key_hash(key), key, item_eq, c);
  for (size_t i = 0; i < c->nitems; i++)
    if (item_eq(c, i, key))
      return i;
  return SIZE_MAX;
}

static size_t find_option(const struct imc_ctxt *c, const char *name)
{
  if (imc_index_built(&c->option_index))
    return imc_index_find(&c->option_index, imc_hash_str(name), name, option_eq, c);
  for (size_t i = 0; i < c->noptions; i++)
    if (option_eq(c, i, name))
      return i;
  return SIZE_MAX;
}

void imc_ctxt_item_free(struct imc_ctxt_item *item)
{
  if (!item)
    return;
  imc_free(item->system);
  imc_free(item->configure);
  imc_free(item->tool);
  imc_free(item);
}

void imc_ctxt_cleanup(struct imc_ctxt *c)
{
  for (size_t i = 0; i < c->nitems; i++)
    imc_ctxt_item_free(c->items[i]);
  imc_free(c->items);
  for (size_t i = 0; i < c->noptions; i++)
    imc_feature_free(c->options[i]);
  imc_free(c->options);
  imc_index_free(&c->item_index);
  imc_index_free(&c->option_index);
  imc_ctxt_init(c);
}

int imc_ctxt_add_item(struct imc_ctxt *c, struct imc_ctxt_item *item)
{
  size_t i = find_item(c, item);

  if (i != SIZE_MAX) {
    imc_ctxt_item_free(c->items[i]);
    c->items[i] = item;
    return 0;
  }
  if (imc_grow((void **)&c->items, &c->cap_items, c->nitems + 1, sizeof *c->items)) {
    imc_ctxt_item_free(item);
    return IMC_E_NOMEM;
  }
  c->items[c->nitems++] = item;
  imc_index_note_append(&c->item_index, c->nitems, item_key_hash(item), item_hash, c);
  return 0;
}

int imc_ctxt_add_option(struct imc_ctxt *c, struct imc_feature *option)
{
  size_t i = find_option(c, option->name);

  if (i != SIZE_MAX) {
    imc_feature_free(c->options[i]);
    c->options[i] = option;
    return 0;
  }
  if (imc_grow((void **)&c->options, &c->cap_options, c->noptions + 1, sizeof *c->options)) {
    imc_feature_free(option);
    return IMC_E_NOMEM;
  }
  c->options[c->noptions++] = option;
  imc_index_note_append(&c->option_index, c->noptions, imc_hash_str(option->name), option_hash, c);
  return 0;
}

static struct imc_ctxt_item *ctxt_item_clone(const struct imc_ctxt_item *it)
{
  struct imc_ctxt_item *c = imc_calloc(1, sizeof *c);

  if (!c)
    return NULL;
  c->step = it->step;
  c->pos = it->pos;
  if (imc_strdup_opt(&c->system, it->system) || imc_strdup_opt(&c->configure, it->configure) ||
      imc_strdup_opt(&c->tool, it->tool)) {
    imc_ctxt_item_free(c);
    return NULL;
  }
  return c;
}

int imc_ctxt_merge(struct imc_ctxt *dst, const struct imc_ctxt *src)
{
  if (!src->present)
    return 0;
  if (!dst->present) {
    dst->present = true;
    dst->pos = src->pos;
  }
  if (imc_num_value(src->max_time) > imc_num_value(dst->max_time))
    dst->max_time = src->max_time;
  for (size_t i = 0; i < src->nitems; i++) {
    struct imc_ctxt_item *it = ctxt_item_clone(src->items[i]);

    if (!it || imc_ctxt_add_item(dst, it))
      return IMC_E_NOMEM;
  }
  for (size_t i = 0; i < src->noptions; i++) {
    struct imc_feature *o = imc_feature_clone(src->options[i]);

    if (!o || imc_ctxt_add_option(dst, o))
      return IMC_E_NOMEM;
  }
  return 0;
}

static bool ctxt_equal(const struct imc_ctxt *a, const struct imc_ctxt *b)
{
  if (a->present != b->present || !imc_num_equal(a->max_time, b->max_time) ||
      a->nitems != b->nitems || a->noptions != b->noptions)
    return false;
  for (size_t i = 0; i < a->nitems; i++) {
    const struct imc_ctxt_item *x = a->items[i], *y = b->items[i];

    if (!imc_str_eq_opt(x->system, y->system) || !imc_str_eq_opt(x->configure, y->configure) ||
        !imc_num_equal(x->step, y->step) || !imc_str_eq_opt(x->tool, y->tool))
      return false;
  }
  for (size_t i = 0; i < a->noptions; i++)
    if (!imc_feature_equal(a->options[i], b->options[i]))
      return false;
  return true;
}

/* --- deploy --------------------------------------------------------------------------- */

void imc_deploy_free(struct imc_deploy *d)
{
  if (!d)
    return;
  imc_free(d->system);
  imc_free(d->cloud);
  imc_free(d);
}

struct imc_deploy *imc_deploy_clone(const struct imc_deploy *d)
{
  struct imc_deploy *c = imc_calloc(1, sizeof *c);

  if (!c)
    return NULL;
  c->count = d->count;
  c->pos = d->pos;
  if (imc_strdup_opt(&c->system, d->system) || imc_strdup_opt(&c->cloud, d->cloud)) {
    imc_deploy_free(c);
    return NULL;
  }
  return c;
}

static bool deploy_equal(const struct imc_deploy *a, const struct imc_deploy *b)
{
  return imc_str_eq_opt(a->system, b->system) && imc_num_equal(a->count, b->count) &&
         imc_str_eq_opt(a->cloud, b->cloud);
}

/* --- the document --------------------------------------------------------------------- */

struct imc_doc *imc_doc_new(const char *source)
{
  struct imc_doc *doc = imc_calloc(1, sizeof *doc);

  if (!doc)
    return NULL;
  imc_ctxt_init(&doc->ctxt);
  if (imc_strdup_opt(&doc->source, source)) {
    imc_free(doc);
    return NULL;
  }
  return doc;
}

static void free_elems(struct imc_elem **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    imc_elem_free(v[i]);
  imc_free(v);
}

void imc_doc_free(struct imc_doc *doc)
{
  if (!doc)
    return;
  imc_free(doc->source);
  imc_elem_free(doc->description);
  free_elems(doc->ansibles, doc->nansibles);
  free_elems(doc->networks, doc->nnetworks);
  free_elems(doc->systems, doc->nsystems);
  for (size_t i = 0; i < doc->nconfigures; i++)
    imc_configure_free(doc->configures[i]);
  imc_free(doc->configures);
  for (size_t i = 0; i < doc->ndeploys; i++)
    imc_deploy_free(doc->deploys[i]);
  imc_free(doc->deploys);
  imc_ctxt_cleanup(&doc->ctxt);
  imc_index_free(&doc->ansible_index);
  imc_index_free(&doc->network_index);
  imc_index_free(&doc->system_index);
  imc_index_free(&doc->configure_index);
  imc_free(doc);
}

/* The list an element kind lives in (not the description), with its index. */
static struct imc_elem ***elem_list(struct imc_doc *doc, enum imc_elem_kind kind, size_t **n,
                                    size_t **cap, struct imc_index **ix)
{
  switch (kind) {
  case IMC_ELEM_NETWORK:
    *n = &doc->nnetworks, *cap = &doc->cap_networks, *ix = &doc->network_index;
    return &doc->networks;
  case IMC_ELEM_SYSTEM:
    *n = &doc->nsystems, *cap = &doc->cap_systems, *ix = &doc->system_index;
    return &doc->systems;
  default:
    *n = &doc->nansibles, *cap = &doc->cap_ansibles, *ix = &doc->ansible_index;
    return &doc->ansibles;
  }
}

/* Index callbacks: ctx is the array of element (or configure) pointers. */
static bool elem_eq(const void *ctx, size_t pos, const void *key)
{
  return imc_str_eq_opt(((struct imc_elem *const *)ctx)[pos]->id, key);
}

static uint64_t elem_hash(const void *ctx, size_t pos)
{
  return imc_hash_str(((struct imc_elem *const *)ctx)[pos]->id);
}

static bool configure_eq(const void *ctx, size_t pos, const void *key)
{
  return imc_str_eq_opt(((struct imc_configure *const *)ctx)[pos]->id, key);
}

static uint64_t configure_hash(const void *ctx, size_t pos)
{
  return imc_hash_str(((struct imc_configure *const *)ctx)[pos]->id);
}

/* Position of the element with id in v (n elements), or SIZE_MAX. */
static size_t find_pos(const void *v, size_t n, const struct imc_index *ix, const char *id,
                       imc_index_eq eq)
{
  if (imc_index_built(ix))
    return imc_index_find(ix, imc_hash_str(id), id, eq, v);
  for (size_t i = 0; i < n; i++)
    if (eq(v, i, id))
      return i;
  return SIZE_MAX;
}

static struct imc_elem *find_elem(struct imc_elem *const *v, size_t n, const struct imc_index *ix,
                                  const char *id)
{
  size_t pos = find_pos(v, n, ix, id, elem_eq);

  return pos == SIZE_MAX ? NULL : v[pos];
}

struct imc_elem *imc_doc_network(const struct imc_doc *doc, const char *id)
{
  return find_elem(doc->networks, doc->nnetworks, &doc->network_index, id);
}

struct imc_elem *imc_doc_system(const struct imc_doc *doc, const char *id)
{
  return find_elem(doc->systems, doc->nsystems, &doc->system_index, id);
}

struct imc_elem *imc_doc_ansible(const struct imc_doc *doc, const char *id)
{
  return find_elem(doc->ansibles, doc->nansibles, &doc->ansible_index, id);
}

struct imc_configure *imc_doc_configure(const struct imc_doc *doc, const char *id)
{
  size_t pos =
    find_pos(doc->configures, doc->nconfigures, &doc->configure_index, id, configure_eq);

  return pos == SIZE_MAX ? NULL : doc->configures[pos];
}

static int add_description(struct imc_doc *doc, struct imc_elem *e, enum imc_ifpresent ifpresent,
                           bool *added, struct imc_err *err)
{
  if (doc->description && ifpresent != IMC_IFPRESENT_REPLACE) {
    int r = 0;

    if (ifpresent == IMC_IFPRESENT_ERROR)
      r = imc_fail_at(err, IMC_E_INVAL, doc->source, e->pos.line, e->pos.col,
                      "description can only be defined once");
    imc_elem_free(e);
    return r;
  }
  imc_elem_free(doc->description);
  doc->description = e;
  *added = true;
  return 0;
}

/* Removes v[i] from an array of n pointers, keeping the order.  Positions after i move, so
 * the index is dropped (the next append rebuilds it). */
static void remove_at(void **v, size_t *n, size_t i, struct imc_index *ix)
{
  memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof *v);
  (*n)--;
  imc_index_free(ix);
}

int imc_doc_add_elem(struct imc_doc *doc, struct imc_elem *e, enum imc_ifpresent ifpresent,
                     bool *added, struct imc_err *err)
{
  bool dummy;
  struct imc_elem ***list;
  struct imc_index *ix;
  size_t *n, *cap, i;

  added = added ? added : &dummy;
  *added = false;
  if (e->kind == IMC_ELEM_DESCRIPTION)
    return add_description(doc, e, ifpresent, added, err);
  list = elem_list(doc, e->kind, &n, &cap, &ix);
  if ((i = find_pos(*list, *n, ix, e->id, elem_eq)) != SIZE_MAX) {
    int r = 0;

    if (ifpresent == IMC_IFPRESENT_REPLACE) {
      imc_elem_free((*list)[i]);
      remove_at((void **)*list, n, i, ix);
    } else {
      if (ifpresent == IMC_IFPRESENT_ERROR)
        r = imc_fail_at(err, IMC_E_INVAL, doc->source, e->pos.line, e->pos.col,
                        "%s '%s' is defined twice", imc_elem_kind_name(e->kind), e->id);
      imc_elem_free(e);
      return r;
    }
  }
  if (imc_grow((void **)list, cap, *n + 1, sizeof **list)) {
    imc_elem_free(e);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  (*list)[(*n)++] = e;
  imc_index_note_append(ix, *n, imc_hash_str(e->id), elem_hash, *list);
  *added = true;
  return 0;
}

int imc_doc_add_configure(struct imc_doc *doc, struct imc_configure *c,
                          enum imc_ifpresent ifpresent, bool *added, struct imc_err *err)
{
  bool dummy;
  size_t i;

  added = added ? added : &dummy;
  *added = false;
  i = find_pos(doc->configures, doc->nconfigures, &doc->configure_index, c->id, configure_eq);
  if (i != SIZE_MAX) {
    int r = 0;

    if (ifpresent == IMC_IFPRESENT_REPLACE) {
      imc_configure_free(doc->configures[i]);
      remove_at((void **)doc->configures, &doc->nconfigures, i, &doc->configure_index);
    } else {
      if (ifpresent == IMC_IFPRESENT_ERROR)
        r = imc_fail_at(err, IMC_E_INVAL, doc->source, c->pos.line, c->pos.col,
                        "configure '%s' is defined twice", c->id);
      imc_configure_free(c);
      return r;
    }
  }
  if (imc_grow((void **)&doc->configures, &doc->cap_configures, doc->nconfigures + 1,
               sizeof *doc->configures)) {
    imc_configure_free(c);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  doc->configures[doc->nconfigures++] = c;
  imc_index_note_append(&doc->configure_index, doc->nconfigures, imc_hash_str(c->id),
                        configure_hash, doc->configures);
  *added = true;
  return 0;
}

int imc_doc_add_deploy(struct imc_doc *doc, struct imc_deploy *d, struct imc_err *err)
{
  if (imc_grow((void **)&doc->deploys, &doc->cap_deploys, doc->ndeploys + 1,
               sizeof *doc->deploys)) {
    imc_deploy_free(d);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  doc->deploys[doc->ndeploys++] = d;
  return 0;
}

struct imc_doc *imc_doc_clone(const struct imc_doc *doc)
{
  struct imc_doc *c = imc_doc_new(doc->source);
  const struct {
    struct imc_elem *const *v;
    size_t n;
  } lists[] = {
    {doc->ansibles, doc->nansibles},
    {doc->networks, doc->nnetworks},
    {doc->systems, doc->nsystems},
  };

  if (!c)
    return NULL;
  if (doc->description && !(c->description = imc_elem_clone(doc->description)))
    goto fail;
  for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
    for (size_t i = 0; i < lists[l].n; i++) {
      struct imc_elem *e = imc_elem_clone(lists[l].v[i]);

      if (!e || imc_doc_add_elem(c, e, IMC_IFPRESENT_REPLACE, NULL, NULL))
        goto fail;
    }
  }
  for (size_t i = 0; i < doc->nconfigures; i++) {
    struct imc_configure *k = imc_configure_clone(doc->configures[i]);

    if (!k || imc_doc_add_configure(c, k, IMC_IFPRESENT_REPLACE, NULL, NULL))
      goto fail;
  }
  for (size_t i = 0; i < doc->ndeploys; i++) {
    struct imc_deploy *d = imc_deploy_clone(doc->deploys[i]);

    if (!d || imc_doc_add_deploy(c, d, NULL))
      goto fail;
  }
  if (imc_ctxt_merge(&c->ctxt, &doc->ctxt))
    goto fail;
  c->ctxt.pos = doc->ctxt.pos;
  return c;
fail:
  imc_doc_free(c);
  return NULL;
}

static bool elems_equal(struct imc_elem *const *a, size_t na, struct imc_elem *const *b,
                        size_t nb)
{
  if (na != nb)
    return false;
  for (size_t i = 0; i < na; i++)
    if (!imc_elem_equal(a[i], b[i]))
      return false;
  return true;
}

bool imc_doc_equal(const struct imc_doc *a, const struct imc_doc *b)
{
  if (!imc_elem_equal(a->description, b->description) ||
      !elems_equal(a->ansibles, a->nansibles, b->ansibles, b->nansibles) ||
      !elems_equal(a->networks, a->nnetworks, b->networks, b->nnetworks) ||
      !elems_equal(a->systems, a->nsystems, b->systems, b->nsystems) ||
      a->nconfigures != b->nconfigures || a->ndeploys != b->ndeploys ||
      !ctxt_equal(&a->ctxt, &b->ctxt))
    return false;
  for (size_t i = 0; i < a->nconfigures; i++)
    if (!configure_equal(a->configures[i], b->configures[i]))
      return false;
  for (size_t i = 0; i < a->ndeploys; i++)
    if (!deploy_equal(a->deploys[i], b->deploys[i]))
      return false;
  return true;
}

bool imc_doc_empty(const struct imc_doc *doc)
{
  return !doc->description && !doc->nansibles && !doc->nnetworks && !doc->nsystems &&
         !doc->nconfigures && !doc->ndeploys && !doc->ctxt.present;
}
