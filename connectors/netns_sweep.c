/* SPDX-License-Identifier: GPL-3.0-or-later */
/* At open: the leftovers of a crashed run go.  A host without its "complete" marker whose
 * creating process is dead was half made; namespaces, veths and bridges that carry this state
 * directory's prefix but that no state records are a crash's too, and so are loop devices
 * backed by files of hosts that no longer exist.  Hosts of live infrastructures (complete,
 * or still being made by a live process) stay.  Runs under the lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imc/log.h"
#include "netns_int.h"

static bool ours(const struct nn_ctx *c, const char *name, char kind)
{
  size_t n = strlen(c->prefix);

  return strncmp(name, c->prefix, n) == 0 && name[n] == kind;
}

static int half_made(const char *name, void *arg)
{
  struct nn_ctx *c = arg;
  char dir[NN_PATH], path[NN_PATH];
  pid_t creator;

  if (nn_path(dir, sizeof dir, NULL, "%s/hosts/%s", c->dir, name) ||
      nn_path(path, sizeof path, NULL, "%s/complete", dir) || nn_exists(path) ||
      nn_path(path, sizeof path, NULL, "%s/creator", dir) || nn_pid_file_alive(path, &creator))
    return 0;
  if (nn_host_destroy(c, name, NULL) == 0)
    imc_log(IMC_LOG_INFO, "Netns: removed half-made host %s", name);
  return 0;
}

/* A namespace of ours without a host directory: its processes are killed, then it goes. */
static int stray_netns(const char *name, void *arg)
{
  struct nn_ctx *c = arg;
  const char *const del[] = {"/usr/sbin/ip", "netns", "del", name, NULL};
  char dir[NN_PATH];

  if (!ours(c, name, 'h') || nn_path(dir, sizeof dir, NULL, "%s/hosts/%s", c->dir, name) ||
      nn_exists(dir))
    return 0;
  if (nn_netns_kill(name, NULL) == 0)
    nn_run(del, NULL, NULL, NULL);
  return 0;
}

/* A veth PREFIXv<hex>i<N> belongs to host PREFIXh<hex>; a bridge PREFIXbXX to nets/X. */
static int stray_link(const char *name, void *arg)
{
  struct nn_ctx *c = arg;
  size_t n = strlen(c->prefix);
  char path[NN_PATH];

  if (ours(c, name, 'v')) {
    int hex = (int)strcspn(name + n + 1, "i");

    if (nn_path(path, sizeof path, NULL, "%s/hosts/%sh%.*s", c->dir, c->prefix, hex,
                name + n + 1) == 0 &&
        !nn_exists(path))
      nn_link_del(name, NULL);
  } else if (ours(c, name, 'b')) {
    if (nn_path(path, sizeof path, NULL, "%s/nets/%lu", c->dir, strtoul(name + n + 1, NULL, 16)) ==
          0 &&
        !nn_exists(path))
      nn_link_del(name, NULL);
  }
  return 0;
}

/* Loop devices backed by DIR/hosts/NAME/... where NAME is gone. */
static void stray_loops(struct nn_ctx *c)
{
  char hosts[NN_PATH], path[NN_PATH], backing[NN_PATH], prefix[NN_PATH];

  if (nn_path(hosts, sizeof hosts, NULL, "%s/hosts/", c->dir))
    return;
  for (unsigned k = 0; k < 256; k++) {
    size_t name_len;

    snprintf(path, sizeof path, "/sys/block/loop%u/loop/backing_file", k);
    if (nn_read_file(path, backing, sizeof backing, NULL) != 0 ||
        strncmp(backing, hosts, strlen(hosts)) != 0)
      continue;
    name_len = strcspn(backing + strlen(hosts), "/\n");
    snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(hosts) + name_len), backing);
    if (!nn_exists(prefix) &&
        snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "/") > 0)
      nn_loops_detach(prefix, NULL);
  }
}

int nn_sweep(struct nn_ctx *c, struct imc_err *err)
{
  char path[NN_PATH];
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/hosts", c->dir)) != 0)
    return r;
  nn_each_name(path, half_made, c);
  nn_each_name("/run/netns", stray_netns, c);
  nn_each_name("/sys/class/net", stray_link, c);
  stray_loops(c);
  return nn_net_sweep(c, err);
}
