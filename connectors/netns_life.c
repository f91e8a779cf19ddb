/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A Netns host's life after it is made: what it is now, stopping it, and removing all of it
 * (processes, veths, namespace, loop devices, state).  Mounts need no removal: they live only
 * in the host's own mount namespace, which ends with its last process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns_int.h"

/* Whether the host's sshd listens: a LISTEN (0A) socket on port 22 (0016) in the table of its
 * own network namespace, which /proc/PID/net/tcp shows for any of its processes. */
static bool sshd_listens(pid_t pid)
{
  char path[64], text[NN_SMALL * 4];

  snprintf(path, sizeof path, "/proc/%d/net/tcp", (int)pid);
  if (nn_read_file(path, text, sizeof text, NULL) != 0)
    return false;
  for (char *p = strstr(text, ":0016 "); p; p = strstr(p + 1, ":0016 "))
    if (strncmp(p + 6, "00000000:0000 0A ", 17) == 0)
      return true;
  return false;
}

static int set_features(struct nn_ctx *c, const char *host, struct imc_vm *vm, struct imc_err *err)
{
  struct nn_iface ifs[NN_MAX_IFACES];
  char path[NN_PATH], text[NN_SMALL], key[64], value[64];
  size_t n = 0;
  int r;

  if ((r = nn_host_ifaces(c, host, ifs, &n, err)) != 0)
    return r;
  for (size_t i = 0; i < n; i++) {
    snprintf(key, sizeof key, "net_interface.%u.ip", ifs[i].idx);
    snprintf(value, sizeof value, NN_SUBNET "%u.%u", ifs[i].subnet, ifs[i].addr);
    if (imc_features_set_str(&vm->system->feats, key, value))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/disks", c->dir, host)) != 0)
    return r;
  if (nn_read_file(path, text, sizeof text, NULL) != 0)
    return 0;
  for (char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
    unsigned d;

    if (sscanf(p, "%u %63s", &d, value) != 2)
      continue;
    snprintf(key, sizeof key, "disk.%u.device", d);
    if (imc_features_set_str(&vm->system->feats, key, value))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  return 0;
}

int nn_host_fill(struct nn_ctx *c, const char *host, struct imc_vm *vm, struct imc_err *err)
{
  char dir[NN_PATH], path[NN_PATH];
  pid_t pid;
  int r;

  if ((r = nn_path(dir, sizeof dir, err, "%s/hosts/%s", c->dir, host)) != 0)
    return r;
  if (!nn_exists(dir)) {
    vm->state = IMC_VM_OFF;
    return 0;
  }
  if (imc_features_set_str(&vm->system->feats, "provider.type", NN_NAME))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if ((r = set_features(c, host, vm, err)) != 0)
    return r;
  if ((r = nn_path(path, sizeof path, err, "%s/pid", dir)) != 0)
    return r;
  if (nn_pid_file_alive(path, &pid)) {
    /* Contextualization states are the engine's: a running host keeps them. */
    if (!sshd_listens(pid))
      vm->state = IMC_VM_PENDING;
    else if (vm->state != IMC_VM_CONFIGURED && vm->state != IMC_VM_UNCONFIGURED)
      vm->state = IMC_VM_RUNNING;
    return 0;
  }
  if ((r = nn_path(path, sizeof path, err, "%s/stopped", dir)) != 0)
    return r;
  vm->state = nn_exists(path) ? IMC_VM_STOPPED : IMC_VM_OFF;
  return 0;
}

int nn_host_stop(struct nn_ctx *c, const char *host, struct imc_err *err)
{
  char path[NN_PATH];
  pid_t pid;
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/pid", c->dir, host)) != 0)
    return r;
  if (nn_pid_file_alive(path, &pid) && (r = nn_kill_wait(pid, err)) != 0)
    return r;
  remove(path);
  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/stopped", c->dir, host)) != 0)
    return r;
  return nn_write_file(path, "", 0, 0644, err);
}

int nn_loops_detach(const char *prefix, struct imc_err *err)
{
  char path[NN_PATH], backing[NN_PATH];
  int r = 0;

  /* Loop devices are few: loop0 .. loop255 covers what losetup --find hands out here. */
  for (unsigned k = 0; k < 256; k++) {
    char dev[32];
    const char *const argv[] = {"/usr/sbin/losetup", "-d", dev, NULL};

    snprintf(path, sizeof path, "/sys/block/loop%u/loop/backing_file", k);
    if (nn_read_file(path, backing, sizeof backing, NULL) != 0 ||
        strncmp(backing, prefix, strlen(prefix)) != 0)
      continue;
    snprintf(dev, sizeof dev, "/dev/loop%u", k);
    if (nn_run(argv, NULL, NULL, err) != 0)
      r = IMC_E_CLOUD;
  }
  return r;
}

/* Every process in the host's network namespace: a host whose maker died between its boot
 * and recording its pid has no pid file, but its processes are in there. */
int nn_netns_kill(const char *host, struct imc_err *err)
{
  const char *const pids[] = {"/usr/sbin/ip", "netns", "pids", host, NULL};
  struct imc_buf out;
  int r;

  imc_buf_init(&out, NN_SMALL);
  if ((r = nn_run(pids, NULL, &out, err)) == 0 && imc_buf_err(&out))
    r = imc_fail(err, IMC_E_TOOBIG, "Netns: too many processes in %s", host);
  for (const char *p = imc_buf_cstr(&out); r == 0 && *p; p += strcspn(p, "\n"), p += *p == '\n') {
    long pid = strtol(p, NULL, 10);

    if (pid > 1)
      r = nn_kill_wait((pid_t)pid, err);
  }
  imc_buf_free(&out);
  return r;
}

int nn_host_destroy(struct nn_ctx *c, const char *host, struct imc_err *err)
{
  const char *const netns_del[] = {"/usr/sbin/ip", "netns", "del", host, NULL};
  char dir[NN_PATH], path[NN_PATH], veth[16];
  pid_t pid;
  int r;

  if ((r = nn_path(dir, sizeof dir, err, "%s/hosts/%s", c->dir, host)) != 0)
    return r;
  if ((r = nn_path(path, sizeof path, err, "%s/pid", dir)) != 0)
    return r;
  if (nn_pid_file_alive(path, &pid) && (r = nn_kill_wait(pid, err)) != 0)
    return r;
  for (unsigned i = 0; i < NN_MAX_IFACES; i++) {
    nn_veth_name(c, host, i, veth, sizeof veth);
    if ((r = nn_link_del(veth, err)) != 0)
      return r;
  }
  if ((r = nn_path(path, sizeof path, err, "%s/", dir)) != 0)
    return r;
  if ((r = nn_loops_detach(path, err)) != 0)
    return r;
  snprintf(path, sizeof path, "/run/netns/%s", host);
  if (nn_exists(path) &&
      ((r = nn_netns_kill(host, err)) != 0 || (r = nn_run(netns_del, NULL, NULL, err)) != 0))
    return r;
  return nn_remove_tree(dir, err);
}
