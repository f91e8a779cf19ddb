/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Dummy connector, as IM's: a cloud that creates nothing.  VMs run at once with a fixed
 * address and credentials, snapshots and images are fixed mock0:// URLs, quotas are fixed.
 * It needs no credentials, so tests and conformance runs use it everywhere. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/connector.h"

#define DUMMY_IP "10.0.0.1"
#define DUMMY_IMAGE_PREFIX "mock0://linux.for.ev.er/"

struct dummy_ctx {
  int unused; /* Dummy keeps no state; the engine still gets a context to hand back */
};

static int dummy_open(void *ctx, const struct imc_auth_entry *auth, struct imc_http *http,
                      struct imc_err *err)
{
  return 0;
}

static void dummy_close(void *ctx)
{
}

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* The system as asked, with the login IM's Dummy gives when none is asked for. */
static int dummy_concrete(void *ctx, const struct imc_elem *system, struct imc_elem **out,
                          double *score, struct imc_err *err)
{
  struct imc_elem *c = imc_elem_clone(system);

  *out = NULL;
  if (!c)
    return nomem(err);
  if (!imc_features_str(&c->feats, "disk.0.os.credentials.username") &&
      imc_features_set_str(&c->feats, "disk.0.os.credentials.username", "username")) {
    imc_elem_free(c);
    return nomem(err);
  }
  *out = c;
  *score = 0;
  return 0;
}

static int dummy_launch(void *ctx, const struct imc_launch *rq, struct imc_vm *vm,
                        struct imc_err *err)
{
  static const struct {
    const char *name, *value;
  } reported[] = {
    {"provider.type", "Dummy"},
    {"net_interface.0.ip", DUMMY_IP},
    {"disk.0.os.credentials.username", "username"},
    {"disk.0.os.credentials.password", "password"},
  };
  char id[96];

  /* The client token is unique per launch, so it serves as the instance id. */
  snprintf(id, sizeof id, "dummy-%s", rq->client_token ? rq->client_token : "vm");
  if (imc_vm_set(&vm->instance_id, id) || imc_vm_set(&vm->cloud_type, "Dummy"))
    return nomem(err);
  for (size_t i = 0; i < sizeof reported / sizeof reported[0]; i++)
    if (imc_features_set_str(&vm->system->feats, reported[i].name, reported[i].value))
      return nomem(err);
  vm->state = IMC_VM_RUNNING;
  return 0;
}

static int dummy_update(void *ctx, struct imc_vm *vm, struct imc_err *err)
{
  return 0;
}

static int dummy_finalize(void *ctx, struct imc_vm *vm, bool last, struct imc_err *err)
{
  return 0;
}

static int dummy_power(void *ctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err)
{
  if (op == IMC_POWER_STOP)
    vm->state = IMC_VM_STOPPED;
  else if (op == IMC_POWER_START)
    vm->state = IMC_VM_RUNNING;
  return 0;
}

/* IM's Dummy resize copies cpu.count and memory.size (in megabytes) from the request. */
static int dummy_alter(void *ctx, struct imc_vm *vm, const struct imc_elem *changes,
                       struct imc_err *err)
{
  const struct imc_feature *cpu = imc_features_get(&changes->feats, "cpu.count");
  double mem;

  if (cpu && cpu->type == IMC_V_NUM &&
      imc_features_set_num(&vm->system->feats, "cpu.count", cpu->num, NULL))
    return nomem(err);
  if (imc_features_num(&changes->feats, "memory.size", "M", &mem)) {
    struct imc_num n = {.is_float = false};

    /* A valid RADL can ask for more megabytes than an int64 holds; converting that is
     * undefined, so it is refused. */
    if (!(mem >= 0 && mem < 9.2e18))
      return imc_fail(err, IMC_E_INVAL, "memory.size is out of range");
    n.i = (int64_t)mem;

    if (imc_features_set_num(&vm->system->feats, "memory.size", n, "M"))
      return nomem(err);
  }
  return 0;
}

static int dummy_snapshot(void *ctx, struct imc_vm *vm, unsigned disk, const char *name,
                          bool auto_delete, char **image_url, struct imc_err *err)
{
  struct imc_buf url;

  imc_buf_init(&url, 4096);
  imc_buf_addf(&url, DUMMY_IMAGE_PREFIX "%s", name);
  if (imc_buf_err(&url)) {
    int code = imc_buf_err(&url);

    imc_buf_free(&url);
    return code == IMC_E_NOMEM ? nomem(err) : imc_fail(err, IMC_E_INVAL, "snapshot name too long");
  }
  if (!(*image_url = imc_buf_take(&url, NULL)))
    return nomem(err);
  return 0;
}

static int dummy_delete_image(void *ctx, const char *image_url, struct imc_err *err)
{
  return 0;
}

static int dummy_list_images(void *ctx, const struct imc_auth_entry *filters,
                             struct imc_image **images, size_t *n, struct imc_err *err)
{
  static const struct {
    const char *uri, *name;
  } fixed[] = {
    {DUMMY_IMAGE_PREFIX "image1", "Image Name1"},
    {DUMMY_IMAGE_PREFIX "image2", "Image Name2"},
  };
  struct imc_image *v = imc_calloc(2, sizeof *v);

  *images = NULL;
  *n = 0;
  if (!v)
    return nomem(err);
  for (size_t i = 0; i < 2; i++) {
    if (!(v[i].uri = imc_strdup(fixed[i].uri)) || !(v[i].name = imc_strdup(fixed[i].name))) {
      imc_images_free(v, 2);
      return nomem(err);
    }
  }
  *images = v;
  *n = 2;
  return 0;
}

static int dummy_quotas(void *ctx, struct imc_quota *quotas, size_t *n, struct imc_err *err)
{
  static const char *const names[] = {"cores", "ram", "instances", "floating_ips",
                                      "security_groups"};

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    quotas[i].name = names[i];
    quotas[i].used = 1;
    quotas[i].limit = 10;
  }
  *n = sizeof names / sizeof names[0];
  return 0;
}

const struct imc_connector imc_connector_dummy = {
  .name = "Dummy",
  .abi = IMC_CONNECTOR_ABI,
  .caps = IMC_CAP_ALTER | IMC_CAP_SNAPSHOT | IMC_CAP_IMAGES | IMC_CAP_QUOTAS | IMC_CAP_NO_AUTH |
          IMC_CAP_NO_CTXT,
  .ctx_size = sizeof(struct dummy_ctx),
  .open = dummy_open,
  .close = dummy_close,
  .concrete = dummy_concrete,
  .launch = dummy_launch,
  .update = dummy_update,
  .finalize = dummy_finalize,
  .power = dummy_power,
  .alter = dummy_alter,
  .snapshot = dummy_snapshot,
  .delete_image = dummy_delete_image,
  .list_images = dummy_list_images,
  .quotas = dummy_quotas,
};
