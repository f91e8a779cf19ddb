/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Netns connector (doc/netns.md): each VM is a real, isolated host on this machine: its
 * own network, mount, UTS and PID namespaces, an overlayfs root over the machine's own /, its
 * own sshd.  It needs root and no credentials.  Every operation reads its state from the state
 * directory (the engine opens a context per call) and changes it under the directory's lock,
 * so threads of one process and several processes (imc, imcd) share it safely. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/auth.h"
#include "netns_int.h"

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* The state directory's path goes into overlayfs options and names: a plain path only. */
static int check_dir(const char *dir, struct imc_err *err)
{
  if (dir[0] != '/' || strlen(dir) > NN_DIR_MAX - 8 ||
      strspn(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") !=
        strlen(dir))
    return imc_fail(err, IMC_E_INVAL,
                    "Netns: host must be an absolute path of at most %d "
                    "letters, digits and /._- characters",
                    NN_DIR_MAX - 8);
  return 0;
}

static int make_dirs(struct nn_ctx *c, const char *dir, struct imc_err *err)
{
  char path[NN_PATH], real[PATH_MAX];
  int r;

  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1;; p++) /* mkdir -p */
    if (*p == '/' || *p == '\0') {
      char keep = *p;

      *p = '\0';
      if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return imc_fail(err, IMC_E_IO, "Netns: cannot create %s: %s", path, strerror(errno));
      if (!(*p = keep))
        break;
    }
  if (!realpath(dir, real) || strlen(real) > NN_DIR_MAX - 8)
    return imc_fail(err, IMC_E_IO, "Netns: cannot resolve %s", dir);
  snprintf(c->dir, sizeof c->dir, "%s", real);
  for (size_t i = 0; i < 2; i++) {
    if ((r = nn_path(path, sizeof path, err, "%s/%s", c->dir, i ? "nets" : "hosts")) != 0)
      return r;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return imc_fail(err, IMC_E_IO, "Netns: cannot create %s: %s", path, strerror(errno));
  }
  return 0;
}

/* "n" and 5 hex digits of the directory's FNV-1a hash: parallel backends (tests with their
 * own directories) name their namespaces, bridges and veths apart. */
static void make_prefix(struct nn_ctx *c)
{
  uint32_t h = 2166136261u;

  for (const char *p = c->dir; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  snprintf(c->prefix, sizeof c->prefix, "n%05x", (unsigned)(h & 0xfffffu));
}

static int nn_open(void *vctx, const struct imc_auth_entry *auth, struct imc_http *http,
                   struct imc_err *err)
{
  struct nn_ctx *c = vctx;
  const char *dir = auth ? imc_auth_get(auth, "host") : NULL;
  int r;

  c->lock_fd = -1;
  if (geteuid() != 0)
    return imc_fail(err, IMC_E_CLOUD,
                    "the Netns backend needs root: run imc or imcd as root "
                    "(it makes network namespaces, bridges, mounts and loop devices)");
  if (!dir || !*dir)
    dir = NN_DEFAULT_DIR;
  if ((r = check_dir(dir, err)) || (r = make_dirs(c, dir, err)))
    return r;
  make_prefix(c);
  if ((r = nn_lock(c, err)) != 0)
    return r;
  r = nn_sweep(c, err);
  nn_unlock(c);
  return r;
}

static void nn_close(void *vctx)
{
  nn_unlock(vctx);
}

/* netns://host, or no image at all (then netns://host); other schemes are another cloud's.
 * The hosts log in as root: another user name is not something this backend offers. */
static int nn_concrete(void *vctx, const struct imc_elem *system, struct imc_elem **out,
                       double *score, struct imc_err *err)
{
  const char *url = imc_features_str(&system->feats, "disk.0.image.url");
  const char *user = imc_features_str(&system->feats, "disk.0.os.credentials.username");
  struct imc_elem *c;

  *out = NULL;
  if (url && strcmp(url, NN_IMAGE) != 0)
    return imc_fail(err, IMC_E_NOTFOUND, "Netns: only the image " NN_IMAGE " is offered");
  if (user && strcmp(user, "root") != 0)
    return imc_fail(err, IMC_E_NOTFOUND, "Netns: hosts log in as root only");
  if (!(c = imc_elem_clone(system)))
    return nomem(err);
  if (imc_features_set_str(&c->feats, "disk.0.image.url", NN_IMAGE) ||
      imc_features_set_str(&c->feats, "disk.0.os.name", "linux") ||
      imc_features_set_str(&c->feats, "disk.0.os.credentials.username", "root")) {
    imc_elem_free(c);
    return nomem(err);
  }
  *out = c;
  *score = 0;
  return 0;
}

/* An instance id of this state directory: PREFIXh and hex digits.  Anything else (another
 * directory's host, a hand-edited record) is a host this backend does not have. */
static bool our_host(const struct nn_ctx *c, const char *id)
{
  size_t n = strlen(c->prefix);

  return id && strncmp(id, c->prefix, n) == 0 && id[n] == 'h' && id[n + 1] &&
         strlen(id) < NN_HOST_MAX && strspn(id + n + 1, "0123456789abcdef") == strlen(id + n + 1);
}

static int nn_launch(void *vctx, const struct imc_launch *rq, struct imc_vm *vm,
                     struct imc_err *err)
{
  struct nn_ctx *c = vctx;
  int r;

  if ((r = nn_lock(c, err)) != 0)
    return r;
  r = nn_host_create(c, rq, vm, err);
  nn_unlock(c);
  return r;
}

static int nn_update(void *vctx, struct imc_vm *vm, struct imc_err *err)
{
  struct nn_ctx *c = vctx;

  if (!our_host(c, vm->instance_id)) {
    vm->state = IMC_VM_OFF;
    return 0;
  }
  return nn_host_fill(c, vm->instance_id, vm, err);
}

/* Bridges go with the last host that uses them, whether or not `last` is set: a network no
 * host uses is of no use to anyone. */
static int nn_finalize(void *vctx, struct imc_vm *vm, bool last, struct imc_err *err)
{
  struct nn_ctx *c = vctx;
  int r;

  if (!our_host(c, vm->instance_id))
    return 0;
  if ((r = nn_lock(c, err)) != 0)
    return r;
  if ((r = nn_host_destroy(c, vm->instance_id, err)) == 0)
    r = nn_net_sweep(c, err);
  nn_unlock(c);
  if (r == 0)
    vm->state = IMC_VM_OFF;
  return r;
}

static int power_locked(struct nn_ctx *c, const char *host, enum imc_power op, struct imc_err *err)
{
  char path[NN_PATH];
  pid_t pid;
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/pid", c->dir, host)) != 0)
    return r;
  if (op != IMC_POWER_START && (r = nn_host_stop(c, host, err)) != 0)
    return r;
  if (op == IMC_POWER_STOP || nn_pid_file_alive(path, &pid))
    return 0;
  if ((r = nn_net_restore(c, host, err)) || (r = nn_disks_restore(c, host, err)))
    return r;
  return nn_boot(c, host, err);
}

static int nn_power(void *vctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err)
{
  struct nn_ctx *c = vctx;
  char dir[NN_PATH];
  int r;

  if (!our_host(c, vm->instance_id) ||
      nn_path(dir, sizeof dir, NULL, "%s/hosts/%s", c->dir, vm->instance_id) || !nn_exists(dir))
    return imc_fail(err, IMC_E_NOTFOUND, "Netns: no host %s",
                    vm->instance_id ? vm->instance_id : "(none)");
  if ((r = nn_lock(c, err)) != 0)
    return r;
  r = power_locked(c, vm->instance_id, op, err);
  nn_unlock(c);
  return r ? r : nn_host_fill(c, vm->instance_id, vm, err);
}

/* One image: this machine's own root filesystem, offered when the request's distribution and
 * version (if any) are this machine's (/etc/os-release ID and VERSION_ID). */
static int nn_list_images(void *vctx, const struct imc_auth_entry *filters,
                          struct imc_image **images, size_t *n, struct imc_err *err)
{
  static const char *const keys[][2] = {{"distribution", "ID"}, {"version", "VERSION_ID"}};
  char text[NN_SMALL], value[128];
  struct imc_image *v;

  *images = NULL;
  *n = 0;
  nn_read_file("/etc/os-release", text, sizeof text, NULL);
  for (size_t i = 0; i < 2; i++) {
    const char *want = filters ? imc_auth_get(filters, keys[i][0]) : NULL;
    char *line = want ? strstr(text, keys[i][1]) : NULL;

    while (line && !(line == text || line[-1] == '\n'))
      line = strstr(line + 1, keys[i][1]);
    if (!want)
      continue;
    if (!line || line[strlen(keys[i][1])] != '=')
      return 0;
    line += strlen(keys[i][1]) + 1;
    snprintf(value, sizeof value, "%.*s", (int)strcspn(line, "\n"), line + (*line == '"'));
    value[strcspn(value, "\"")] = '\0';
    if (strcasecmp(value, want) != 0)
      return 0;
  }
  if (!(v = imc_calloc(1, sizeof *v)))
    return nomem(err);
  if (!(v->uri = imc_strdup(NN_IMAGE)) ||
      !(v->name = imc_strdup("This machine's root filesystem"))) {
    imc_images_free(v, 1);
    return nomem(err);
  }
  *images = v;
  *n = 1;
  return 0;
}

struct token_find {
  struct nn_ctx *c;
  const char *token;
  char host[NN_HOST_MAX];
};

static int token_match(const char *name, void *arg)
{
  struct token_find *f = arg;
  char path[NN_PATH], token[256];

  if (!our_host(f->c, name) ||
      nn_path(path, sizeof path, NULL, "%s/hosts/%s/token", f->c->dir, name) ||
      nn_read_file(path, token, sizeof token, NULL) || strcmp(token, f->token) != 0)
    return 0;
  snprintf(f->host, sizeof f->host, "%s", name);
  return 1;
}

static int nn_find(void *vctx, const char *client_token, struct imc_vm *vm, struct imc_err *err)
{
  struct nn_ctx *c = vctx;
  struct token_find f = {.c = c, .token = client_token};
  char path[NN_PATH];

  if (!client_token || !*client_token || nn_path(path, sizeof path, err, "%s/hosts", c->dir) ||
      nn_each_name(path, token_match, &f) != 1)
    return imc_fail(err, IMC_E_NOTFOUND, "Netns: nothing was created with that client token");
  if (imc_vm_set(&vm->instance_id, f.host))
    return nomem(err);
  return nn_host_fill(c, f.host, vm, err);
}

const struct imc_connector imc_connector_netns = {
  .name = NN_NAME,
  .abi = IMC_CONNECTOR_ABI,
  /* Not IMC_CAP_NO_AUTH: the entry's `host` says where the hosts are, so an empty entry
   * would look for them in the wrong place and report them gone. */
  .caps = IMC_CAP_FIND | IMC_CAP_IMAGES,
  .ctx_size = sizeof(struct nn_ctx),
  .open = nn_open,
  .close = nn_close,
  .concrete = nn_concrete,
  .launch = nn_launch,
  .update = nn_update,
  .finalize = nn_finalize,
  .power = nn_power,
  .list_images = nn_list_images,
  .find = nn_find,
};
