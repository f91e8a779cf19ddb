/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Networks of the Netns backend: one bridge in the root namespace per (infrastructure, RADL
 * network), a 10.213.X.0/24 each, veths into the hosts' namespaces.  A public network's bridge
 * has the .1 address, so this machine reaches its hosts; a private one has none.  No default
 * route anywhere and ip_forward untouched: nothing leaves a bridge. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns_int.h"

#define IP "/usr/sbin/ip"

void nn_bridge_name(const struct nn_ctx *c, unsigned subnet, char *out, size_t n)
{
  snprintf(out, n, "%sb%02x", c->prefix, subnet & 0xffu);
}

/* host is PREFIXh<hex>: the veth is PREFIXv<hex>i<idx>, 13 characters at most. */
void nn_veth_name(const struct nn_ctx *c, const char *host, unsigned idx, char *out, size_t n)
{
  snprintf(out, n, "%sv%.5si%u", c->prefix, host + strlen(c->prefix) + 1, idx % 10);
}

/* A veth whose peer's namespace was just deleted vanishes on its own, a moment later: one
 * that is gone when ip fails is gone, which is what was asked. */
int nn_link_del(const char *name, struct imc_err *err)
{
  const char *const argv[] = {IP, "link", "del", name, NULL};
  struct imc_err mine = {0};
  char path[NN_PATH];
  int r;

  if ((r = nn_path(path, sizeof path, err, "/sys/class/net/%s", name)) != 0 || !nn_exists(path))
    return r;
  if ((r = nn_run(argv, NULL, NULL, &mine)) != 0 && nn_exists(path))
    return imc_fail(err, mine.code, "%s", mine.msg);
  return 0;
}

/* A bridge or veth end in the root namespace gets no IPv6 link-local address either: a
 * private network's bridge must give this machine no way at all to its hosts. */
static int no_ipv6(const char *dev, struct imc_err *err)
{
  char path[NN_PATH];
  int fd, r;

  if ((r = nn_path(path, sizeof path, err, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev)) != 0)
    return r;
  if (!nn_exists("/proc/sys/net/ipv6"))
    return 0; /* a kernel without IPv6 */
  /* A sysctl is written in place: nn_write_file's rename cannot work in /proc. */
  if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || write(fd, "1\n", 2) != 2) {
    r = imc_fail(err, IMC_E_IO, "Netns: cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return r;
  }
  close(fd);
  return 0;
}

/* Whether 10.213.X.0/24 overlaps a route of the root namespace (/proc/net/route: hex
 * destination and mask in network order, as the kernel stores them). */
static bool route_clash(unsigned x)
{
  unsigned long net = 10ul | 213ul << 8 | (unsigned long)x << 16, mask24 = 0xfffffful;
  char text[NN_SMALL * 4], *line;

  if (nn_read_file("/proc/net/route", text, sizeof text, NULL) != 0)
    return true;
  for (line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
    char ifname[32];
    unsigned long dst, gw, mask;
    unsigned flags, refcnt, use, metric;

    if (sscanf(line + 1, "%31s %lx %lx %x %u %u %u %lx", ifname, &dst, &gw, &flags, &refcnt, &use,
               &metric, &mask) != 8 ||
        mask == 0)
      continue; /* a default route covers everything; it is not a clash */
    if ((net & mask) == (dst & mask) || (dst & mask24) == net)
      return true;
  }
  return false;
}

struct net_find {
  struct nn_ctx *c;
  const char *infra, *net;
  unsigned found; /* 256: none */
  bool used[256];
};

static int net_match(const char *name, void *arg)
{
  struct net_find *f = arg;
  char path[NN_PATH], text[NN_SMALL], infra[128], net[128];
  char *end;
  unsigned long x = strtoul(name, &end, 10);

  if (*end || x > 255 || nn_path(path, sizeof path, NULL, "%s/nets/%s", f->c->dir, name) ||
      nn_read_file(path, text, sizeof text, NULL))
    return 0;
  f->used[x] = true;
  if (f->infra && nn_kv(text, "infra", infra, sizeof infra) &&
      nn_kv(text, "net", net, sizeof net) && strcmp(infra, f->infra) == 0 &&
      strcmp(net, f->net) == 0)
    f->found = (unsigned)x;
  return 0;
}

/* Fixed MAC addresses (locally administered, 02:00, then 10.213.X.Y): a bridge or host
 * interface made again after a reboot or a restart has the one it had, so no neighbour
 * (the machine, the other hosts) keeps a stale ARP entry that blackholes it for a minute. */
static void mac_of(unsigned x, unsigned y, char *out, size_t n)
{
  snprintf(out, n, "02:00:0a:d5:%02x:%02x", x & 0xffu, y & 0xffu);
}

static int bridge_make(struct nn_ctx *c, unsigned x, bool public, struct imc_err *err)
{
  char br[16], addr[32], mac[32];
  const char *const add[] = {IP, "link", "add", br, "address", mac, "type", "bridge", NULL};
  const char *const up[] = {IP, "link", "set", br, "up", NULL};
  const char *const ip[] = {IP, "addr", "add", addr, "dev", br, NULL};
  int r;

  nn_bridge_name(c, x, br, sizeof br);
  snprintf(addr, sizeof addr, NN_SUBNET "%u.1/24", x);
  mac_of(x, 1, mac, sizeof mac);
  if ((r = nn_link_del(br, err)) || (r = nn_run(add, NULL, NULL, err)) || (r = no_ipv6(br, err)) ||
      (r = nn_run(up, NULL, NULL, err)))
    return r;
  return public ? nn_run(ip, NULL, NULL, err) : 0;
}

int nn_net_ensure(struct nn_ctx *c, const char *infra, const char *net, bool public,
                  unsigned *subnet, struct imc_err *err)
{
  struct net_find f = {.c = c, .infra = infra, .net = net, .found = 256};
  char path[NN_PATH], text[512];
  unsigned start = (unsigned)strtoul(c->prefix + 1, NULL, 16) % 256, x = 256;
  int r, k;

  if ((r = nn_path(path, sizeof path, err, "%s/nets", c->dir)) != 0)
    return r;
  nn_each_name(path, net_match, &f);
  if (f.found < 256) {
    *subnet = f.found;
    return 0;
  }
  /* Start where this state directory's prefix points, so two backends (parallel tests)
   * rarely try the same subnet; a subnet a route already covers is skipped. */
  for (unsigned i = 0; i < 256 && x == 256; i++)
    if (!f.used[(start + i) % 256] && !route_clash((start + i) % 256))
      x = (start + i) % 256;
  if (x == 256)
    return imc_fail(err, IMC_E_QUOTA, "Netns: no free subnet in " NN_SUBNET "0.0/16");
  k = snprintf(text, sizeof text, "infra %s\nnet %s\npublic %d\n", infra, net, public);
  if (k < 0 || (size_t)k >= sizeof text)
    return imc_fail(err, IMC_E_INVAL, "Netns: the network id is too long");
  if ((r = nn_path(path, sizeof path, err, "%s/nets/%u", c->dir, x)) ||
      (r = nn_write_file(path, text, (size_t)k, 0644, err)))
    return r;
  if ((r = bridge_make(c, x, public, err)) != 0) {
    char br[16];

    nn_bridge_name(c, x, br, sizeof br);
    nn_link_del(br, NULL);
    remove(path);
    return r;
  }
  *subnet = x;
  return 0;
}

struct addr_scan {
  struct nn_ctx *c;
  unsigned subnet;
  bool used[256];
  bool subnet_used;
};

static int addr_mark(const char *name, void *arg)
{
  struct addr_scan *s = arg;
  struct nn_iface ifs[NN_MAX_IFACES];
  size_t n = 0;

  if (nn_host_ifaces(s->c, name, ifs, &n, NULL) != 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (ifs[i].subnet == s->subnet) {
      s->used[ifs[i].addr & 0xffu] = true;
      s->subnet_used = true;
    }
  return 0;
}

int nn_net_addr(struct nn_ctx *c, unsigned subnet, unsigned *addr, struct imc_err *err)
{
  struct addr_scan s = {.c = c, .subnet = subnet};
  char path[NN_PATH];
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/hosts", c->dir)) != 0)
    return r;
  nn_each_name(path, addr_mark, &s);
  for (unsigned a = 2; a < 255; a++)
    if (!s.used[a]) {
      *addr = a;
      return 0;
    }
  return imc_fail(err, IMC_E_QUOTA, "Netns: subnet " NN_SUBNET "%u.0/24 is full", subnet);
}

static int net_drop_unused(const char *name, void *arg)
{
  struct nn_ctx *c = arg;
  struct addr_scan s = {.c = c};
  char path[NN_PATH], br[16];
  char *end;
  unsigned long x = strtoul(name, &end, 10);

  if (*end || x > 255 || nn_path(path, sizeof path, NULL, "%s/hosts", c->dir))
    return 0;
  s.subnet = (unsigned)x;
  nn_each_name(path, addr_mark, &s);
  if (s.subnet_used)
    return 0;
  nn_bridge_name(c, (unsigned)x, br, sizeof br);
  if (nn_link_del(br, NULL) == 0 &&
      nn_path(path, sizeof path, NULL, "%s/nets/%s", c->dir, name) == 0)
    remove(path);
  return 0;
}

int nn_net_sweep(struct nn_ctx *c, struct imc_err *err)
{
  char path[NN_PATH];
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/nets", c->dir)) != 0)
    return r;
  return nn_each_name(path, net_drop_unused, c);
}

static int plug_one(struct nn_ctx *c, const char *host, const struct nn_iface *f,
                    struct imc_err *err)
{
  char veth[16], br[16], peer[16], addr[32], mac[32];
  const char *const add[] = {IP,     "link", "add",     veth, "type",  "veth", "peer",
                             "name", peer,   "address", mac,  "netns", host,   NULL};
  const char *const master[] = {IP, "link", "set", veth, "master", br, "up", NULL};
  const char *const ip[] = {IP, "-n", host, "addr", "add", addr, "dev", peer, NULL};
  const char *const up[] = {IP, "-n", host, "link", "set", peer, "up", NULL};
  int r;

  nn_veth_name(c, host, f->idx, veth, sizeof veth);
  nn_bridge_name(c, f->subnet, br, sizeof br);
  snprintf(peer, sizeof peer, "eth%u", f->idx);
  snprintf(addr, sizeof addr, NN_SUBNET "%u.%u/24", f->subnet, f->addr);
  mac_of(f->subnet, f->addr, mac, sizeof mac);
  if ((r = nn_link_del(veth, err)) || (r = nn_run(add, NULL, NULL, err)) ||
      (r = no_ipv6(veth, err)) || (r = nn_run(master, NULL, NULL, err)) ||
      (r = nn_run(ip, NULL, NULL, err)))
    return r;
  return nn_run(up, NULL, NULL, err);
}

int nn_net_plug(struct nn_ctx *c, const char *host, const struct nn_iface *ifs, size_t n,
                struct imc_err *err)
{
  const char *const add[] = {IP, "netns", "add", host, NULL};
  const char *const lo[] = {IP, "-n", host, "link", "set", "lo", "up", NULL};
  char path[NN_PATH];
  int r;

  snprintf(path, sizeof path, "/run/netns/%s", host);
  if (!nn_exists(path) && (r = nn_run(add, NULL, NULL, err)) != 0)
    return r;
  if ((r = nn_run(lo, NULL, NULL, err)) != 0)
    return r;
  for (size_t i = 0; i < n; i++)
    if ((r = plug_one(c, host, &ifs[i], err)) != 0)
      return r;
  return 0;
}

/* After a reboot of the machine a stopped host's kernel objects are gone (the namespace,
 * veths, bridges): its records make them again before it boots. */
int nn_net_restore(struct nn_ctx *c, const char *host, struct imc_err *err)
{
  struct nn_iface ifs[NN_MAX_IFACES];
  char path[NN_PATH], text[NN_SMALL], br[16], pub[8];
  size_t n = 0;
  int r;

  if ((r = nn_host_ifaces(c, host, ifs, &n, err)) != 0)
    return r;
  for (size_t i = 0; i < n; i++) {
    nn_bridge_name(c, ifs[i].subnet, br, sizeof br);
    if ((r = nn_path(path, sizeof path, err, "/sys/class/net/%s", br)) != 0)
      return r;
    if (nn_exists(path))
      continue;
    if ((r = nn_path(path, sizeof path, err, "%s/nets/%u", c->dir, ifs[i].subnet)) ||
        (r = nn_read_file(path, text, sizeof text, err)) ||
        (r = bridge_make(c, ifs[i].subnet,
                         nn_kv(text, "public", pub, sizeof pub) && strcmp(pub, "1") == 0, err)))
      return r;
  }
  if ((r = nn_path(path, sizeof path, err, "/run/netns/%s", host)) != 0 || nn_exists(path))
    return r;
  return nn_net_plug(c, host, ifs, n, err);
}
