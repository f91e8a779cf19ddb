/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The nodes of a run, from what the engine says of the infrastructure and of each VM: the
 * system it was deployed from, its IPs (public: on an `outbound = 'yes'` network), the SSH port
 * (IM's getSSHPort: an outports item N-22 on that network), its name (net_interface.0.dns_name
 * with #N#, default vnode-#N#.localdomain), credentials, the network's proxy_host/proxy_key for
 * a VM with no public IP (else another VM of the infrastructure on that network with a public
 * IP, as IM goes through its master VM), and data disks (disk.N.device + fstype + mount_path). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctxt_job.h"
#include "imc/alloc.h"
#include "imc/radl.h"

#define CTXT_IP_PAUSE_S 5

char *ctxt_job_own(struct job *j, char *s)
{
  if (!s || imc_grow((void **)&j->owned, &j->cap_owned, j->nowned + 1, sizeof *j->owned)) {
    imc_free_secret(s);
    return NULL;
  }
  j->owned[j->nowned++] = s;
  return s;
}

char *ctxt_job_own_printf(struct job *j, const char *fmt, ...)
{
  struct imc_buf b;
  va_list ap;

  imc_buf_init(&b, 64 * 1024);
  va_start(ap, fmt);
  imc_buf_vaddf(&b, fmt, ap);
  va_end(ap);
  if (imc_buf_err(&b)) {
    imc_buf_free(&b);
    return NULL;
  }
  return ctxt_job_own(j, imc_buf_take(&b, NULL));
}

int ctxt_write_file(const char *dir, const char *name, const char *text, mode_t mode,
                    struct imc_err *err)
{
  char path[4400];
  size_t len = strlen(text), off = 0;
  int fd;

  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
    return imc_fail(err, IMC_E_INVAL, "path too long: %s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return imc_fail(err, IMC_E_IO, "cannot write %s: %s", path, strerror(errno));
  while (off < len) {
    ssize_t w = write(fd, text + off, len - off);

    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      close(fd);
      return imc_fail(err, IMC_E_IO, "cannot write %s: %s", path, strerror(errno));
    }
    off += (size_t)w;
  }
  if (close(fd) != 0)
    return imc_fail(err, IMC_E_IO, "cannot write %s: %s", path, strerror(errno));
  return 0;
}

int ctxt_write_buf(const char *dir, const char *name, struct imc_buf *b, mode_t mode,
                     struct imc_err *err)
{
  int r = ctxt_write_file(dir, name, imc_buf_cstr(b), mode, err);

  imc_buf_free(b);
  return r;
}

/* --- nodes from the engine ------------------------------------------------------------ */

static const struct imc_elem *vm_system(const struct imc_doc *info)
{
  return info->nsystems ? info->systems[info->nsystems - 1] : NULL;
}

/* The string feature PREFIX.I.SUFFIX of s. */
static const char *feat(const struct imc_elem *s, const char *prefix, unsigned i,
                        const char *suffix)
{
  char name[128];

  snprintf(name, sizeof name, "%s.%u.%s", prefix, i, suffix);
  return imc_features_str(&s->feats, name);
}

static bool net_public(const struct imc_doc *info, const char *net)
{
  const struct imc_elem *n = net ? imc_doc_network(info, net) : NULL;
  const char *o = n ? imc_features_str(&n->feats, "outbound") : NULL;

  return o && strcmp(o, "yes") == 0;
}

/* IM's getSSHPort: a public network's outports item that maps a port to 22/tcp. */
static int ssh_port(const struct imc_elem *net)
{
  const char *text = net ? imc_features_str(&net->feats, "outports") : NULL;
  struct radl_outport *ports = NULL;
  size_t n = 0;
  int port = 22;

  if (!text || radl_outports_parse(text, &ports, &n, NULL) != 0)
    return port;
  for (size_t i = 0; i < n; i++) {
    if (!ports[i].is_range && ports[i].proto == RADL_PROTO_TCP && ports[i].port_end == 22)
      port = (int)ports[i].port_init;
  }
  imc_free(ports);
  return port;
}

/* IPs, hostname and proxy of node i from its system's net_interface.N features. */
/* dns (its #N# replaced by the VM id) split into host and domain ("localdomain" when it
 * has no dot). */
static int dns_name(struct job *j, const char *dns, unsigned vmid, const char **host,
                    const char **domain)
{
  struct imc_buf h;
  char *name, *dot;

  imc_buf_init(&h, 1024);
  for (const char *p = dns; *p; p++) {
    if (strncmp(p, "#N#", 3) == 0) {
      imc_buf_addf(&h, "%u", vmid);
      p += 2;
    } else {
      imc_buf_addc(&h, *p);
    }
  }
  if (imc_buf_err(&h) || !(name = ctxt_job_own(j, imc_buf_take(&h, NULL)))) {
    imc_buf_free(&h);
    return IMC_E_NOMEM;
  }
  *host = name;
  *domain = "localdomain";
  if ((dot = strchr(name, '.')) != NULL) {
    *dot = '\0';
    *domain = dot + 1;
  }
  return 0;
}

/* IPs, names, SSH port of node i from its system's net_interface.N features; *proxied when
 * it can only be reached through its private network's proxy_host. */
static int node_net(struct job *j, size_t i, const struct imc_elem *s, bool *proxied,
                    struct imc_err *err)
{
  const struct imc_doc *info = j->infos[i];
  struct ctxt_node *n = &j->nodes[i];
  const struct imc_elem *private_net = NULL;
  unsigned count = 0;

  while (feat(s, "net_interface", count, "connection"))
    count++;
  if (count && !(j->ifaces[i] = imc_calloc(count, sizeof *j->ifaces[i])))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (unsigned k = 0; k < count; k++) {
    const char *ip = feat(s, "net_interface", k, "ip");
    const char *net = feat(s, "net_interface", k, "connection");
    const char *dns = feat(s, "net_interface", k, "dns_name");
    struct ctxt_iface *f = &j->ifaces[i][k];

    f->ip = ip;
    if ((dns || k == 0) &&
        dns_name(j, dns ? dns : "vnode-#N#", n->vmid, &f->hostname, &f->domain) != 0)
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if (!ip)
      continue;
    if (net_public(info, net) && !n->public_ip) {
      n->public_ip = ip;
      n->port = ssh_port(imc_doc_network(info, net));
    } else if (!net_public(info, net) && !n->private_ip) {
      n->private_ip = ip;
      private_net = imc_doc_network(info, net);
    }
  }
  n->ifaces = j->ifaces[i];
  n->nifaces = count;
  n->address = n->public_ip ? n->public_ip : n->private_ip;
  if (!n->address)
    return imc_fail(err, IMC_E_NOTFOUND, "VM %u has no IP address yet", n->vmid);
  n->hostname = j->ifaces[i][0].hostname;
  n->domain = j->ifaces[i][0].domain;
  *proxied = !n->public_ip && private_net && imc_features_str(&private_net->feats, "proxy_host");
  return 0;
}

static int key_file(struct job *j, const char *name, const char *key, const char **out,
                    struct imc_err *err)
{
  char path[4400];
  int r;

  snprintf(path, sizeof path, "%s/keys/%s", j->dir, name);
  if ((r = ctxt_write_file(j->dir, path + strlen(j->dir) + 1, key, 0600, err)) != 0)
    return r;
  if (!(*out = ctxt_job_own(j, imc_strdup(path))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  return 0;
}

/* The bastion of node i: proxy_host (and proxy_key) of the first private network of its
 * system that has one. */
static int node_proxy(struct job *j, size_t i, const struct imc_elem *s, struct imc_err *err)
{
  const struct imc_doc *info = j->infos[i];
  struct ctxt_node *n = &j->nodes[i];
  const struct imc_elem *net = NULL;
  struct ssh_proxy sp;
  struct ctxt_proxy *p = &j->proxies[i];
  char name[64];
  const char *pk;
  int r;

  for (unsigned k = 0; !net && feat(s, "net_interface", k, "connection"); k++) {
    const char *id = feat(s, "net_interface", k, "connection");
    const struct imc_elem *cand = imc_doc_network(info, id);

    if (cand && !net_public(info, id) && imc_features_str(&cand->feats, "proxy_host"))
      net = cand;
  }
  if (!net)
    return imc_fail(err, IMC_E_INTERNAL, "VM %u: no network with a proxy_host", n->vmid);
  if ((r = ssh_proxy_parse(imc_features_str(&net->feats, "proxy_host"), &sp, err)) != 0)
    return r;
  p->port = sp.port;
  p->host = ctxt_job_own(j, sp.host);
  p->user = ctxt_job_own(j, sp.user ? sp.user : imc_strdup("root"));
  sp.host = sp.user = NULL;
  if (!p->host || !p->user) {
    ssh_proxy_cleanup(&sp);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  snprintf(name, sizeof name, "proxy%u", n->vmid);
  if ((pk = imc_features_str(&net->feats, "proxy_key")) != NULL)
    r = key_file(j, name, pk, &p->key_file, err);
  if (!r && sp.password) {
    snprintf(name, sizeof name, "proxy%u.pass", n->vmid);
    r = key_file(j, name, sp.password, &p->password_file, err);
  }
  ssh_proxy_cleanup(&sp);
  n->proxy = p;
  return r;
}

/* True when the system of a VM (info: its GetVMInfo document) has an interface on net. */
static bool on_network(const struct imc_doc *info, const char *net)
{
  const struct imc_elem *s = vm_system(info);

  for (unsigned x = 0; s && feat(s, "net_interface", x, "connection"); x++) {
    if (strcmp(feat(s, "net_interface", x, "connection"), net) == 0)
      return true;
  }
  return false;
}

ssize_t ctxt_bastion_pick(const struct imc_doc *const *infos, const struct ctxt_node *nodes,
                          size_t n, size_t i)
{
  const struct imc_elem *s = vm_system(infos[i]);
  ssize_t best = -1;

  if (!s || nodes[i].public_ip)
    return -1;
  for (unsigned x = 0; feat(s, "net_interface", x, "connection"); x++) {
    const char *net = feat(s, "net_interface", x, "connection");

    if (net_public(infos[i], net))
      continue;
    for (size_t k = 0; k < n; k++) {
      if (k == i || !nodes[k].public_ip || !on_network(infos[k], net))
        continue;
      if (best < 0 || nodes[k].vmid < nodes[best].vmid)
        best = (ssize_t)k;
    }
  }
  return best;
}

/* Node i, with no public IP and no proxy_host, goes through node b (IM's master VM does the
 * same): b's public IP and SSH port, logging in with b's own credentials. */
static int node_bastion(struct job *j, size_t i, size_t b, struct imc_err *err)
{
  const struct ctxt_node *bn = &j->nodes[b];
  struct ctxt_proxy *p = &j->proxies[i];
  char name[64];
  int r;

  *p = (struct ctxt_proxy){
    .host = bn->public_ip, .user = bn->user, .port = bn->port, .key_file = bn->key_file};
  if (!bn->key_file && bn->password) {
    snprintf(name, sizeof name, "bastion%u.pass", j->nodes[i].vmid);
    if ((r = key_file(j, name, bn->password, &p->password_file, err)) != 0)
      return r;
  }
  j->nodes[i].proxy = p;
  return 0;
}

/* Gives each VM that has no public IP and no proxy_host a bastion, when another VM has a public
 * IP and an interface on one of its private networks (the lowest VM id first). */
static int node_bastions(struct job *j, struct imc_err *err)
{
  for (size_t i = 0; i < j->n; i++) {
    ssize_t b;
    int r;

    if (j->nodes[i].proxy || j->nodes[i].public_ip)
      continue;
    if ((b = ctxt_bastion_pick((const struct imc_doc *const *)j->infos, j->nodes, j->n, i)) < 0)
      continue;
    if ((r = node_bastion(j, i, (size_t)b, err)) != 0)
      return r;
    if (j->target[i]) {
      char line[256];

      snprintf(line, sizeof line, "VM %u has no public IP: it is reached through VM %u (%s).\n",
               j->nodes[i].vmid, j->nodes[b].vmid, j->nodes[b].public_ip);
      imc_engine_ctxt_log(j->run->e, j->run->id, -1, line, NULL);
    }
  }
  return 0;
}

/* True when fs has a feature whose name starts with prefix (disk.N.*). */
static bool has_prefix(const struct imc_features *fs, const char *prefix)
{
  for (size_t i = 0; i < fs->nprops; i++) {
    if (fs->props[i].name && strncmp(fs->props[i].name, prefix, strlen(prefix)) == 0)
      return true;
  }
  return false;
}

static int node_disks(struct job *j, size_t i, const struct imc_elem *s, struct imc_err *err)
{
  struct ctxt_node *n = &j->nodes[i];
  size_t cnt = 0;

  for (unsigned k = 1;; k++) {
    char name[64];

    snprintf(name, sizeof name, "disk.%u.", k);
    if (!has_prefix(&s->feats, name))
      break;
    cnt++;
  }
  if (!cnt)
    return 0;
  if (!(j->disks[i] = imc_calloc(cnt, sizeof *j->disks[i])))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (unsigned k = 1; k <= cnt; k++) {
    const char *dev = feat(s, "disk", k, "device"), *fs = feat(s, "disk", k, "fstype");
    const char *mp = feat(s, "disk", k, "mount_path");

    if (dev && fs && (mp || strcmp(fs, "swap") == 0)) {
      if (dev[0] != '/' && !(dev = ctxt_job_own_printf(j, "/dev/%s", dev)))
        return imc_fail(err, IMC_E_NOMEM, "out of memory");
      j->disks[i][n->ndisks++] =
        (struct ctxt_disk){.n = k, .device = dev, .fstype = fs, .mount_path = mp ? mp : "none"};
    }
  }
  n->disks = j->disks[i];
  return 0;
}

/* Fills node i from the VM's document (GetVMInfo). */
static int node_build(struct job *j, size_t i, unsigned vmid, unsigned num, struct imc_err *err)
{
  const struct imc_elem *s = vm_system(j->infos[i]);
  struct ctxt_node *n = &j->nodes[i];
  const char *key, *pw;
  char name[64];
  bool proxied = false;
  int r;

  if (!s)
    return imc_fail(err, IMC_E_INVAL, "VM %u has no system", vmid);
  n->vmid = vmid;
  n->num = num;
  n->system = s->id;
  n->cloud_type = imc_features_str(&s->feats, "provider.type");
  n->user = imc_features_str(&s->feats, "disk.0.os.credentials.username");
  key = imc_features_str(&s->feats, "disk.0.os.credentials.private_key");
  pw = imc_features_str(&s->feats, "disk.0.os.credentials.password");
  n->new_password = imc_features_str(&s->feats, "disk.0.os.credentials.new.password");
  n->new_public_key = imc_features_str(&s->feats, "disk.0.os.credentials.new.public_key");
  if (!n->user)
    return imc_fail(err, IMC_E_INVAL, "VM %u has no disk.0.os.credentials.username", vmid);
  if ((r = node_net(j, i, s, &proxied, err)) != 0 ||
      (proxied && (r = node_proxy(j, i, s, err)) != 0) || (r = node_disks(j, i, s, err)) != 0)
    return r;
  if (key) {
    snprintf(name, sizeof name, "vm%u", vmid);
    if ((r = key_file(j, name, key, &n->key_file, err)) != 0)
      return r;
  } else {
    n->password = pw;
  }
  return 0;
}

/* Inventory names: the FQDN, with the VM id added when two VMs share it. */
static int node_names(struct job *j, struct imc_err *err)
{
  for (size_t i = 0; i < j->n; i++) {
    struct ctxt_node *n = &j->nodes[i];
    bool dup = false;

    for (size_t k = 0; k < j->n; k++) {
      dup |= k != i && strcmp(j->nodes[k].hostname, n->hostname) == 0 &&
             strcmp(j->nodes[k].domain, n->domain) == 0;
    }
    n->name = dup ? ctxt_job_own_printf(j, "%s.%s_%u", n->hostname, n->domain, n->vmid)
                  : ctxt_job_own_printf(j, "%s.%s", n->hostname, n->domain);
    if (!n->name)
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  return 0;
}

bool ctxt_job_asked(const struct run *run, unsigned vm)
{
  for (size_t i = 0; i < run->nvms; i++) {
    if (run->vms[i] == vm)
      return true;
  }
  return run->nvms == 0;
}

static unsigned num_in_system(const struct job *j, size_t i)
{
  unsigned num = 0;

  for (size_t k = 0; k < i; k++)
    num += strcmp(j->nodes[k].system, j->nodes[i].system) == 0;
  return num;
}

/* Reads VM vmid into node i, waiting (WAIT_RUNNING_VM_TIMEOUT at most) while it has no IP:
 * clouds report addresses some time after a VM runs. */
static int node_read(struct job *j, size_t i, unsigned vmid, struct imc_err *err)
{
  struct run *run = j->run;
  double until = ctxt_now() + (double)run->c->cfg->wait_running_vm_timeout;
  struct imc_err e;
  int r;

  for (;;) {
    bool no_ip;

    imc_err_clear(&e);
    if ((r = imc_vm_info(run->e, run->id, vmid, &run->auth, &j->infos[i], &e)) == 0)
      r = node_build(j, i, vmid, 0, &e);
    no_ip = r == IMC_E_NOTFOUND && j->infos[i];
    if (!no_ip || ctxt_now() >= until || atomic_load(&run->c->stop))
      break;
    imc_doc_free(j->infos[i]);
    imc_free(j->disks[i]);
    imc_free(j->ifaces[i]);
    j->infos[i] = NULL;
    j->disks[i] = NULL;
    j->ifaces[i] = NULL;
    memset(&j->nodes[i], 0, sizeof j->nodes[i]);
    ctxt_job_pause(j, CTXT_IP_PAUSE_S);
  }
  /* node_build's messages name the VM already; the engine's do not. */
  if (r && j->infos[i])
    return imc_fail(err, r, "%s", e.msg);
  if (r)
    return imc_fail(err, r, "VM %u: %s", vmid, e.msg);
  return 0;
}

int ctxt_job_nodes(struct job *j, struct imc_err *err)
{
  struct run *run = j->run;
  struct imc_vm_ids ids = {0};
  int r;

  if ((r = imc_infra_radl(run->e, run->id, &run->auth, &j->doc, err)) != 0 ||
      (r = imc_infra_info(run->e, run->id, &run->auth, &ids, err)) != 0)
    return r;
  j->n = ids.n;
  if (!(j->infos = imc_calloc(ids.n + 1, sizeof *j->infos)) ||
      !(j->nodes = imc_calloc(ids.n + 1, sizeof *j->nodes)) ||
      !(j->proxies = imc_calloc(ids.n + 1, sizeof *j->proxies)) ||
      !(j->vmids = imc_calloc(ids.n + 1, sizeof *j->vmids)) ||
      !(j->disks = imc_calloc(ids.n + 1, sizeof *j->disks)) ||
      !(j->ifaces = imc_calloc(ids.n + 1, sizeof *j->ifaces)) ||
      !(j->target = imc_calloc(ids.n + 1, sizeof *j->target)) ||
      !(j->ok = imc_calloc(ids.n + 1, sizeof *j->ok)) ||
      !(j->bad = imc_calloc(ids.n + 1, sizeof *j->bad)) ||
      !(j->header_sent = imc_calloc(ids.n + 1, sizeof *j->header_sent)) ||
      !(j->stopper = imc_calloc(ids.n + 1, sizeof *j->stopper)) ||
      !(j->part_of = imc_calloc(ids.n + 1, sizeof *j->part_of)) ||
      !(j->logs = imc_calloc(ids.n + 1, sizeof *j->logs))) {
    imc_vm_ids_free(&ids);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < ids.n; i++) {
    imc_buf_init(&j->logs[i], CTXR_MAX_LOG);
    j->vmids[i] = ids.v[i];
  }
  for (size_t i = 0; i < ids.n && !r; i++) {
    r = node_read(j, i, ids.v[i], err);
    j->target[i] = !r && ctxt_job_asked(run, ids.v[i]);
  }
  for (size_t i = 0; i < ids.n && !r; i++)
    j->nodes[i].num = num_in_system(j, i);
  imc_vm_ids_free(&ids);
  return r ? r : (r = node_bastions(j, err)) ? r : node_names(j, err);
}
