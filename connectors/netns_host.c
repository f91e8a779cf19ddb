/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Making one Netns host: its state directory, network, data disks, the files of its upper
 * layer (hostname, hosts, resolv.conf, sshd_config, its own host key, root's authorized
 * keys), its boot, and root's password set inside its own mount namespace.  A failure at any
 * step removes all of it (netns_life.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "netns_int.h"

#define NN_MAX_KEYS (64u * 1024) /* authorized_keys */

/* One host being made. */
struct mk {
  struct nn_ctx *c;
  const struct imc_launch *rq;
  const struct imc_features *feats;
  char name[NN_HOST_MAX];
  char dir[NN_PATH];
  char hostname[64];
  struct nn_iface ifs[NN_MAX_IFACES];
  size_t nifs;
};

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* A free name PREFIXh<hex> from the counter in DIR/next. */
static int pick_name(struct mk *m, struct imc_err *err)
{
  char path[NN_PATH], text[32], probe[NN_PATH];
  unsigned long next = 1;
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/next", m->c->dir)) != 0)
    return r;
  if (nn_read_file(path, text, sizeof text, NULL) == 0)
    next = strtoul(text, NULL, 16);
  for (unsigned tries = 0; tries < 0x100000; tries++, next++) {
    next &= 0xfffff;
    snprintf(m->name, sizeof m->name, "%sh%lx", m->c->prefix, next);
    if ((r = nn_path(probe, sizeof probe, err, "%s/hosts/%s", m->c->dir, m->name)) != 0)
      return r;
    if (!nn_exists(probe) && snprintf(path, sizeof path, "/run/netns/%s", m->name) > 0 &&
        !nn_exists(path))
      break;
  }
  snprintf(m->dir, sizeof m->dir, "%s", probe);
  snprintf(text, sizeof text, "%lx\n", (next + 1) & 0xfffff);
  if ((r = nn_path(path, sizeof path, err, "%s/next", m->c->dir)) != 0)
    return r;
  return nn_write_file(path, text, strlen(text), 0644, err);
}

static int file_in(struct mk *m, const char *rel, const char *data, size_t len, mode_t mode,
                   struct imc_err *err)
{
  char path[NN_PATH];
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/%s", m->dir, rel)) != 0)
    return r;
  return nn_write_file(path, data, len, mode, err);
}

static int dir_in(struct mk *m, const char *rel, mode_t mode, struct imc_err *err)
{
  char path[NN_PATH];
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/%s", m->dir, rel)) != 0)
    return r;
  if (mkdir(path, mode) != 0 && errno != EEXIST)
    return imc_fail(err, IMC_E_IO, "Netns: cannot create %s: %s", path, strerror(errno));
  return 0;
}

/* The host's name: the first label of net_interface.0.dns_name when it is a valid one. */
static void pick_hostname(struct mk *m)
{
  const char *dns = imc_features_str(m->feats, "net_interface.0.dns_name");
  size_t n = dns ? strcspn(dns, ".") : 0;

  snprintf(m->hostname, sizeof m->hostname, "%s", m->name);
  if (n == 0 || n >= sizeof m->hostname ||
      strspn(dns, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < n)
    return;
  memcpy(m->hostname, dns, n);
  m->hostname[n] = '\0';
}

/* One interface per net_interface.N.connection, on the bridge of that RADL network. */
static int plan_ifaces(struct mk *m, struct imc_err *err)
{
  char key[64];
  int r;

  snprintf(key, sizeof key, "net_interface.%u.connection", NN_MAX_IFACES);
  if (imc_features_get(m->feats, key))
    return imc_fail(err, IMC_E_INVAL, "Netns: a host has at most %u network interfaces",
                    NN_MAX_IFACES);

  for (unsigned i = 0; i < NN_MAX_IFACES; i++) {
    const struct imc_elem *net;
    const char *conn, *out;
    struct nn_iface *f = &m->ifs[m->nifs];

    snprintf(key, sizeof key, "net_interface.%u.connection", i);
    if (!(conn = imc_features_str(m->feats, key)))
      continue;
    if (!m->rq->doc || !(net = imc_doc_network(m->rq->doc, conn)))
      return imc_fail(err, IMC_E_INVAL, "Netns: network %s is not defined", conn);
    out = imc_features_str(&net->feats, "outbound");
    f->idx = i;
    if ((r = nn_net_ensure(m->c, m->rq->infra_id, conn, out && strcmp(out, "yes") == 0, &f->subnet,
                           err)) != 0 ||
        (r = nn_net_addr(m->c, f->subnet, &f->addr, err)) != 0)
      return r;
    m->nifs++;
    /* Recorded at once, so the next interface (and the next host) sees the address taken. */
    if ((r = nn_host_write_ifaces(m->c, m->name, m->ifs, m->nifs, err)) != 0)
      return r;
  }
  return 0;
}

int nn_host_write_ifaces(struct nn_ctx *c, const char *host, const struct nn_iface *ifs, size_t n,
                         struct imc_err *err)
{
  char path[NN_PATH], text[NN_MAX_IFACES * 48];
  size_t len = 0;
  int r;

  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%u %u %u\n", ifs[i].idx, ifs[i].subnet,
                            ifs[i].addr);
  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/ifaces", c->dir, host)) != 0)
    return r;
  return nn_write_file(path, text, len, 0644, err);
}

int nn_host_ifaces(struct nn_ctx *c, const char *host, struct nn_iface *ifs, size_t *n,
                   struct imc_err *err)
{
  char path[NN_PATH], text[NN_SMALL];
  int r;

  *n = 0;
  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/ifaces", c->dir, host)) != 0 ||
      (r = nn_read_file(path, text, sizeof text, err)) != 0)
    return r;
  for (char *p = text; *p && *n < NN_MAX_IFACES; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
    struct nn_iface f;

    if (sscanf(p, "%u %u %u", &f.idx, &f.subnet, &f.addr) == 3 && f.subnet < 256 && f.addr < 256)
      ifs[(*n)++] = f;
  }
  return 0;
}

/* losetup --find --show img: the loop device's path into dev. */
static int attach(const char *img, char *dev, size_t n, struct imc_err *err)
{
  const char *const argv[] = {"/usr/sbin/losetup", "--find", "--show", img, NULL};
  struct imc_buf out;
  int r;

  imc_buf_init(&out, 256);
  if ((r = nn_run(argv, NULL, &out, err)) == 0 && (imc_buf_err(&out) || out.len == 0))
    r = imc_fail(err, IMC_E_CLOUD, "Netns: losetup printed no device");
  if (r == 0)
    snprintf(dev, n, "%.*s", (int)strcspn(imc_buf_cstr(&out), "\n"), imc_buf_cstr(&out));
  imc_buf_free(&out);
  return r;
}

static int sparse_file(const char *img, double size, struct imc_err *err)
{
  int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r = 0;

  if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
    r = imc_fail(err, IMC_E_IO, "Netns: cannot create %s: %s", img, strerror(errno));
  if (fd >= 0)
    close(fd);
  return r;
}

/* disk.N.size (N >= 1): a sparse file and a loop device; "N /dev/loopK" lines in disks. */
static int make_disks(struct mk *m, struct imc_err *err)
{
  char key[64], img[NN_PATH], dev[64], disks[NN_SMALL] = "";
  size_t used = 0;
  double size;
  int r;

  snprintf(key, sizeof key, "disk.%u.size", NN_MAX_DISKS + 1);
  if (imc_features_get(m->feats, key))
    return imc_fail(err, IMC_E_INVAL, "Netns: a host has at most %u data disks", NN_MAX_DISKS);
  for (unsigned n = 1; n <= NN_MAX_DISKS; n++) {
    snprintf(key, sizeof key, "disk.%u.size", n);
    if (!imc_features_num(m->feats, key, "B", &size))
      continue;
    if (!(size >= 1 && size < 1e15))
      return imc_fail(err, IMC_E_INVAL, "Netns: %s is out of range", key);
    if ((r = nn_path(img, sizeof img, err, "%s/disk%u.img", m->dir, n)) ||
        (r = sparse_file(img, size, err)) || (r = attach(img, dev, sizeof dev, err)))
      return r;
    used += (size_t)snprintf(disks + used, sizeof disks - used, "%u %s\n", n, dev);
    if ((r = file_in(m, "disks", disks, used, 0644, err)) != 0)
      return r;
  }
  return 0;
}

/* Whether dev (/dev/loopK) is still backed by img. */
static bool attached(const char *dev, const char *img)
{
  char path[NN_PATH], backing[NN_PATH];

  if (strncmp(dev, "/dev/", 5) != 0 ||
      nn_path(path, sizeof path, NULL, "/sys/block/%s/loop/backing_file", dev + 5) ||
      nn_read_file(path, backing, sizeof backing, NULL))
    return false;
  backing[strcspn(backing, "\n")] = '\0';
  return strcmp(backing, img) == 0;
}

int nn_disks_restore(struct nn_ctx *c, const char *host, struct imc_err *err)
{
  char path[NN_PATH], text[NN_SMALL], disks[NN_SMALL], img[NN_PATH], dev[64];
  size_t used = 0;
  bool changed = false;
  int r;

  if ((r = nn_path(path, sizeof path, err, "%s/hosts/%s/disks", c->dir, host)) != 0 ||
      nn_read_file(path, text, sizeof text, NULL) != 0)
    return r;
  for (char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
    unsigned n;

    if (sscanf(p, "%u %63s", &n, dev) != 2)
      continue;
    if ((r = nn_path(img, sizeof img, err, "%s/hosts/%s/disk%u.img", c->dir, host, n)) != 0)
      return r;
    if (!attached(dev, img)) {
      if ((r = attach(img, dev, sizeof dev, err)) != 0)
        return r;
      changed = true;
    }
    used += (size_t)snprintf(disks + used, sizeof disks - used, "%u %s\n", n, dev);
  }
  return changed ? nn_write_file(path, disks, used, 0644, err) : 0;
}

/* The machine's other host keys are hidden by whiteouts (character devices 0/0 in the upper
 * layer), so the host shows only the key made for it: host keys are never shared. */
static int host_keys(struct mk *m, struct imc_err *err)
{
  char key[NN_PATH], path[NN_PATH];
  const char *const keygen[] = {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                m->hostname,           "-f", key,  NULL};
  DIR *d = opendir("/etc/ssh");
  struct dirent *de;
  int r = 0;

  while (d && r == 0 && (de = readdir(d)))
    if (strncmp(de->d_name, "ssh_host_", 9) == 0 &&
        (r = nn_path(path, sizeof path, err, "%s/upper/etc/ssh/%s", m->dir, de->d_name)) == 0 &&
        mknod(path, S_IFCHR | 0600, makedev(0, 0)) != 0 && errno != EEXIST)
      r = imc_fail(err, IMC_E_IO, "Netns: cannot hide %s: %s", de->d_name, strerror(errno));
  if (d)
    closedir(d);
  if (r || (r = nn_path(key, sizeof key, err, "%s/upper/etc/ssh/ssh_host_ed25519_key", m->dir)))
    return r;
  remove(key);
  if ((r = nn_path(path, sizeof path, err, "%s.pub", key)) != 0)
    return r;
  remove(path);
  return nn_run(keygen, NULL, NULL, err);
}

static int sshd_config(struct mk *m, bool password, struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, NN_SMALL);
  imc_buf_addf(&b, "# Written by imc's Netns backend for host %s.\nPort 22\n", m->name);
  for (size_t i = 0; i < m->nifs; i++)
    imc_buf_addf(&b, "ListenAddress " NN_SUBNET "%u.%u\n", m->ifs[i].subnet, m->ifs[i].addr);
  imc_buf_addf(&b,
               "HostKey /etc/ssh/ssh_host_ed25519_key\nPidFile /run/sshd.pid\nUsePAM no\n"
               "PermitRootLogin %s\nPasswordAuthentication %s\n"
               "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
               "AuthorizedKeysFile .ssh/authorized_keys\nUseDNS no\nPrintMotd no\n"
               "X11Forwarding no\nAcceptEnv LANG LC_*\n"
               "Subsystem sftp /usr/lib/openssh/sftp-server\n",
               password ? "yes" : "prohibit-password", password ? "yes" : "no");
  r = imc_buf_err(&b) ? imc_fail(err, IMC_E_TOOBIG, "Netns: sshd_config too long")
                      : file_in(m, "upper/etc/ssh/sshd_config", b.data, b.len, 0644, err);
  imc_buf_free(&b);
  return r;
}

static int etc_files(struct mk *m, struct imc_err *err)
{
  char hosts[NN_SMALL], line[128];
  size_t len;
  int r;

  len = (size_t)snprintf(hosts, sizeof hosts,
                         "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                         "ip6-loopback\n");
  for (size_t i = 0; i < m->nifs; i++)
    len += (size_t)snprintf(hosts + len, sizeof hosts - len, NN_SUBNET "%u.%u\t%s\n",
                            m->ifs[i].subnet, m->ifs[i].addr, m->hostname);
  snprintf(line, sizeof line, "%s\n", m->hostname);
  if ((r = file_in(m, "upper/etc/hostname", line, strlen(line), 0644, err)) ||
      (r = file_in(m, "upper/etc/hosts", hosts, len, 0644, err)))
    return r;
  /* Empty: a lookup must fail at once rather than wait for a DNS server it cannot reach. */
  return file_in(m, "upper/etc/resolv.conf", "", 0, 0644, err);
}

/* root's authorized keys: the infrastructure's key and the one the RADL gives. */
static int authorized_keys(struct mk *m, struct imc_err *err)
{
  const char *mine = imc_features_str(m->feats, "disk.0.os.credentials.public_key");
  struct imc_buf b;
  int r;

  imc_buf_init(&b, NN_MAX_KEYS);
  if (m->rq->public_key && *m->rq->public_key)
    imc_buf_addf(&b, "%s\n", m->rq->public_key);
  if (mine && *mine)
    imc_buf_addf(&b, "%s\n", mine);
  if ((r = imc_buf_err(&b)) != 0)
    r = r == IMC_E_NOMEM ? nomem(err) : imc_fail(err, IMC_E_TOOBIG, "Netns: keys too long");
  else if ((r = dir_in(m, "upper/root", 0700, err)) == 0 &&
           (r = dir_in(m, "upper/root/.ssh", 0700, err)) == 0)
    r = file_in(m, "upper/root/.ssh/authorized_keys", imc_buf_cstr(&b), b.len, 0600, err);
  imc_buf_free(&b);
  return r;
}

/* /root and /tmp start empty in each host (opaque directories of the upper layer): the
 * machine's root home (its SSH keys, its shell start-up files and their side effects) and its
 * temporary files are none of a host's business.  root gets Debian's default dot files. */
static int own_dirs(struct mk *m, struct imc_err *err)
{
  static const struct {
    const char *dir;
    mode_t mode;
  } fresh[] = {{"upper/root", 0700}, {"upper/tmp", 01777}};
  static const char *const dots[][2] = {{"/usr/share/base-files/dot.bashrc", ".bashrc"},
                                        {"/usr/share/base-files/dot.profile", ".profile"}};
  char path[NN_PATH], text[NN_SMALL];
  int r;

  for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) {
    if ((r = dir_in(m, fresh[i].dir, fresh[i].mode, err)) ||
        (r = nn_path(path, sizeof path, err, "%s/%s", m->dir, fresh[i].dir)))
      return r;
    if (chmod(path, fresh[i].mode) != 0 || setxattr(path, "trusted.overlay.opaque", "y", 1, 0))
      return imc_fail(err, IMC_E_IO, "Netns: cannot prepare %s: %s", path, strerror(errno));
  }
  for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
    if (nn_read_file(dots[i][0], text, sizeof text, NULL) != 0)
      continue;
    if ((r = nn_path(path, sizeof path, err, "upper/root/%s", dots[i][1])) ||
        (r = file_in(m, path, text, strlen(text), 0644, err)))
      return r;
  }
  return 0;
}

static int upper_layer(struct mk *m, bool password, struct imc_err *err)
{
  static const char *const dirs[] = {"upper", "work", "root", "upper/etc", "upper/etc/ssh"};
  int r;

  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if ((r = dir_in(m, dirs[i], 0755, err)) != 0)
      return r;
  if ((r = own_dirs(m, err)) || (r = etc_files(m, err)) || (r = host_keys(m, err)) ||
      (r = sshd_config(m, password, err)))
    return r;
  return authorized_keys(m, err);
}

/* chpasswd inside the host's mount namespace: only its upper layer's /etc/shadow changes.
 * The password travels on a pipe, never in argv or a file. */
static int set_password(struct mk *m, const char *password, struct imc_err *err)
{
  char path[NN_PATH], target[32];
  const char *const argv[] = {"/usr/bin/nsenter",   "--target", target, "--mount", "--",
                              "/usr/sbin/chpasswd", NULL};
  struct imc_buf in;
  pid_t pid;
  int r;

  if (strchr(password, '\n'))
    return imc_fail(err, IMC_E_INVAL, "Netns: a password cannot hold a newline");
  if ((r = nn_path(path, sizeof path, err, "%s/pid", m->dir)) != 0)
    return r;
  if (!nn_pid_file_alive(path, &pid))
    return imc_fail(err, IMC_E_CLOUD, "Netns: host %s stopped while booting", m->name);
  snprintf(target, sizeof target, "%d", (int)pid);
  imc_buf_init(&in, 4096);
  imc_buf_addf(&in, "root:%s\n", password);
  r = imc_buf_err(&in) ? imc_fail(err, IMC_E_TOOBIG, "Netns: the password is too long")
                       : nn_run(argv, imc_buf_cstr(&in), NULL, err);
  if (in.data)
    explicit_bzero(in.data, in.cap);
  imc_buf_free(&in);
  return r;
}

static int record(struct mk *m, struct imc_err *err)
{
  char path[NN_PATH], text[NN_SMALL];
  int k, r;

  if ((r = nn_path(path, sizeof path, err, "%s/creator", m->dir)) ||
      (r = nn_write_pid(path, getpid(), err)))
    return r;
  k = snprintf(text, sizeof text, "infra %s\nvm %u\nhostname %s\n", m->rq->infra_id, m->rq->vm_id,
               m->hostname);
  if (k < 0 || (size_t)k >= sizeof text)
    return imc_fail(err, IMC_E_INVAL, "Netns: the infrastructure id is too long");
  if ((r = file_in(m, "host", text, (size_t)k, 0644, err)) != 0)
    return r;
  /* The client token: find() looks for it after a crash between launch and its record. */
  return m->rq->client_token
           ? file_in(m, "token", m->rq->client_token, strlen(m->rq->client_token), 0600, err)
           : 0;
}

static int build(struct mk *m, struct imc_err *err)
{
  const char *password = imc_features_str(m->feats, "disk.0.os.credentials.password");
  int r;

  if ((r = plan_ifaces(m, err)) || (r = nn_net_plug(m->c, m->name, m->ifs, m->nifs, err)) ||
      (r = make_disks(m, err)) || (r = upper_layer(m, password && *password, err)) ||
      (r = nn_boot(m->c, m->name, err)))
    return r;
  if (password && *password && (r = set_password(m, password, err)) != 0)
    return r;
  return file_in(m, "complete", "", 0, 0644, err);
}

int nn_host_create(struct nn_ctx *c, const struct imc_launch *rq, struct imc_vm *vm,
                   struct imc_err *err)
{
  struct mk m = {.c = c, .rq = rq, .feats = &rq->system->feats};
  int r;

  if (!rq->infra_id || strchr(rq->infra_id, '\n'))
    return imc_fail(err, IMC_E_INVAL, "Netns: a launch needs an infrastructure id");
  if ((r = pick_name(&m, err)) != 0)
    return r;
  pick_hostname(&m);
  /* The name was free under the lock; failing here removes nothing (nothing is ours yet). */
  if (mkdir(m.dir, 0700) != 0)
    return imc_fail(err, IMC_E_IO, "Netns: cannot create %s: %s", m.dir, strerror(errno));
  if ((r = record(&m, err)) == 0 && (r = build(&m, err)) == 0) {
    if (imc_vm_set(&vm->instance_id, m.name))
      r = nomem(err);
    else
      r = nn_host_fill(c, m.name, vm, err);
  }
  if (r) {
    nn_host_destroy(c, m.name, NULL);
    nn_net_sweep(c, NULL);
  }
  return r;
}
