/* SPDX-License-Identifier: GPL-3.0-or-later */
/* im-client's ssh, sshvm, put(vm) and get(vm): OpenSSH's ssh or scp run against a VM with the
 * address and credentials its RADL holds, through a proxy host when the VM has no public
 * address (the network's proxy_host, else VM 0 as im-client does).  With show_only the
 * command is printed instead.  A password never goes on a command line, where other local
 * users could read it: sshpass gets it from its environment (-e), and the printed command
 * names SSHPASS instead of the password.  A private key goes to a 0600 file that is removed
 * when the command ends. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "ops_int.h"

#define MAX_ARGV 96

/* What a connection needs, read from a VM's RADL. */
struct target {
  const char *user, *password, *key;  /* borrowed from the document */
  const char *proxy_host, *proxy_key; /* the first network's that has one */
  char ip[64], private_ip[64];
  unsigned port;
  char proxy[512]; /* ProxyCommand=..., or "" */
  char key_file[64], proxy_key_file[96];
};

struct argv_list {
  char *v[MAX_ARGV + 1];
  size_t n;
  char store[8192]; /* the words built here (ports, user@host) */
  size_t used;
};

static void add(struct argv_list *a, const char *word)
{
  if (a->n < MAX_ARGV)
    a->v[a->n++] = (char *)word;
}

static void addf(struct argv_list *a, const char *fmt, ...) IMC_PRINTF(2, 3);
static void addf(struct argv_list *a, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(a->store + a->used, sizeof a->store - a->used, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof a->store - a->used) {
    add(a, a->store + a->used);
    a->used += (size_t)n + 1;
  }
}

static bool is_public(const struct imc_elem *net)
{
  const char *o = imc_features_str(&net->feats, "outbound");

  return o && strcmp(o, "yes") == 0;
}

/* The SSH port of a public network: the remote port of its outport to 22/tcp. */
static void ssh_port(const struct imc_elem *net, unsigned *port)
{
  const char *outports = imc_features_str(&net->feats, "outports");
  struct radl_outport *ports = NULL;
  struct imc_err err = {0};
  size_t n = 0;

  if (outports && radl_outports_parse(outports, &ports, &n, &err) == 0)
    for (size_t k = 0; k < n; k++)
      if (!ports[k].is_range && ports[k].port_end == 22 && ports[k].proto == RADL_PROTO_TCP)
        *port = ports[k].port_init;
  imc_free(ports);
}

/* Addresses, credentials, the SSH port and the proxy host of the VM's system. */
static void read_target(const struct imc_doc *doc, struct target *t)
{
  const struct imc_elem *sys = doc->systems[0];
  char name[64];

  t->port = 22;
  for (unsigned i = 0;; i++) {
    const char *conn, *ip;
    const struct imc_elem *net;

    snprintf(name, sizeof name, "net_interface.%u.connection", i);
    if (!(conn = imc_features_str(&sys->feats, name)))
      break;
    snprintf(name, sizeof name, "net_interface.%u.ip", i);
    ip = imc_features_str(&sys->feats, name);
    if (!(net = imc_doc_network(doc, conn)))
      continue;
    if (is_public(net)) {
      if (ip && !t->ip[0])
        snprintf(t->ip, sizeof t->ip, "%s", ip);
      ssh_port(net, &t->port);
    } else if (ip && !t->private_ip[0]) {
      snprintf(t->private_ip, sizeof t->private_ip, "%s", ip);
    }
    if (!t->proxy_host && (t->proxy_host = imc_features_str(&net->feats, "proxy_host")))
      t->proxy_key = imc_features_str(&net->feats, "proxy_key");
  }
  t->user = imc_features_str(&sys->feats, "disk.0.os.credentials.username");
  t->password = imc_features_str(&sys->feats, "disk.0.os.credentials.password");
  t->key = imc_features_str(&sys->feats, "disk.0.os.credentials.private_key");
}

/* Writes a private key to a new 0600 file; name receives its path. */
static int write_key(const char *key, char *name, size_t size, struct imc_err *err)
{
  const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int fd;
  size_t len = strlen(key);

  if ((size_t)snprintf(name, size, "%s/imc-key-XXXXXX", dir) >= size)
    return imc_fail(err, IMC_E_INVAL, "TMPDIR is too long");
  if ((fd = mkstemp(name)) < 0) /* mkstemp creates the file 0600 */
    return imc_fail(err, IMC_E_IO, "cannot create a key file in %s: %s", dir, strerror(errno));
  if (write(fd, key, len) != (ssize_t)len || close(fd) != 0) {
    unlink(name);
    name[0] = '\0';
    return imc_fail(err, IMC_E_IO, "cannot write the key file: %s", strerror(errno));
  }
  return 0;
}

/* user[:password]@host[:port] as IM writes proxy_host.  The proxy's host key is not checked,
 * as the VM's is not (im-client's behaviour), and not recorded in the user's known_hosts
 * either: hosts of different infrastructures reuse addresses, and a key recorded there for
 * one would make ssh refuse to forward for the next ("host key check failure"). */
static int proxy_command(struct target *t, const char *proxy_host, const char *proxy_key,
                         struct imc_err *err)
{
  char user[128] = "", host[256] = "";
  const char *at = strrchr(proxy_host, '@'), *hp = at ? at + 1 : proxy_host, *colon;
  unsigned port = 22;
  int r;

  if (at)
    snprintf(user, sizeof user, "%.*s", (int)strcspn(proxy_host, ":@"), proxy_host);
  colon = strchr(hp, ':');
  snprintf(host, sizeof host, "%.*s", (int)(colon ? (size_t)(colon - hp) : strlen(hp)), hp);
  if (colon)
    port = (unsigned)strtoul(colon + 1, NULL, 10);
  if (proxy_key) {
    if ((r = write_key(proxy_key, t->proxy_key_file, sizeof t->proxy_key_file, err)) != 0)
      return r;
    snprintf(t->proxy, sizeof t->proxy,
             "ProxyCommand=ssh -W %%h:%%p -i %s -p %u -o StrictHostKeyChecking=no "
             "-o UserKnownHostsFile=/dev/null %s%s%s",
             t->proxy_key_file, port, user, at ? "@" : "", host);
  } else { /* the proxy's password, if any, comes from SSHPASS as the VM's does */
    snprintf(t->proxy, sizeof t->proxy,
             "ProxyCommand=sshpass -e ssh -W %%h:%%p -p %u -o StrictHostKeyChecking=no "
             "-o UserKnownHostsFile=/dev/null %s%s%s",
             port, user, at ? "@" : "", host);
  }
  return 0;
}

/* OpenSSH's command for the target: ssh, or scp for put/get (files: orig, dest). */
static void build(const struct target *t, const char *tool, struct argv_list *a)
{
  bool scp = strcmp(tool, "scp") == 0;

  if (!t->key && t->password) {
    add(a, "sshpass");
    add(a, "-e");
  }
  add(a, tool);
  if (scp)
    add(a, "-r");
  add(a, scp ? "-P" : "-p");
  addf(a, "%u", t->port);
  if (t->key) {
    add(a, "-i");
    add(a, t->key_file);
  }
  add(a, "-o");
  add(a, "UserKnownHostsFile=/dev/null");
  add(a, "-o");
  add(a, "StrictHostKeyChecking=no");
  if (t->proxy[0]) {
    add(a, "-o");
    add(a, t->proxy);
  }
}

/* Prints the command as im-client does (words and a space each, the ProxyCommand quoted). */
static void show_command(const struct target *t, const struct argv_list *a)
{
  if (!t->key && t->password)
    fputs("SSHPASS=\"$SSHPASS\" ", stdout);
  for (size_t i = 0; i < a->n; i++)
    printf(strncmp(a->v[i], "ProxyCommand", 12) == 0 ? "'%s' " : "%s ", a->v[i]);
  fflush(stdout);
}

/* Runs the command with the password in SSHPASS; its exit status becomes ours. */
static int run_command(const struct target *t, struct argv_list *a, struct imc_err *err)
{
  pid_t pid;
  int status;

  fflush(stdout);
  if ((pid = fork()) < 0)
    return imc_fail(err, IMC_E_IO, "cannot start %s: %s", a->v[0], strerror(errno));
  if (pid == 0) {
    if (!t->key && t->password)
      setenv("SSHPASS", t->password, 1);
    a->v[a->n] = NULL;
    execvp(a->v[0], a->v);
    fprintf(stderr,
            "Error connecting to VM: %s: %s\nProbably 'sshpass' or 'ssh' programs are "
            "not installed!\n",
            a->v[0], strerror(errno));
    _exit(127);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  return imc_fail(err, IMC_E_IO, "%s ended with status %d", a->v[0],
                  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The VM's document; fails with im-client's "Error accessing VM". */
static int vm_doc(struct op_ctx *c, const char *id, unsigned vm, struct imc_doc **doc,
                  struct imc_err *err)
{
  struct imc_buf text;
  int r;

  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = c->b->vm_radl(c->b->ctx, id, vm, &text, err)) == 0)
    r = radl_parse(NULL, text.len ? text.data : "", text.len, NULL, doc, err);
  if (r == 0 && (*doc)->nsystems == 0)
    r = imc_fail(err, IMC_E_IO, "the VM's RADL has no system");
  imc_buf_free(&text);
  return r;
}

/* A private VM without a proxy host is reached through VM 0, as im-client does. */
static int via_master(struct op_ctx *c, const char *id, struct target *t, struct imc_err *err)
{
  struct imc_doc *master = NULL;
  struct target m = {0};
  char proxy[512];
  int r;

  if (op_chatty())
    printf("VM ID 0 does not has public IP, try to access via VM ID 0.\n");
  if ((r = vm_doc(c, id, 0, &master, err)) != 0)
    return r;
  read_target(master, &m);
  if (!m.password && !m.key)
    r = imc_fail(err, IMC_E_INVAL, "Error, no valid credentials in VM 0");
  else if ((size_t)snprintf(proxy, sizeof proxy, "%s@%s", m.user ? m.user : "root", m.ip) >=
           sizeof proxy)
    r = imc_fail(err, IMC_E_INVAL, "the proxy host is too long");
  else
    r = proxy_command(t, proxy, m.key, err);
  imc_doc_free(master);
  return r;
}

int op_ssh(struct op_ctx *c)
{
  const char *op = c->argv[0];
  bool on_vm = strcmp(op, "sshvm") == 0 || strcmp(op, "putvm") == 0 || strcmp(op, "getvm") == 0;
  bool copy = strncmp(op, "put", 3) == 0 || strncmp(op, "get", 3) == 0;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  struct target t = {0};
  struct argv_list a = {0};
  char id[IMC_INFRA_ID_MAX];
  unsigned vm = 0;
  int show = 0, first = on_vm ? 3 : 2, r;

  if (on_vm && (r = op_vm_id(c, 2, &vm)) != CLI_OK)
    return r;
  if ((r = op_infra_id(c, id, &err)) != 0 || (r = op_flag(c, first, "show_only", &show, &err)))
    return op_failed("Error accessing VM", &err);
  if ((r = vm_doc(c, id, vm, &doc, &err)) != 0)
    return op_failed("Error accessing VM", &err);
  read_target(doc, &t);
  if (!t.ip[0] && t.proxy_host)
    r = proxy_command(&t, t.proxy_host, t.proxy_key, &err);
  else if (!t.ip[0] && on_vm)
    r = via_master(c, id, &t, &err);
  if (r == 0 && !t.ip[0])
    snprintf(t.ip, sizeof t.ip, "%s", t.private_ip);
  if (r == 0 && !t.ip[0])
    r = imc_fail(&err, IMC_E_INVAL, "the VM has no IP address");
  if (r == 0 && t.key)
    r = write_key(t.key, t.key_file, sizeof t.key_file, &err);
  if (r == 0) {
    build(&t, copy ? "scp" : "ssh", &a);
    if (!copy) {
      addf(&a, "%s@%s", t.user ? t.user : "root", t.ip);
      for (int i = first + 1; i < c->argc; i++)
        add(&a, c->argv[i]);
    } else if (op[0] == 'p') { /* put ORIG DEST: local file to the VM */
      add(&a, c->argv[first + 1]);
      addf(&a, "%s@%s:%s", t.user ? t.user : "root", t.ip, c->argv[first + 2]);
    } else {
      addf(&a, "%s@%s:%s", t.user ? t.user : "root", t.ip, c->argv[first + 1]);
      add(&a, c->argv[first + 2]);
    }
    if (show)
      show_command(&t, &a);
    else
      r = run_command(&t, &a, &err);
  }
  if (t.key_file[0] && !show)
    unlink(t.key_file);
  if (t.proxy_key_file[0] && !show)
    unlink(t.proxy_key_file);
  imc_doc_free(doc);
  return r ? op_failed("Error connecting to VM", &err) : CLI_OK;
}
