/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's HTTP: libmicrohttpd daemons (one per port, a pool of threads each) that collect a
 * request with a bounded body, hand it to the XML-RPC or the REST front end, and send the
 * answer.  When both APIs share one port, POST / with an XML body is XML-RPC, as IM's clients
 * send it, and everything else is REST. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/pool.h"
#include "metrics.h"

#define MAX_RESPONSE (256u * 1024 * 1024)
#define DRAIN_MAX_MS 30000 /* how long a shutdown waits for requests in flight */
#define DRAIN_STEP_MS 20

enum api { API_XMLRPC = 1, API_REST = 2 };

struct http;

struct listener {
  struct MHD_Daemon *mhd;
  unsigned apis;
  struct imcd *d;
  struct http *http;
  size_t max_body;
};

struct http {
  struct listener l[2];
  size_t n;
  char *tls_key[2], *tls_cert[2];
  struct imcd *d;
  struct imc_pool *blocking; /* the blocking lane: WORKERS threads */
  /* lane_mu makes "not stopping, so queue it" one step: once http_stop has set stopping
   * under it, every job the lane will ever get is already counted in its depth. */
  pthread_mutex_t lane_mu;
  bool stopping;
};

/* One request, from its headers to the end of its answer. */
struct conn {
  struct listener *l;
  struct MHD_Connection *c;
  const char *url, *method; /* MHD's, valid for the connection's life */
  struct imc_buf body;
  bool too_big;
  enum api api;
  bool queued, answered; /* on the blocking lane; answer ready in rs */
  struct imcd_response rs;
  char id[24];
  struct timespec start;
};

static atomic_ulong request_seq;

bool imcd_add_header(struct imcd_response *rs, const char *name, const char *value)
{
  struct imcd_header *h;

  if (rs->nheaders >= IMCD_MAX_HEADERS || strlen(name) >= sizeof h->name ||
      strlen(value) >= sizeof h->value)
    return false;
  h = &rs->headers[rs->nheaders++];
  snprintf(h->name, sizeof h->name, "%s", name);
  snprintf(h->value, sizeof h->value, "%s", value);
  return true;
}

static const char *header_of(const struct imcd_request *rq, const char *name)
{
  return MHD_lookup_connection_value(rq->impl, MHD_HEADER_KIND, name);
}

/* "?async" without '=' is there with an empty value, as Flask reads it (IM then answers
 * "Incorrect value in async parameter"), not absent. */
static const char *query_of(const struct imcd_request *rq, const char *name)
{
  const char *value = NULL;
  size_t len = 0;

  if (MHD_lookup_connection_value_n(rq->impl, MHD_GET_ARGUMENT_KIND, name, strlen(name), &value,
                                    &len) != MHD_YES)
    return NULL;
  return value ? value : "";
}

static enum MHD_Result send_answer(struct MHD_Connection *c, const struct imcd_response *rs)
{
  struct MHD_Response *r =
    MHD_create_response_from_buffer(rs->body.len, rs->body.len ? rs->body.data : (void *)"",
                                    MHD_RESPMEM_MUST_COPY);
  enum MHD_Result ok;

  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
  for (size_t i = 0; i < rs->nheaders; i++)
    MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
  ok = MHD_queue_response(c, rs->status, r);
  MHD_destroy_response(r);
  return ok;
}

static void plain(struct imcd_response *rs, unsigned status, const char *msg)
{
  rs->status = status;
  snprintf(rs->content_type, sizeof rs->content_type, "text/plain");
  imc_buf_reset(&rs->body);
  imc_buf_adds(&rs->body, msg);
}

/* Which front end answers: an XML-RPC call is a POST to / with an XML body. */
static enum api route(const struct listener *l, const char *method, const char *path,
                      struct MHD_Connection *c)
{
  const char *type;

  if (l->apis != (API_XMLRPC | API_REST))
    return (enum api)l->apis;
  type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (strcmp(method, "POST") == 0 && strcmp(path, "/") == 0 && type &&
      (strncasecmp(type, "text/xml", 8) == 0 || strncasecmp(type, "application/xml", 15) == 0))
    return API_XMLRPC;
  return API_REST;
}

static double elapsed_ms(const struct timespec *start)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Runs the front end for a complete request: fills cn->rs, logs it and counts it. */
static void answer(struct listener *l, struct conn *cn)
{
  struct imcd_response *rs = &cn->rs;
  double ms;

  if (cn->too_big) {
    char msg[96];

    snprintf(msg, sizeof msg, "Request body larger than %zu bytes", l->max_body);
    plain(rs, MHD_HTTP_CONTENT_TOO_LARGE, msg);
  } else {
    struct imcd_request rq = {
      .method = cn->method,
      .path = cn->url,
      .body = cn->body.len ? imc_buf_cstr(&cn->body) : "",
      .body_len = cn->body.len,
      .request_id = cn->id,
      .header = header_of,
      .query = query_of,
      .impl = cn->c,
    };

    if (cn->api == API_XMLRPC)
      xmlrpc_handle(l->d, &rq, rs);
    else
      rest_handle(l->d, &rq, rs);
    if (imc_buf_err(&rs->body))
      plain(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "Response too large");
  }
  ms = elapsed_ms(&cn->start);
  imc_log(IMC_LOG_INFO, "%s %s %s %u %.1f ms", cn->id, cn->method, cn->url, rs->status, ms);
  if (l->d->metrics)
    metrics_end(l->d->metrics, cn->api == API_XMLRPC ? "xmlrpc" : "rest", rs->route_method,
                rs->route, rs->status, rs->failed || rs->status >= 400, ms / 1e3);
}

/* A blocking request on a worker of the blocking lane; its connection is suspended until the
 * answer is ready, and MHD then calls on_request again, which sends it. */
static void answer_blocking(void *arg)
{
  struct conn *cn = arg;

  answer(cn->l, cn);
  cn->answered = true;
  MHD_resume_connection(cn->c);
}

/* Queues cn on the blocking lane with its connection suspended; false when the lane stopped
 * taking requests or has no memory for one (then the caller answers it). */
static bool queue_blocking(struct http *h, struct conn *cn)
{
  struct imc_err err;
  bool queued = false;

  pthread_mutex_lock(&h->lane_mu);
  if (!h->stopping) {
    MHD_suspend_connection(cn->c);
    cn->queued = true;
    queued = imc_pool_submit(h->blocking, answer_blocking, cn, &err) == 0;
    if (!queued) {
      cn->queued = false;
      MHD_resume_connection(cn->c);
    }
  }
  pthread_mutex_unlock(&h->lane_mu);
  return queued;
}

/* Whether the request may wait on a cloud (or a store claim): those go to the blocking lane so
 * that they never hold the few threads that serve everything else. */
static bool may_block(const struct conn *cn)
{
  if (cn->too_big)
    return false;
  return cn->api == API_XMLRPC ? xmlrpc_may_block(cn->body.data, cn->body.len)
                               : rest_may_block(cn->method, cn->url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
  struct listener *l = cls;
  struct conn *cn = *con_cls;

  (void)version;
  if (!cn) { /* the headers have arrived: set up for the body */
    if (!(cn = imc_calloc(1, sizeof *cn)))
      return MHD_NO;
    imc_buf_init(&cn->body, l->max_body);
    snprintf(cn->id, sizeof cn->id, "r%lu", atomic_fetch_add(&request_seq, 1) + 1);
    clock_gettime(CLOCK_MONOTONIC, &cn->start);
    cn->l = l;
    cn->c = c;
    cn->url = url;
    cn->method = method;
    atomic_fetch_add(&l->d->in_flight, 1);
    *con_cls = cn;
    return MHD_YES;
  }
  if (*upload_size) {
    if (!cn->too_big && imc_buf_add_whole(&cn->body, upload, *upload_size) != 0)
      cn->too_big = true; /* keep reading, so the client gets the 413 */
    *upload_size = 0;
    return MHD_YES;
  }
  if (cn->answered)
    return send_answer(c, &cn->rs);
  if (cn->queued)
    return MHD_YES; /* a worker has it */
  cn->rs.status = 200;
  snprintf(cn->rs.content_type, sizeof cn->rs.content_type, "text/plain");
  imc_buf_init(&cn->rs.body, MAX_RESPONSE);
  cn->api = route(l, method, url, c);
  if (may_block(cn) && queue_blocking(l->http, cn))
    return MHD_YES;
  answer(l, cn);
  cn->answered = true;
  return send_answer(c, &cn->rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct conn *cn = *con_cls;
  struct imcd *d;

  if (!cn)
    return;
  d = cn->l->d;
  /* Bodies carry RADL with passwords and auth data. */
  if (cn->body.data)
    memset(cn->body.data, 0, cn->body.cap);
  imc_buf_free(&cn->body);
  imc_buf_free(&cn->rs.body);
  imc_free(cn);
  *con_cls = NULL;
  atomic_fetch_sub(&d->in_flight, 1);
}

/* Threads that read requests and answer the ones that cannot block: one per core.  More would
 * only share the cores, and libmicrohttpd spreads connections unevenly over its threads, so
 * more threads make the latency of the unlucky ones worse (bench/README.md, bench/api). */
static unsigned io_threads(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);

  return n < 1 ? 1u : n > 64 ? 64u : (unsigned)n;
}

static int parse_address(const char *host, long port, struct sockaddr_storage *ss,
                         struct imc_err *err)
{
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

  memset(ss, 0, sizeof *ss);
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return 0;
  }
  return imc_fail(err, IMC_E_INVAL, "%s is not an IP address to listen on", host);
}

static int read_pem(const char *path, char **out, struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, 1024 * 1024);
  if ((r = imc_read_file(path, &b, err)) != 0) {
    imc_buf_free(&b);
    return r;
  }
  if (!(*out = imc_buf_take(&b, NULL)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  return 0;
}

static int listen_on(struct http *h, struct imcd *d, unsigned apis, const char *host, long port,
                     bool tls, const char *key, const char *cert, struct imc_err *err)
{
  struct listener *l = &h->l[h->n];
  struct sockaddr_storage ss;
  /* ITC: quiescing (stop accepting on shutdown) and resuming need it. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                   MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
  unsigned pool = io_threads();
  int r;

  if ((r = parse_address(host, port, &ss, err)) != 0)
    return r;
  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  l->apis = apis;
  l->d = d;
  l->http = h;
  l->max_body = (size_t)d->cfg->max_request_body;
  if (tls) {
    if ((r = read_pem(key, &h->tls_key[h->n], err)) != 0 ||
        (r = read_pem(cert, &h->tls_cert[h->n], err)) != 0)
      return r;
    flags |= MHD_USE_TLS;
    l->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, l,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_NOTIFY_COMPLETED,
                              on_completed, NULL, MHD_OPTION_HTTPS_MEM_KEY, h->tls_key[h->n],
                              MHD_OPTION_HTTPS_MEM_CERT, h->tls_cert[h->n], MHD_OPTION_END);
  } else {
    l->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, l,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_NOTIFY_COMPLETED,
                              on_completed, NULL, MHD_OPTION_END);
  }
  if (!l->mhd)
    return imc_fail(err, IMC_E_IO, "cannot listen on %s port %ld (in use, or TLS files wrong?)",
                    host, port);
  imc_log(IMC_LOG_INFO, "listening on %s:%ld (%s%s%s)", host, port,
          (apis & API_XMLRPC) ? "XML-RPC" : "", apis == (API_XMLRPC | API_REST) ? " and " : "",
          (apis & API_REST) ? "REST" : "");
  h->n++;
  return 0;
}

int http_start(struct imcd *d, struct http **out, struct imc_err *err)
{
  const struct imc_config *cfg = d->cfg;
  struct http *h = imc_calloc(1, sizeof *h);
  bool same;
  int r = 0;

  *out = NULL;
  if (!h)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if ((r = imc_pool_start((unsigned)cfg->workers, &h->blocking, err)) != 0) {
    imc_free(h);
    return r;
  }
  h->d = d;
  pthread_mutex_init(&h->lane_mu, NULL);
  d->blocking = h->blocking;
  same = cfg->activate_xmlrpc && cfg->activate_rest && cfg->xmlrcp_port == cfg->rest_port;
  if (same)
    r = listen_on(h, d, API_XMLRPC | API_REST, cfg->rest_address, cfg->rest_port, cfg->rest_ssl,
                  cfg->rest_ssl_keyfile, cfg->rest_ssl_certfile, err);
  if (!same && !r && cfg->activate_xmlrpc)
    r = listen_on(h, d, API_XMLRPC, cfg->xmlrcp_address, cfg->xmlrcp_port, cfg->xmlrcp_ssl,
                  cfg->xmlrcp_ssl_keyfile, cfg->xmlrcp_ssl_certfile, err);
  if (!same && !r && cfg->activate_rest)
    r = listen_on(h, d, API_REST, cfg->rest_address, cfg->rest_port, cfg->rest_ssl,
                  cfg->rest_ssl_keyfile, cfg->rest_ssl_certfile, err);
  if (!r && h->n == 0)
    r = imc_fail(err, IMC_E_INVAL, "both ACTIVATE_XMLRPC and ACTIVATE_REST are off");
  if (r) {
    http_stop(h);
    return r;
  }
  *out = h;
  return 0;
}

void http_stop(struct http *h)
{
  if (!h)
    return;
  /* Stop accepting first on every port, then let the requests in flight finish (a
   * synchronous create may take long: bounded, so a stuck cloud cannot hold the shutdown).
   * Idle keep-alive connections are not waited for: they are closed. */
  for (size_t i = 0; i < h->n; i++)
    MHD_quiesce_daemon(h->l[i].mhd);
  for (unsigned waited = 0; waited < DRAIN_MAX_MS && atomic_load(&h->d->in_flight) > 0;
       waited += DRAIN_STEP_MS)
    nanosleep(&(struct timespec){0, DRAIN_STEP_MS * 1000000L}, NULL);
  /* Requests still on the blocking lane (a cloud that does not answer) are waited for: their
   * connections are suspended, and a daemon cannot stop under them.  Requests arriving from
   * now on are answered on the daemon's own threads.  The lane is freed only once the
   * daemons are stopped, since a scrape of /metrics reads its depth. */
  pthread_mutex_lock(&h->lane_mu);
  h->stopping = true;
  pthread_mutex_unlock(&h->lane_mu);
  for (;;) {
    size_t queued, running;

    imc_pool_depth(h->blocking, &queued, &running);
    if (queued + running == 0)
      break;
    nanosleep(&(struct timespec){0, DRAIN_STEP_MS * 1000000L}, NULL);
  }
  for (size_t i = 0; i < h->n; i++)
    MHD_stop_daemon(h->l[i].mhd);
  h->d->blocking = NULL;
  imc_pool_stop(h->blocking);
  pthread_mutex_destroy(&h->lane_mu);
  for (size_t i = 0; i < 2; i++) {
    imc_free_secret(h->tls_key[i]);
    imc_free(h->tls_cert[i]);
  }
  imc_free(h);
}
