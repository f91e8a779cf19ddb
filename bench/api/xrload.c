/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrload: an HTTP/1.1 load generator for imcd's XML-RPC API (wrk measures the REST GETs, but
 * cannot check an XML-RPC answer nor carry ids from one call to the next).  N client threads,
 * each with one keep-alive connection to 127.0.0.1:PORT, send the same request over and over
 * for D seconds or until a count is done, time every request (CLOCK_MONOTONIC, from the first
 * byte sent to the last byte of the answer read) and print one line:
 *
 *   requests=N errors=E secs=S rps=R p50_ms=A p99_ms=B max_ms=C
 *
 * requests counts every request sent, rps and the percentiles (nearest rank) those answered.
 * An error is a failed connection, a non-2xx status, or with -x an XML-RPC fault or an answer
 * whose first value is not IM's `true`.  With -i, each request takes the next line of a file
 * in place of @ID@ in the path and the body (once each, or round robin with -d): that is how
 * bench/api/run destroys what it created and reads every infrastructure in turn.  With -o and
 * -x, the second value of each successful answer (CreateInfrastructure's new id) is written to
 * a file, one a line.
 *
 * usage: xrload -p PORT [-c CLIENTS] (-d SECONDS | -n COUNT | -i IDS) [-m METHOD] [-u PATH]
 *               [-H 'Name: value']... [-b BODY_FILE] [-x] [-o IDS_OUT]
 * Answers are read by Content-Length (imcd always sends it); chunked answers are errors.
 * Memory comes from imc's allocator (libimc), as everywhere in imc. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "imc/alloc.h"

#define MAX_CLIENTS   1024
#define MAX_HEADERS   16
#define MAX_FILE      (16u * 1024 * 1024) /* body template and id files */
#define MAX_ANSWER    (64u * 1024 * 1024) /* one answer, headers included */
#define MAX_ID        128                 /* one line of an id file / one returned id */
#define IO_TIMEOUT_S  30                  /* a stuck server is an error, not a hang */
#define ID_MARK       "@ID@"
#define SHOW_ERRORS   5                   /* first errors described on stderr */

struct opts {
  unsigned port, clients;
  double secs;          /* > 0: run this long */
  unsigned long count;  /* > 0: this many requests in all */
  const char *method, *path, *body_file, *ids_in, *ids_out;
  const char *headers[MAX_HEADERS];
  size_t nheaders;
  bool xmlrpc;
};

/* A growable array of fixed-size records. */
struct vec {
  void *v;
  size_t n, cap, elem;
};

struct client {
  pthread_t th;
  int fd;
  char *in;             /* answer bytes; in_len of them read */
  size_t in_len, in_cap;
  char *out;            /* the request being sent: req_len bytes */
  size_t out_cap, req_len;
  char *bod;            /* its body, ids put in */
  size_t bod_cap;
  struct vec lat;       /* uint64_t nanoseconds, one per request */
  struct vec ids;       /* char[MAX_ID], with -o */
  unsigned long sent, errors;
  bool failed;          /* out of memory: stop */
};

static struct opts opt = {.clients = 1, .method = "GET", .path = "/"};
static char *body;      /* template, ID_MARK not yet replaced */
static size_t body_len;
static char *ids_text;  /* the file -i */
static char **ids;      /* its lines */
static size_t nids;
static atomic_ulong claimed;   /* requests handed out (-n, -i) */
static atomic_uint shown;      /* errors described so far */
static struct timespec t_end;  /* -d: when to stop */
static pthread_barrier_t ready;

static uint64_t ns_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int vec_push(struct vec *a, const void *item)
{
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 1024;
    void *p = imc_realloc(a->v, cap * a->elem);

    if (!p)
      return -1;
    a->v = p;
    a->cap = cap;
  }
  memcpy((char *)a->v + a->n * a->elem, item, a->elem);
  a->n++;
  return 0;
}

static void usage(void)
{
  fprintf(stderr, "usage: xrload -p PORT [-c CLIENTS] (-d SECONDS | -n COUNT | -i IDS) "
                  "[-m METHOD] [-u PATH] [-H 'Name: value']... [-b BODY_FILE] [-x] "
                  "[-o IDS_OUT]\n");
  exit(2);
}

static unsigned long number(const char *s, unsigned long max)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno || end == s || *end || v == 0 || v > max)
    usage();
  return v;
}

static void parse_args(int argc, char **argv)
{
  int c;

  while ((c = getopt(argc, argv, "p:c:d:n:m:u:H:b:xo:i:")) != -1) {
    switch (c) {
    case 'p': opt.port = (unsigned)number(optarg, 65535); break;
    case 'c': opt.clients = (unsigned)number(optarg, MAX_CLIENTS); break;
    case 'd': opt.secs = (double)number(optarg, 86400); break;
    case 'n': opt.count = number(optarg, 1000000000ul); break;
    case 'm': opt.method = optarg; break;
    case 'u': opt.path = optarg; break;
    case 'H':
      if (opt.nheaders == MAX_HEADERS)
        usage();
      opt.headers[opt.nheaders++] = optarg;
      break;
    case 'b': opt.body_file = optarg; break;
    case 'x': opt.xmlrpc = true; break;
    case 'o': opt.ids_out = optarg; break;
    case 'i': opt.ids_in = optarg; break;
    default: usage();
    }
  }
  if (optind != argc || !opt.port || (opt.secs > 0 && opt.count) ||
      (!opt.ids_in && opt.secs <= 0 && !opt.count) || (opt.ids_out && !opt.xmlrpc))
    usage();
}

/* The whole file, NUL-terminated, at most MAX_FILE bytes. */
static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *p = NULL, *q;
  size_t n = 0, cap = 0, got;

  if (!f)
    goto fail;
  do {
    if (n == cap) {
      cap = cap ? cap * 2 : 64 * 1024;
      if (cap > 2 * (size_t)MAX_FILE || !(q = imc_realloc(p, cap + 1)))
        goto fail;
      p = q;
    }
    n += got = fread(p + n, 1, cap - n, f);
  } while (got > 0 && n <= MAX_FILE);
  if (ferror(f) || n > MAX_FILE)
    goto fail;
  fclose(f);
  p[n] = '\0';
  *len = n;
  return p;
fail:
  fprintf(stderr, "xrload: cannot read %s (or larger than %u bytes)\n", path, MAX_FILE);
  if (f)
    fclose(f);
  imc_free(p);
  exit(1);
}

/* The non-empty lines of -i, each shorter than MAX_ID: pointers into the file's bytes. */
static void read_ids(void)
{
  size_t len, cap = 0;
  char *line = ids_text = read_all(opt.ids_in, &len), *end = line + len;

  while (line < end) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);

    line[n] = '\0';
    if (n >= MAX_ID) {
      fprintf(stderr, "xrload: %s: a line longer than %d bytes\n", opt.ids_in, MAX_ID - 1);
      exit(1);
    }
    if (n && nids == cap) {
      cap = cap ? cap * 2 : 1024;
      if (!(ids = imc_realloc(ids, cap * sizeof *ids))) {
        fprintf(stderr, "xrload: out of memory\n");
        exit(1);
      }
    }
    if (n)
      ids[nids++] = line;
    line += n + 1;
  }
  if (!nids) {
    fprintf(stderr, "xrload: %s holds no id\n", opt.ids_in);
    exit(1);
  }
}

/* Appends s, with every ID_MARK replaced by id (when id is not NULL), at out[*n]. */
static int put(char *out, size_t cap, size_t *n, const char *s, size_t len, const char *id)
{
  size_t mark = sizeof ID_MARK - 1;

  for (size_t i = 0; i < len;) {
    const char *at = id ? memmem(s + i, len - i, ID_MARK, mark) : NULL;
    size_t plain = at ? (size_t)(at - (s + i)) : len - i;
    size_t idlen = at ? strlen(id) : 0;

    if (cap - *n < plain + idlen)
      return -1;
    memcpy(out + *n, s + i, plain);
    if (at)
      memcpy(out + *n + plain, id, idlen);
    *n += plain + idlen;
    i += plain + (at ? mark : 0);
  }
  return 0;
}

/* The request bytes for one call (id, when not NULL, replaces ID_MARK) in c->out: their
 * length, or 0 when they do not fit. */
static size_t build_request(struct client *c, const char *id)
{
  size_t n = 0, blen = 0;
  char head[96];
  int w;

  if (put(c->bod, c->bod_cap, &blen, body, body_len, id) ||
      put(c->out, c->out_cap, &n, opt.method, strlen(opt.method), NULL) ||
      put(c->out, c->out_cap, &n, " ", 1, NULL) ||
      put(c->out, c->out_cap, &n, opt.path, strlen(opt.path), id))
    return 0;
  w = snprintf(head, sizeof head, " HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n", opt.port);
  if (put(c->out, c->out_cap, &n, head, (size_t)w, NULL))
    return 0;
  for (size_t i = 0; i < opt.nheaders; i++)
    if (put(c->out, c->out_cap, &n, opt.headers[i], strlen(opt.headers[i]), NULL) ||
        put(c->out, c->out_cap, &n, "\r\n", 2, NULL))
      return 0;
  w = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", blen);
  if (put(c->out, c->out_cap, &n, head, (size_t)w, NULL) ||
      put(c->out, c->out_cap, &n, c->bod, blen, NULL))
    return 0;
  return n;
}

static int dial(struct client *c)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
  int one = 1;

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
    return -1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  c->in_len = 0;
  return 0;
}

static void hang_up(struct client *c)
{
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->in_len = 0;
}

static int send_all(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads more of the answer; -1 on error or when the peer closed. */
static int fill(struct client *c)
{
  ssize_t r;

  if (c->in_len == c->in_cap) {
    size_t cap = c->in_cap * 2;
    char *p;

    if (cap > MAX_ANSWER || !(p = imc_realloc(c->in, cap + 1)))
      return -1;
    c->in = p;
    c->in_cap = cap;
  }
  do
    r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
  while (r < 0 && errno == EINTR);
  if (r <= 0)
    return -1;
  c->in_len += (size_t)r;
  return 0;
}

/* Reads one answer: its status, its body (in c->in, NUL-terminated) and whether the server
 * closes the connection after it.  Returns -1 when the connection failed. */
static int read_answer(struct client *c, unsigned *status, const char **body_out,
                       size_t *body_size, bool *closing)
{
  char *end, *line;
  size_t head, len = 0;
  bool have_len = false;

  while (!(end = memmem(c->in, c->in_len, "\r\n\r\n", 4)))
    if (fill(c) != 0)
      return -1;
  head = (size_t)(end - c->in) + 4;
  *end = '\0';
  if (strncmp(c->in, "HTTP/1.", 7) != 0 || strlen(c->in) < 12)
    return -1;
  *status = (unsigned)strtoul(c->in + 9, NULL, 10);
  *closing = c->in[7] == '0';
  for (line = strstr(c->in, "\r\n"); line; line = strstr(line, "\r\n")) {
    line += 2;
    if (strncasecmp(line, "Content-Length:", 15) == 0) {
      len = strtoul(line + 15, NULL, 10);
      have_len = true;
    } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
      return -1; /* chunked: imcd does not send it */
    } else if (strncasecmp(line, "Connection:", 11) == 0) {
      *closing = strcasestr(line + 11, "close") != NULL;
    }
  }
  if (!have_len && *status >= 200 && *status != 204 && *status != 304)
    return -1;
  if (len > MAX_ANSWER - head)
    return -1;
  while (c->in_len < head + len)
    if (fill(c) != 0)
      return -1;
  /* Nothing may follow: one request is in flight at a time. */
  if (c->in_len != head + len)
    return -1;
  c->in[head + len] = '\0';
  *body_out = c->in + head;
  *body_size = len;
  c->in_len = 0;
  return 0;
}

/* Skips blanks, then the literal s: the position after it, or NULL. */
static const char *expect(const char *p, const char *s)
{
  p += strspn(p, " \t\r\n");
  return strncmp(p, s, strlen(s)) == 0 ? p + strlen(s) : NULL;
}

/* IM's answer [true, value]: the first value of the result array is <boolean>1</boolean>.
 * When id is not NULL, the second value's text (a string) is copied there. */
static bool xmlrpc_true(const char *b, char id[MAX_ID])
{
  const char *p = strstr(b, "<methodResponse>"), *q;
  size_t n;

  if (!p || !(p = expect(p + 16, "<params>")) || !(p = expect(p, "<param>")) ||
      !(p = expect(p, "<value>")) || !(p = expect(p, "<array>")) || !(p = expect(p, "<data>")) ||
      !(p = expect(p, "<value>")) || !(p = expect(p, "<boolean>")) || !(p = expect(p, "1")) ||
      !(p = expect(p, "</boolean>")) || !(p = expect(p, "</value>")))
    return false;
  if (!id)
    return true;
  if (!(p = expect(p, "<value>")))
    return false;
  if ((q = expect(p, "<string>")))
    p = q;
  n = strcspn(p, "<");
  if (n == 0 || n >= MAX_ID || !p[n])
    return false;
  memcpy(id, p, n);
  id[n] = '\0';
  return true;
}

static void describe(const char *what, unsigned status, const char *b)
{
  if (atomic_fetch_add(&shown, 1) < SHOW_ERRORS)
    fprintf(stderr, "xrload: error: %s (status %u): %.200s\n", what, status, b ? b : "");
}

/* One request and its answer; false on an error of any kind. */
static bool call(struct client *c, const char *id)
{
  size_t n = c->req_len, blen = 0;
  const char *b = NULL;
  unsigned status = 0;
  bool closing = false, ok;
  char got[MAX_ID];
  uint64_t t0, dt;

  /* Without ids the request never changes: it is built once. */
  if (id || !n)
    n = c->req_len = build_request(c, id);
  if (!n) {
    describe("request larger than the buffer", 0, NULL);
    c->failed = true;
    return false;
  }
  c->sent++;
  t0 = ns_now();
  if (c->fd < 0 && dial(c) != 0) {
    describe("cannot connect", 0, strerror(errno));
    return false;
  }
  if (send_all(c->fd, c->out, n) != 0 || read_answer(c, &status, &b, &blen, &closing) != 0) {
    describe("connection failed or answer malformed", status, strerror(errno));
    hang_up(c);
    return false;
  }
  dt = ns_now() - t0;
  if (vec_push(&c->lat, &dt) != 0)
    c->failed = true;
  if (closing)
    hang_up(c);
  ok = status >= 200 && status < 300;
  if (ok && opt.xmlrpc)
    ok = xmlrpc_true(b, opt.ids_out ? got : NULL);
  if (!ok) {
    describe(opt.xmlrpc ? "not [true, ...]" : "non-2xx", status, b);
    return false;
  }
  if (opt.ids_out && vec_push(&c->ids, got) != 0)
    c->failed = true;
  return true;
}

/* Whether this client sends another request, and with which id (NULL: none). */
static bool next(const char **id)
{
  unsigned long k;

  *id = NULL;
  if (opt.secs > 0) {
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > t_end.tv_sec || (now.tv_sec == t_end.tv_sec && now.tv_nsec >= t_end.tv_nsec))
      return false;
    if (nids)
      *id = ids[atomic_fetch_add(&claimed, 1) % nids];
    return true;
  }
  k = atomic_fetch_add(&claimed, 1);
  if (k >= (opt.count ? opt.count : nids))
    return false;
  if (nids)
    *id = ids[k % nids];
  return true;
}

static void *run(void *arg)
{
  struct client *c = arg;
  const char *id;

  /* Every client connects before the clock starts. */
  if (dial(c) != 0)
    describe("cannot connect", 0, strerror(errno));
  pthread_barrier_wait(&ready);
  while (!c->failed && next(&id))
    if (!call(c, id))
      c->errors++;
  hang_up(c);
  return NULL;
}

static int by_value(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

  return (x > y) - (x < y);
}

/* Nearest rank: the smallest latency with at least p of them at or below it. */
static double pct_ms(const uint64_t *v, size_t n, double p)
{
  size_t rank = (size_t)(p * (double)n + 0.999999);

  if (!n)
    return 0;
  return (double)v[rank ? rank - 1 : 0] / 1e6;
}

static int write_ids(struct client *cl)
{
  FILE *f = fopen(opt.ids_out, "w");

  if (!f)
    return -1;
  for (unsigned i = 0; i < opt.clients; i++)
    for (size_t k = 0; k < cl[i].ids.n; k++)
      fprintf(f, "%s\n", (char *)cl[i].ids.v + k * MAX_ID);
  return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
  struct client *cl;
  uint64_t t0, *all;
  size_t total = 0, at = 0, out_cap, bod_cap, marks = 0;
  unsigned long sent = 0, errors = 0;
  double secs;
  int rc = 0;

  parse_args(argc, argv);
  if (opt.body_file)
    body = read_all(opt.body_file, &body_len);
  if (opt.ids_in)
    read_ids();
  /* Room for the body with an id (shorter than MAX_ID) for each ID_MARK, and for the
   * request line and headers. */
  for (const char *m = body; m && (m = memmem(m, body_len - (size_t)(m - body), ID_MARK,
                                              sizeof ID_MARK - 1)); m++)
    marks++;
  bod_cap = body_len + marks * MAX_ID + 1;
  out_cap = bod_cap + 64 * 1024;
  if (!(cl = imc_calloc(opt.clients, sizeof *cl)))
    goto nomem;
  for (unsigned i = 0; i < opt.clients; i++) {
    cl[i].fd = -1;
    cl[i].in_cap = 64 * 1024;
    cl[i].out_cap = out_cap;
    cl[i].bod_cap = bod_cap;
    cl[i].lat.elem = sizeof(uint64_t);
    cl[i].ids.elem = MAX_ID;
    if (!(cl[i].in = imc_malloc(cl[i].in_cap + 1)) || !(cl[i].out = imc_malloc(out_cap)) ||
        !(cl[i].bod = imc_malloc(bod_cap)))
      goto nomem;
  }
  if (pthread_barrier_init(&ready, NULL, opt.clients + 1) != 0)
    goto nomem;
  for (unsigned i = 0; i < opt.clients; i++)
    if (pthread_create(&cl[i].th, NULL, run, &cl[i]) != 0) {
      fprintf(stderr, "xrload: cannot start client thread %u\n", i);
      exit(1);
    }
  clock_gettime(CLOCK_MONOTONIC, &t_end);
  t_end.tv_sec += (time_t)opt.secs;
  t0 = ns_now();
  pthread_barrier_wait(&ready);
  for (unsigned i = 0; i < opt.clients; i++)
    pthread_join(cl[i].th, NULL);
  secs = (double)(ns_now() - t0) / 1e9;

  for (unsigned i = 0; i < opt.clients; i++) {
    total += cl[i].lat.n;
    sent += cl[i].sent;
    errors += cl[i].errors;
    if (cl[i].failed)
      rc = 1;
  }
  if (!(all = imc_malloc((total ? total : 1) * sizeof *all)))
    goto nomem;
  for (unsigned i = 0; i < opt.clients; i++) {
    if (cl[i].lat.n)
      memcpy(all + at, cl[i].lat.v, cl[i].lat.n * sizeof *all);
    at += cl[i].lat.n;
  }
  qsort(all, total, sizeof *all, by_value);
  /* rps counts the answered requests; a request that got no answer is an error too. */
  printf("requests=%lu errors=%lu secs=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
         sent, errors, secs, secs > 0 ? (double)total / secs : 0.0, pct_ms(all, total, 0.50),
         pct_ms(all, total, 0.99), total ? (double)all[total - 1] / 1e6 : 0.0);
  if (rc)
    fprintf(stderr, "xrload: out of memory or request too large: the run was cut short\n");
  if (opt.ids_out && write_ids(cl) != 0) {
    fprintf(stderr, "xrload: cannot write %s\n", opt.ids_out);
    rc = 1;
  }
  for (unsigned i = 0; i < opt.clients; i++) {
    imc_free(cl[i].in);
    imc_free(cl[i].out);
    imc_free(cl[i].bod);
    imc_free(cl[i].lat.v);
    imc_free(cl[i].ids.v);
  }
  imc_free(cl);
  imc_free(all);
  imc_free(ids);
  imc_free(ids_text);
  imc_free(body);
  pthread_barrier_destroy(&ready);
  return rc;
nomem:
  fprintf(stderr, "xrload: out of memory\n");
  return 1;
}
