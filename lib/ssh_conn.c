/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A small libssh client: connect with a host key check against the infrastructure's own
 * known_hosts file, authenticate with a key held in memory or a password, run a command.
 *
 * A bastion (IM's network proxy_host) is crossed without a shell: the bastion's session opens
 * a direct-tcpip channel to the VM, a thread copies bytes between that channel and one end of
 * a socket pair, and the VM's session runs over the other end (libssh 0.10 has no ProxyJump;
 * its ProxyCommand would go through /bin/sh). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "ctxt_int.h"
#include "imc/alloc.h"

#define SSH_DEFAULT_TIMEOUT 30
#define SSH_PUMP_CHUNK      16384
#define SSH_PUMP_POLL_MS    20

struct ssh_conn {
  ssh_session s;
  int timeout;
  /* Bastion crossing, when there is one. */
  struct ssh_conn *proxy;
  ssh_channel tunnel;
  int sock; /* our end of the socket pair */
  pthread_t pump;
  bool pumping;
  atomic_bool stop;
};

static int port_of(const struct ssh_target *t)
{
  return t->port > 0 ? t->port : 22;
}

static int timeout_of(const struct ssh_target *t)
{
  return t->timeout > 0 ? t->timeout : SSH_DEFAULT_TIMEOUT;
}

/* Copies bytes both ways until either side closes or the connection is closed. */
static void *pump_main(void *arg)
{
  struct ssh_conn *c = arg;
  char buf[SSH_PUMP_CHUNK];

  while (!atomic_load(&c->stop)) {
    struct pollfd p = {.fd = c->sock, .events = POLLIN};
    int n = poll(&p, 1, SSH_PUMP_POLL_MS);

    if (n > 0) {
      ssize_t got = read(c->sock, buf, sizeof buf);

      if (got <= 0 || ssh_channel_write(c->tunnel, buf, (uint32_t)got) != got)
        break;
    }
    n = ssh_channel_read_nonblocking(c->tunnel, buf, sizeof buf, 0);
    if (n == SSH_ERROR || (n == 0 && ssh_channel_is_eof(c->tunnel)))
      break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c->sock, buf + off, (size_t)(n - off));

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        goto out;
      off += w;
    }
  }
out:
  shutdown(c->sock, SHUT_RDWR);
  return NULL;
}

static int tunnel_open(struct ssh_conn *c, const struct ssh_target *t, int *fd, struct imc_err *err)
{
  int sv[2];
  int r;

  if ((r = ssh_conn_open(t->proxy, &c->proxy, err)) != 0)
    return imc_err_prefix(err, "SSH proxy %s: ", t->proxy->host);
  if (!(c->tunnel = ssh_channel_new(c->proxy->s)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (ssh_channel_open_forward(c->tunnel, t->host, port_of(t), "127.0.0.1", 22) != SSH_OK)
    return imc_fail(err, IMC_E_IO, "SSH proxy %s cannot reach %s:%d: %s", t->proxy->host, t->host,
                    port_of(t), ssh_get_error(c->proxy->s));
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return imc_fail(err, IMC_E_IO, "socketpair: %s", strerror(errno));
  c->sock = sv[0];
  if (pthread_create(&c->pump, NULL, pump_main, c) != 0) {
    close(sv[1]);
    return imc_fail(err, IMC_E_IO, "cannot start the SSH proxy thread");
  }
  c->pumping = true;
  *fd = sv[1];
  return 0;
}

/* Known-hosts check: record at first contact, refuse a changed key.  Callers on several threads
 * share one known_hosts file (the contextualizer's SSH waiters): the look and the record are
 * one step under known_hosts_mu, so a bastion two waiters meet first is recorded once. */
static pthread_mutex_t known_hosts_mu = PTHREAD_MUTEX_INITIALIZER;

static int host_key_check_locked(struct ssh_conn *c, const struct ssh_target *t,
                                 struct imc_err *err)
{
  switch (ssh_session_is_known_server(c->s)) {
  case SSH_KNOWN_HOSTS_OK:
    return 0;
  case SSH_KNOWN_HOSTS_NOT_FOUND:
  case SSH_KNOWN_HOSTS_UNKNOWN:
    if (ssh_session_update_known_hosts(c->s) != SSH_OK)
      return imc_fail(err, IMC_E_IO, "cannot record the host key of %s:%d in %s", t->host,
                      port_of(t), t->known_hosts);
    return 0;
  case SSH_KNOWN_HOSTS_CHANGED:
    return imc_fail(err, IMC_E_AUTH,
                    "the host key of %s:%d has changed since it was recorded in %s: refusing "
                    "to connect",
                    t->host, port_of(t), t->known_hosts);
  case SSH_KNOWN_HOSTS_OTHER:
    return imc_fail(err, IMC_E_AUTH,
                    "%s:%d offers a host key of another type than the one recorded in %s: "
                    "refusing to connect",
                    t->host, port_of(t), t->known_hosts);
  default:
    return imc_fail(err, IMC_E_IO, "cannot check the host key of %s:%d: %s", t->host, port_of(t),
                    ssh_get_error(c->s));
  }
}

static int host_key_check(struct ssh_conn *c, const struct ssh_target *t, struct imc_err *err)
{
  int r;

  pthread_mutex_lock(&known_hosts_mu);
  r = host_key_check_locked(c, t, err);
  pthread_mutex_unlock(&known_hosts_mu);
  return r;
}

static int authenticate(struct ssh_conn *c, const struct ssh_target *t, struct imc_err *err)
{
  if (t->key) {
    ssh_key key = NULL;
    int rc;

    if (ssh_pki_import_privkey_base64(t->key, NULL, NULL, NULL, &key) != SSH_OK)
      return imc_fail(err, IMC_E_AUTH, "the private key for %s@%s cannot be read", t->user,
                      t->host);
    rc = ssh_userauth_publickey(c->s, NULL, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_SUCCESS)
      return 0;
  }
  if (t->password && ssh_userauth_password(c->s, NULL, t->password) == SSH_AUTH_SUCCESS)
    return 0;
  return imc_fail(err, IMC_E_AUTH, "%s:%d refused the credentials of user %s", t->host, port_of(t),
                  t->user);
}

static int session_setup(struct ssh_conn *c, const struct ssh_target *t, int fd,
                         struct imc_err *err)
{
  long secs = timeout_of(t);
  int port = port_of(t), no = 0;

  if (!(c->s = ssh_new()))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  /* No ~/.ssh/config, no ~/.ssh/known_hosts: only what the infrastructure says. */
  if (ssh_options_set(c->s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
      ssh_options_set(c->s, SSH_OPTIONS_HOST, t->host) != 0 ||
      ssh_options_set(c->s, SSH_OPTIONS_PORT, &port) != 0 ||
      ssh_options_set(c->s, SSH_OPTIONS_USER, t->user) != 0 ||
      ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &secs) != 0 ||
      ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts) != 0 ||
      ssh_options_set(c->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
      (fd >= 0 && ssh_options_set(c->s, SSH_OPTIONS_FD, &fd) != 0))
    return imc_fail(err, IMC_E_INVAL, "bad SSH options for %s:%d", t->host, port);
  return 0;
}

int ssh_conn_open(const struct ssh_target *t, struct ssh_conn **out, struct imc_err *err)
{
  struct ssh_conn *c;
  int fd = -1, r;

  *out = NULL;
  if (!t->host || !t->user || !t->known_hosts)
    return imc_fail(err, IMC_E_INVAL, "an SSH target needs a host, a user and a known_hosts file");
  if (!(c = imc_calloc(1, sizeof *c)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  c->sock = -1;
  c->timeout = timeout_of(t);
  atomic_init(&c->stop, false);
  if (t->proxy && (r = tunnel_open(c, t, &fd, err)) != 0)
    goto out;
  if ((r = session_setup(c, t, fd, err)) != 0)
    goto out;
  fd = -1; /* the session owns it now */
  if (ssh_connect(c->s) != SSH_OK) {
    r = imc_fail(err, IMC_E_IO, "cannot connect to %s:%d: %s", t->host, port_of(t),
                 ssh_get_error(c->s));
    if (err)
      err->retry = true;
    goto out;
  }
  if ((r = host_key_check(c, t, err)) != 0 || (r = authenticate(c, t, err)) != 0)
    goto out;
  *out = c;
  c = NULL;
out:
  if (fd >= 0)
    close(fd);
  ssh_conn_close(c);
  return r;
}

void ssh_conn_close(struct ssh_conn *c)
{
  if (!c)
    return;
  if (c->s) {
    ssh_disconnect(c->s);
    ssh_free(c->s);
  }
  if (c->pumping) {
    atomic_store(&c->stop, true);
    pthread_join(c->pump, NULL);
  }
  if (c->sock >= 0)
    close(c->sock);
  if (c->tunnel) {
    ssh_channel_close(c->tunnel);
    ssh_channel_free(c->tunnel);
  }
  ssh_conn_close(c->proxy);
  imc_free(c);
}

/* Reads stdout and stderr of ch, as they come, to the end of both (libssh says EOF only once
 * both buffers are empty), handing each piece to x->output or keeping what fits in x->out. */
static int read_streams(ssh_channel ch, const struct ssh_exec *x, double until,
                        struct imc_err *err)
{
  char buf[4096];

  for (;;) {
    int got = 0;

    for (int is_stderr = 0; is_stderr < 2; is_stderr++) {
      int n = ssh_channel_read_nonblocking(ch, buf, sizeof buf, is_stderr);

      if (n == SSH_ERROR)
        return imc_fail(err, IMC_E_IO, "SSH read failed");
      if (n > 0 && x->output)
        x->output(x->ctx, buf, (size_t)n);
      else if (n > 0 && x->out)
        imc_buf_add(x->out, buf, (size_t)n);
      got += n > 0;
    }
    if (got)
      continue;
    if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
      return 0;
    if (x->cancel && atomic_load(x->cancel))
      return imc_fail(err, IMC_E_TIMEOUT, "stopped");
    if (ctxt_now() >= until)
      return imc_fail(err, IMC_E_TIMEOUT, "the command did not finish in time");
    /* Waits a little for more (on stdout; stderr data is seen on the next turn). */
    if (ssh_channel_poll_timeout(ch, 100, 0) == SSH_ERROR)
      return imc_fail(err, IMC_E_IO, "SSH read failed");
  }
}

/* Sends x->input to the command's standard input, then its end. */
static int send_input(ssh_channel ch, const struct ssh_exec *x, struct imc_err *err)
{
  for (size_t off = 0; off < x->input_len;) {
    size_t chunk = x->input_len - off > 32768 ? 32768 : x->input_len - off;
    int w = ssh_channel_write(ch, x->input + off, (uint32_t)chunk);

    if (w <= 0)
      return imc_fail(err, IMC_E_IO, "cannot send the command's input over SSH");
    off += (size_t)w;
  }
  ssh_channel_send_eof(ch);
  return 0;
}

int ssh_conn_run(struct ssh_conn *c, const struct ssh_exec *x, int *status, struct imc_err *err)
{
  ssh_channel ch = ssh_channel_new(c->s);
  double until = x->deadline > 0 ? x->deadline : ctxt_now() + c->timeout;
  int r;

  *status = -1;
  if (!ch)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, x->cmd) != SSH_OK) {
    r = imc_fail(err, IMC_E_IO, "cannot run a command over SSH: %s", ssh_get_error(c->s));
    goto out;
  }
  if ((r = send_input(ch, x, err)) != 0 || (r = read_streams(ch, x, until, err)) != 0)
    goto out;
  ssh_channel_send_eof(ch);
  *status = ssh_channel_get_exit_status(ch);
  if (x->out && imc_buf_err(x->out))
    r = imc_fail(err, imc_buf_err(x->out), "the command's output is too long");
out:
  ssh_channel_close(ch);
  ssh_channel_free(ch);
  return r;
}

int ssh_conn_exec(struct ssh_conn *c, const char *cmd, int *status, struct imc_buf *out,
                  struct imc_err *err)
{
  const struct ssh_exec x = {.cmd = cmd, .out = out};

  return ssh_conn_run(c, &x, status, err);
}

int ssh_probe(const struct ssh_target *t, struct imc_err *err)
{
  struct ssh_conn *c;
  int status = -1, r;

  if ((r = ssh_conn_open(t, &c, err)) != 0)
    return r;
  if ((r = ssh_conn_exec(c, "true", &status, NULL, err)) == 0 && status != 0)
    r = imc_fail(err, IMC_E_IO, "`true` exited with status %d on %s", status, t->host);
  ssh_conn_close(c);
  return r;
}

static int parse_port(const char *s, int *port)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 1 || v > 65535)
    return -1;
  *port = (int)v;
  return 0;
}

int ssh_proxy_parse(const char *text, struct ssh_proxy *out, struct imc_err *err)
{
  const char *at = strrchr(text, '@'), *hp = at ? at + 1 : text;
  const char *colon = strrchr(hp, ':');
  struct ssh_proxy p = {.port = 22};
  int r = 0;

  memset(out, 0, sizeof *out);
  if (at) {
    const char *pc = memchr(text, ':', (size_t)(at - text));

    p.user = imc_strndup(text, (size_t)((pc ? pc : at) - text));
    if (pc && !(p.password = imc_strndup(pc + 1, (size_t)(at - pc - 1))))
      r = IMC_E_NOMEM;
    if (!p.user)
      r = IMC_E_NOMEM;
  }
  p.host = colon ? imc_strndup(hp, (size_t)(colon - hp)) : imc_strdup(hp);
  if (!p.host)
    r = IMC_E_NOMEM;
  if (r) {
    ssh_proxy_cleanup(&p);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  if (!*p.host || (colon && parse_port(colon + 1, &p.port) != 0)) {
    ssh_proxy_cleanup(&p);
    return imc_fail(err, IMC_E_INVAL, "proxy_host must be user:password@host:port");
  }
  *out = p;
  return 0;
}

void ssh_proxy_cleanup(struct ssh_proxy *p)
{
  imc_free(p->user);
  imc_free_secret(p->password);
  imc_free(p->host);
  memset(p, 0, sizeof *p);
}
