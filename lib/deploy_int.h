/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to deploy.c, plan.c and estimate.c: where each deploy of a request goes. */
#ifndef IMC_DEPLOY_INT_H
#define IMC_DEPLOY_INT_H

#include "engine_int.h"

#define CLOUD_ID_MAX 128

/* A cloud of the caller's auth data that a built-in connector serves. */
struct cloud {
  char id[CLOUD_ID_MAX]; /* the entry's id, or TYPE + its position (IM's CloudInfo) */
  const struct imc_auth_entry *auth;
  const struct imc_connector *conn;
};

struct plan_deploy {
  const char *system; /* borrowed from the request */
  size_t count;
  const char *cloud;    /* the deploy's cloud id, or NULL */
  char **private_nets;  /* the private networks its system is on (borrowed ids) */
  size_t nprivate, cap_private;
  size_t group;
};

/* Deploys that must share a cloud, and the clouds that fit them, best first. */
struct plan_group {
  size_t *clouds;
  size_t nclouds;
  bool private; /* on a private network: its VMs never move to another cloud */
};

struct plan {
  struct cloud *clouds;
  size_t nclouds;
  struct plan_deploy *deploys; /* the deploys with VMs, in the request's order */
  size_t ndeploys;
  struct plan_group *groups;
  size_t ngroups;
  const char **systems; /* distinct systems deployed (borrowed ids) */
  size_t nsystems;
  struct imc_elem **concrete; /* [cloud * nsystems + system]: NULL when it does not fit */
  double *score;
};

void plan_init(struct plan *p);
void plan_cleanup(struct plan *p);
/* Plans the deploys of req (already merged and checked) for the clouds of auth.  inf (may be
 * NULL) pins private networks used before to their cloud. */
int plan_make(struct imc_engine *e, struct infra *inf, const struct imc_doc *req,
              const struct imc_auth *auth, struct plan *p, struct imc_err *err);
const struct imc_elem *plan_concrete(const struct plan *p, size_t cloud, const char *system);

/* The clouds of auth with a connector, in auth order.  *out: caller frees with imc_free. */
int cloud_list(const struct imc_engine *e, const struct imc_auth *auth, struct cloud **out,
               size_t *n, struct imc_err *err);

/* IM's replace_dns_name: `#N#` in each interface's dns_name becomes the VM id; interface 0
 * without one gets DEFAULT_VM_NAME. */
int vm_set_names(struct imc_elem *system, unsigned id, const struct imc_config *cfg);

#endif
