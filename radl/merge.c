/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's rules for adding a RADL to an existing infrastructure (InfrastructureInfo.py):
 * complete_radl fills in bare references from what is stored, update_radl merges. */
#include <string.h>

#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/radl.h"

/* Replaces each reference element of list (n of them) by a copy of the stored definition. */
static int complete_elems(struct imc_doc *doc, struct imc_elem **list, size_t n,
                          struct imc_elem *(*find)(const struct imc_doc *, const char *),
                          const struct imc_doc *stored, struct imc_err *err)
{
  int r;

  /* Replacing moves the element to the end of its list (as IM), so walk by count. */
  for (size_t seen = 0, i = 0; seen < n; seen++) {
    struct imc_elem *e = list[i], *def, *copy;

    if (!e->reference) {
      i++;
      continue;
    }
    if (!(def = find(stored, e->id)) || def->reference)
      return imc_fail_at(err, IMC_E_INVAL, doc->source, e->pos.line, e->pos.col,
                         "unknown reference to %s '%s'", imc_elem_kind_name(e->kind), e->id);
    if (!(copy = imc_elem_clone(def)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if ((r = imc_doc_add_elem(doc, copy, IMC_IFPRESENT_REPLACE, NULL, err)) != 0)
      return r;
  }
  return 0;
}

static int complete_configures(struct imc_doc *doc, const struct imc_doc *stored,
                               struct imc_err *err)
{
  int r;
  size_t n = doc->nconfigures;

  for (size_t seen = 0, i = 0; seen < n; seen++) {
    struct imc_configure *c = doc->configures[i], *def, *copy;

    if (!c->reference) {
      i++;
      continue;
    }
    if (!(def = imc_doc_configure(stored, c->id)) || def->reference)
      return imc_fail_at(err, IMC_E_INVAL, doc->source, c->pos.line, c->pos.col,
                         "unknown reference to configure '%s'", c->id);
    if (!(copy = imc_configure_clone(def)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if ((r = imc_doc_add_configure(doc, copy, IMC_IFPRESENT_REPLACE, NULL, err)) != 0)
      return r;
  }
  return 0;
}

int radl_complete(struct imc_doc *doc, const struct imc_doc *stored, struct imc_err *err)
{
  int r;

  if ((r = complete_elems(doc, doc->networks, doc->nnetworks, imc_doc_network, stored, err)) ||
      (r = complete_elems(doc, doc->systems, doc->nsystems, imc_doc_system, stored, err)) ||
      (r = complete_configures(doc, stored, err)) ||
      (r = complete_elems(doc, doc->ansibles, doc->nansibles, imc_doc_ansible, stored, err)))
    return r;
  return radl_check(doc, err);
}

/* Adds a copy of each non-reference element of list to doc with the given policy.  A
 * reference names what is already stored, so it changes nothing. */
static int merge_elems(struct imc_doc *doc, struct imc_elem *const *list, size_t n,
                       enum imc_ifpresent ifpresent, struct imc_err *err)
{
  int r;

  for (size_t i = 0; i < n; i++) {
    struct imc_elem *copy;
    bool added;

    if (list[i]->reference)
      continue;
    if (!(copy = imc_elem_clone(list[i])))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if ((r = imc_doc_add_elem(doc, copy, ifpresent, &added, err)) != 0)
      return r;
    if (!added)
      imc_log(IMC_LOG_WARN, "ignoring the redefinition of %s '%s'",
              imc_elem_kind_name(list[i]->kind), list[i]->id);
  }
  return 0;
}

static int merge_configures(struct imc_doc *doc, const struct imc_doc *update,
                            struct imc_err *err)
{
  int r;

  for (size_t i = 0; i < update->nconfigures; i++) {
    struct imc_configure *copy;

    if (update->configures[i]->reference)
      continue;
    if (!(copy = imc_configure_clone(update->configures[i])))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if ((r = imc_doc_add_configure(doc, copy, IMC_IFPRESENT_REPLACE, NULL, err)) != 0)
      return r;
  }
  return 0;
}

/* The new deploys overwrite the old ones: only what this update asks for gets launched. */
static int replace_deploys(struct imc_doc *doc, const struct imc_doc *update,
                           struct imc_err *err)
{
  int r;

  for (size_t i = 0; i < doc->ndeploys; i++)
    imc_deploy_free(doc->deploys[i]);
  doc->ndeploys = 0;
  for (size_t i = 0; i < update->ndeploys; i++) {
    struct imc_deploy *copy = imc_deploy_clone(update->deploys[i]);

    if (!copy)
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if ((r = imc_doc_add_deploy(doc, copy, err)) != 0)
      return r;
  }
  return 0;
}

int radl_merge(struct imc_doc *stored, const struct imc_doc *update, struct imc_err *err)
{
  struct imc_doc *merged = imc_doc_clone(stored);
  struct imc_doc swap;
  char *source;
  int r;

  if (!merged)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (update->description && !update->description->reference) {
    struct imc_elem *d = imc_elem_clone(update->description);

    if (!d) {
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
      goto out;
    }
    if ((r = imc_doc_add_elem(merged, d, IMC_IFPRESENT_REPLACE, NULL, err)))
      goto out;
  }
  if ((r = merge_elems(merged, update->networks, update->nnetworks, IMC_IFPRESENT_IGNORE, err)) ||
      (r = merge_elems(merged, update->ansibles, update->nansibles, IMC_IFPRESENT_IGNORE, err)) ||
      (r = merge_configures(merged, update, err)) ||
      (r = merge_elems(merged, update->systems, update->nsystems, IMC_IFPRESENT_REPLACE, err)))
    goto out;
  if (imc_ctxt_merge(&merged->ctxt, &update->ctxt)) {
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
    goto out;
  }
  if (update->ndeploys && (r = replace_deploys(merged, update, err)))
    goto out;
  /* The merged document must be valid as a whole; otherwise the stored one stays.  The
   * stored part was valid before, so what breaks it comes from the update: report positions
   * under the update's name. */
  source = merged->source;
  merged->source = update->source;
  r = radl_check(merged, err);
  merged->source = source;
  if (r)
    goto out;
  swap = *stored;
  *stored = *merged;
  *merged = swap;
  source = stored->source; /* the stored document keeps its own name */
  stored->source = merged->source;
  merged->source = source;
out:
  imc_doc_free(merged);
  return r;
}
