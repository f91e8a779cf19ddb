/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The interface every cloud provider implements.  The engine owns polling, retries and
 * deadlines: an operation does one bounded step and returns, and no connector sleeps.
 * The engine receives the table of connectors from its caller, so tests pass fakes. */
#ifndef IMC_CONNECTOR_H
#define IMC_CONNECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "imc/auth.h"
#include "imc/err.h"
#include "imc/model.h"
#include "imc/vm.h"

#define IMC_CONNECTOR_ABI 1 /* bump when an op is appended; never reorder */

/* What a connector can do beyond the required operations (an optional op's pointer is NULL
 * when its flag is off), and facts the engine needs about it. */
enum {
  IMC_CAP_ALTER = 1u << 0,
  IMC_CAP_SNAPSHOT = 1u << 1,
  IMC_CAP_IMAGES = 1u << 2,
  IMC_CAP_QUOTAS = 1u << 3,
  IMC_CAP_FIND = 1u << 4, /* can find a resource by its client token (crash recovery) */
  IMC_CAP_NO_AUTH = 1u << 5, /* needs no credentials: works with an empty auth entry */
  IMC_CAP_NO_CTXT = 1u << 6, /* its VMs are never contextualized (nothing to reach) */
};

enum imc_power { IMC_POWER_START, IMC_POWER_STOP, IMC_POWER_REBOOT };

struct imc_http; /* the shared HTTP client (later issue); connectors that need none ignore it */

/* What to launch: one VM of a concrete system. */
struct imc_launch {
  const char *infra_id;
  unsigned vm_id;
  const char *client_token;      /* attach it to the resource (tag, name or metadata) */
  const struct imc_doc *doc;     /* the whole infrastructure (networks the system uses) */
  const struct imc_elem *system; /* concrete: image and flavour chosen */
  const char *public_key;        /* the infrastructure's key for contextualization, or NULL */
};

struct imc_image {
  char *uri;
  char *name;
};

/* IM's quota names; limit < 0 means unlimited. */
struct imc_quota {
  const char *name; /* "cores", "ram", "instances", "floating_ips", "security_groups", ... */
  long long used, limit;
};

#define IMC_MAX_QUOTAS 8

struct imc_connector {
  const char *name; /* the auth `type` it serves: "Dummy", "OpenStack", "EC2" */
  unsigned abi;     /* IMC_CONNECTOR_ABI */
  unsigned caps;    /* IMC_CAP_* */
  size_t ctx_size;  /* per (infrastructure, cloud) state, zeroed by the engine */

  /* --- life of a context -------------------------------------------------------------- */
  int (*open)(void *ctx, const struct imc_auth_entry *auth, struct imc_http *http,
              struct imc_err *err);
  void (*close)(void *ctx); /* called once after open, even when open failed */

  /* --- deploying ---------------------------------------------------------------------- */
  /* Can this cloud run system?  On success *out is a new concrete copy (image, flavour and
   * the defaults the cloud imposes) and *score ranks it (higher is better); no side
   * effects.  IMC_E_NOTFOUND means "not here" (try another cloud). */
  int (*concrete)(void *ctx, const struct imc_elem *system, struct imc_elem **out,
                  double *score, struct imc_err *err);
  /* Starts creating one VM; fills vm->instance_id and what is known already. */
  int (*launch)(void *ctx, const struct imc_launch *rq, struct imc_vm *vm, struct imc_err *err);
  /* One look at the VM: state, IPs, ...  A VM the provider no longer has is IMC_VM_OFF. */
  int (*update)(void *ctx, struct imc_vm *vm, struct imc_err *err);
  /* Deletes the VM (a VM already gone is success).  last: no other VM of this
   * infrastructure remains on this cloud, so shared resources it made go too. */
  int (*finalize)(void *ctx, struct imc_vm *vm, bool last, struct imc_err *err);
  int (*power)(void *ctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err);

  /* --- optional ----------------------------------------------------------------------- */
  int (*alter)(void *ctx, struct imc_vm *vm, const struct imc_elem *changes,
               struct imc_err *err);
  /* *image_url: new string the caller frees. */
  int (*snapshot)(void *ctx, struct imc_vm *vm, unsigned disk, const char *name,
                  bool auto_delete, char **image_url, struct imc_err *err);
  int (*delete_image)(void *ctx, const char *image_url, struct imc_err *err);
  /* *images: n entries the caller frees with imc_images_free.  filters may be NULL. */
  int (*list_images)(void *ctx, const struct imc_auth_entry *filters, struct imc_image **images,
                     size_t *n, struct imc_err *err);
  int (*quotas)(void *ctx, struct imc_quota *quotas, size_t *n, struct imc_err *err);
  /* Finds what a launch with client_token created (after a crash between the launch and
   * recording its outcome); IMC_E_NOTFOUND when nothing was created. */
  int (*find)(void *ctx, const char *client_token, struct imc_vm *vm, struct imc_err *err);
};

void imc_images_free(struct imc_image *images, size_t n);

/* The built-in connectors, NULL-terminated. */
extern const struct imc_connector *const imc_connectors_builtin[];

/* The connector serving an auth type in table, or NULL. */
const struct imc_connector *imc_connector_find(const struct imc_connector *const *table,
                                               const char *type);

#endif
