/* SPDX-License-Identifier: GPL-3.0-or-later */
/* FakeCloud (see fakecloud.h).  The log file is the cloud's only truth.  Each process keeps
 * one replay per cloud directory, shared by its contexts and kept until the process ends (the
 * engine opens a context per call, and replaying a log of thousands of instances at every
 * call made the crash test's checker spend most of its time here), and before every
 * operation catches it up with the lines appended since, by any process: the whole log is
 * read once, and memory is never trusted over the file. */
#include "fakecloud.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/index.h"

#define FC_NAME         "FakeCloud"
#define FC_ID_PREFIX    "fc-"
#define FC_ID_LEN       19 /* the prefix and 16 hex digits */
#define FC_MAX_TOKEN    128
#define FC_MAX_PATH     4096
#define FC_READ_CHUNK   8192 /* on the stack of whatever thread the engine runs us on */
#define FC_IMAGE_SCHEME "fake://"
#define FC_IP_FEATURE   "net_interface.0.ip"

struct fc_inst {
  char id[FC_ID_LEN + 1];
  char *token;
  enum imc_vm_state state;
  bool deleted;
};

/* The replay of a log up to offset, the end of its last complete line. */
struct fc_state {
  struct fc_inst *v; /* in creation order */
  size_t n, cap;
  struct imc_index index; /* v by id */
  unsigned long requests; /* launch requests so far: creates and refusals */
  unsigned long lines;    /* lines applied, for messages */
  off_t offset;
};

/* One cloud directory this process uses. */
struct fc_cloud {
  struct fc_cloud *next;
  char *dir, *path;
  struct fc_state st;
};

struct fc_ctx {
  struct fc_cloud *cloud;
  unsigned long fail_every; /* 0: never */
};

/* Guards the list and every replay in it: the engine runs contexts on several threads.  It is
 * held for a whole operation, so the flock() below only has to order processes. */
static pthread_mutex_t clouds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fc_cloud *clouds;

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* The cloud cannot be reached (its directory or log): trying again may work, as with an API
 * that does not answer. */
static int unreachable(struct imc_err *err, const char *what, const char *path, int errnum)
{
  int r = imc_fail(err, IMC_E_CLOUD, "FakeCloud: cannot %s %s: %s", what, path, strerror(errnum));

  if (err && err->code == IMC_E_CLOUD)
    err->retry = true;
  return r;
}

/* --- names ------------------------------------------------------------------------------ */

static bool id_valid(const char *id)
{
  if (strlen(id) != FC_ID_LEN || strncmp(id, FC_ID_PREFIX, strlen(FC_ID_PREFIX)) != 0)
    return false;
  for (const char *p = id + strlen(FC_ID_PREFIX); *p; p++)
    if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  return true;
}

/* A token goes into a log line as one word. */
static bool token_valid(const char *token)
{
  size_t n = 0;

  if (!token)
    return false;
  for (; token[n]; n++)
    if (n == FC_MAX_TOKEN || !isgraph((unsigned char)token[n]))
      return false;
  return n > 0;
}

static int new_id(char id[FC_ID_LEN + 1], struct imc_err *err)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char b[8];
  size_t k = strlen(FC_ID_PREFIX);
  ssize_t got;

  do
    got = getrandom(b, sizeof b, 0);
  while (got < 0 && errno == EINTR);
  if (got != (ssize_t)sizeof b)
    return imc_fail(err, IMC_E_INTERNAL, "FakeCloud: no random bytes for an instance id");
  memcpy(id, FC_ID_PREFIX, k);
  for (size_t i = 0; i < sizeof b; i++) {
    id[k++] = hex[b[i] >> 4];
    id[k++] = hex[b[i] & 15];
  }
  id[k] = '\0';
  return 0;
}

/* The instance's private address, derived from its id so that every look gives the same one:
 * 10.99.0.0/16 is never contacted (nothing listens there). */
static void instance_ip(const char *id, char *ip, size_t size)
{
  unsigned v = 0;

  for (size_t i = 0; i < 4; i++) {
    char ch = id[strlen(FC_ID_PREFIX) + i];

    v = v * 16 + (unsigned)(isdigit((unsigned char)ch) ? ch - '0' : ch - 'a' + 10);
  }
  snprintf(ip, size, "10.99.%u.%u", v >> 8, 1 + (v & 0xff) % 254);
}

/* --- the replay ------------------------------------------------------------------------- */

static void state_init(struct fc_state *st)
{
  memset(st, 0, sizeof *st);
  imc_index_init(&st->index);
}

static void state_cleanup(struct fc_state *st)
{
  for (size_t i = 0; i < st->n; i++)
    imc_free(st->v[i].token);
  imc_free(st->v);
  imc_index_free(&st->index);
  state_init(st);
}

static bool inst_eq(const void *ctx, size_t pos, const void *key)
{
  const struct fc_state *st = ctx;

  return strcmp(st->v[pos].id, key) == 0;
}

static uint64_t inst_hash(const void *ctx, size_t pos)
{
  const struct fc_state *st = ctx;

  return imc_hash_str(st->v[pos].id);
}

static struct fc_inst *state_find(const struct fc_state *st, const char *id)
{
  size_t pos;

  if (imc_index_built(&st->index)) {
    pos = imc_index_find(&st->index, imc_hash_str(id), id, inst_eq, st);
    return pos == SIZE_MAX ? NULL : &st->v[pos];
  }
  for (pos = 0; pos < st->n; pos++)
    if (strcmp(st->v[pos].id, id) == 0)
      return &st->v[pos];
  return NULL;
}

static struct fc_inst *state_live(const struct fc_state *st, const char *id)
{
  struct fc_inst *in = state_find(st, id);

  return in && !in->deleted ? in : NULL;
}

/* Event handlers: 0, IMC_E_NOMEM, or IMC_E_IO for an event that contradicts the log. */
static int ev_create(struct fc_state *st, char **arg)
{
  struct fc_inst *in;
  char *token;

  if (!id_valid(arg[0]) || !token_valid(arg[1]) || state_find(st, arg[0]))
    return IMC_E_IO;
  if (imc_grow((void **)&st->v, &st->cap, st->n + 1, sizeof *st->v) ||
      !(token = imc_strdup(arg[1])))
    return IMC_E_NOMEM;
  in = &st->v[st->n++];
  memset(in, 0, sizeof *in);
  memcpy(in->id, arg[0], FC_ID_LEN + 1);
  in->token = token;
  in->state = IMC_VM_PENDING;
  st->requests++;
  imc_index_note_append(&st->index, st->n, imc_hash_str(in->id), inst_hash, st);
  return 0;
}

static int ev_state(struct fc_state *st, char **arg)
{
  struct fc_inst *in = state_find(st, arg[0]);
  int s = imc_vm_state_parse(arg[1]);

  if (!in || s < 0)
    return IMC_E_IO;
  in->state = (enum imc_vm_state)s;
  return 0;
}

static int ev_delete(struct fc_state *st, char **arg)
{
  struct fc_inst *in = state_find(st, arg[0]);

  if (!in)
    return IMC_E_IO;
  in->deleted = true;
  return 0;
}

static int ev_refuse(struct fc_state *st, char **arg)
{
  if (!token_valid(arg[0]))
    return IMC_E_IO;
  st->requests++;
  return 0;
}

#define FC_MAX_ARGS 2

static const struct {
  const char *name;
  size_t nargs;
  int (*apply)(struct fc_state *st, char **arg);
} events[] = {
  {"create", 2, ev_create},
  {"state", 2, ev_state},
  {"delete", 1, ev_delete},
  {"refuse", 1, ev_refuse},
};

/* Splits s at spaces in place; returns the number of words, more than max when there are
 * too many. */
static size_t split_words(char *s, char **word, size_t max)
{
  size_t n = 0;

  while (*s) {
    if (*s == ' ') {
      *s++ = '\0';
      continue;
    }
    if (n == max)
      return max + 1;
    word[n++] = s;
    while (*s && *s != ' ')
      s++;
  }
  return n;
}

/* Applies one complete line (newline removed), number st->lines + 1 of path. */
static int state_apply(struct fc_state *st, char *line, const char *path, struct imc_err *err)
{
  char *word[FC_MAX_ARGS + 1];
  size_t n = split_words(line, word, FC_MAX_ARGS + 1);
  int r = IMC_E_IO;

  for (size_t i = 0; n > 0 && i < sizeof events / sizeof events[0]; i++)
    if (strcmp(word[0], events[i].name) == 0 && n == events[i].nargs + 1) {
      r = events[i].apply(st, word + 1);
      break;
    }
  if (r == IMC_E_NOMEM)
    return nomem(err);
  if (r)
    return imc_fail(err, IMC_E_IO, "FakeCloud: %s:%lu: malformed event", path, st->lines + 1);
  st->lines++;
  return 0;
}

/* Applies the lines appended to the log (open as fd, under a file lock) since st->offset.  A
 * last line without its newline is a torn write of a writer that died: it is never applied,
 * and with cut (the caller holds the exclusive lock, so no live writer is in the middle of
 * it) it is cut off, so that the next append starts a line of its own. */
static int state_catch_up(struct fc_state *st, int fd, const char *path, bool cut,
                          struct imc_err *err)
{
  char chunk[FC_READ_CHUNK], line[FAKECLOUD_MAX_LINE];
  size_t len = 0;
  struct stat sb;
  off_t pos;
  ssize_t got;
  int r;

  if (fstat(fd, &sb) != 0)
    return unreachable(err, "read", path, errno);
  if (sb.st_size < st->offset)
    state_cleanup(st); /* not the log we read: start again */
  for (pos = st->offset;; pos += got) {
    got = pread(fd, chunk, sizeof chunk, pos);
    if (got < 0 && errno == EINTR) {
      got = 0;
      continue;
    }
    if (got < 0)
      return unreachable(err, "read", path, errno);
    if (got == 0)
      break;
    for (ssize_t i = 0; i < got; i++) {
      if (chunk[i] != '\n') {
        if (len == sizeof line - 1)
          return imc_fail(err, IMC_E_IO, "FakeCloud: %s:%lu: event line too long", path,
                          st->lines + 1);
        line[len++] = chunk[i];
        continue;
      }
      line[len] = '\0';
      if ((r = state_apply(st, line, path, err)) != 0)
        return r;
      len = 0;
      st->offset = pos + i + 1;
    }
  }
  if (len > 0 && cut && ftruncate(fd, st->offset) != 0)
    return unreachable(err, "repair", path, errno);
  return 0;
}

/* --- clouds of this process ------------------------------------------------------------- */

static char *events_path(const char *dir)
{
  struct imc_buf b;

  imc_buf_init(&b, FC_MAX_PATH);
  imc_buf_addf(&b, "%s/%s", dir, FAKECLOUD_EVENTS);
  if (imc_buf_err(&b)) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

static void cloud_free(struct fc_cloud *c)
{
  if (!c)
    return;
  state_cleanup(&c->st);
  imc_free(c->dir);
  imc_free(c->path);
  imc_free(c);
}

static int cloud_get(const char *dir, struct fc_cloud **out, struct imc_err *err)
{
  struct fc_cloud *c;

  *out = NULL;
  pthread_mutex_lock(&clouds_lock);
  for (c = clouds; c; c = c->next)
    if (strcmp(c->dir, dir) == 0)
      break;
  if (!c && (c = imc_calloc(1, sizeof *c)) != NULL) {
    state_init(&c->st);
    if (!(c->dir = imc_strdup(dir)) || !(c->path = events_path(dir))) {
      cloud_free(c);
      c = NULL;
    } else {
      c->next = clouds;
      clouds = c;
    }
  }
  pthread_mutex_unlock(&clouds_lock);
  if (!c)
    return imc_fail(err, IMC_E_NOMEM, "FakeCloud: out of memory (or directory name too long)");
  *out = c;
  return 0;
}

/* The replays go when the process ends (after main returns or exit()). */
static void __attribute__((destructor)) clouds_free(void)
{
  struct fc_cloud *c, *next;

  pthread_mutex_lock(&clouds_lock);
  for (c = clouds; c; c = next) {
    next = c->next;
    cloud_free(c);
  }
  clouds = NULL;
  pthread_mutex_unlock(&clouds_lock);
}

/* Opens fd on path and takes its file lock (exclusive to change the log, shared to read). */
static int log_open(const char *path, bool change, int *fd, struct imc_err *err)
{
  int flags = change ? O_RDWR | O_APPEND : O_RDONLY;

  *fd = open(path, flags | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0)
    return unreachable(err, "open", path, errno);
  while (flock(*fd, change ? LOCK_EX : LOCK_SH) != 0)
    if (errno != EINTR) {
      int r = unreachable(err, "lock", path, errno);

      close(*fd);
      *fd = -1;
      return r;
    }
  return 0;
}

/* Starts an operation: takes this process's lock and the log's, and catches the replay up.
 * cloud_end() ends it, whatever happened. */
static int cloud_begin(struct fc_cloud *c, bool change, int *fd, struct imc_err *err)
{
  int r;

  pthread_mutex_lock(&clouds_lock);
  if ((r = log_open(c->path, change, fd, err)) == 0)
    r = state_catch_up(&c->st, *fd, c->path, change, err);
  return r;
}

static void cloud_end(int fd)
{
  if (fd >= 0)
    close(fd); /* releases the file lock */
  pthread_mutex_unlock(&clouds_lock);
}

/* Appends one event line (newline included) with one write(2): the line is then whole in the
 * file or not there at all, whenever this process dies.  The caller holds the exclusive lock
 * and has caught up, so the line lands at st.offset and is applied to the replay too. */
static int cloud_append(struct fc_cloud *c, int fd, const char *line, struct imc_err *err)
{
  char copy[FAKECLOUD_MAX_LINE];
  size_t n = strlen(line);
  ssize_t w;
  int r;

  if (n == 0 || n > sizeof copy || line[n - 1] != '\n')
    return imc_fail(err, IMC_E_INTERNAL, "FakeCloud: bad event line");
  do
    w = write(fd, line, n);
  while (w < 0 && errno == EINTR);
  if (w != (ssize_t)n) /* a short write is a torn line: the next writer cuts it off */
    return unreachable(err, "write", c->path, w < 0 ? errno : EIO);
  memcpy(copy, line, n - 1);
  copy[n - 1] = '\0';
  if ((r = state_apply(&c->st, copy, c->path, err)) != 0)
    return r; /* offset not advanced: the next catch-up reads the line from the file */
  c->st.offset += (off_t)n;
  return 0;
}

/* Formats an event line; the parts are bounded (ids, tokens, state names), so a line that
 * does not fit is a bug. */
static int format_event(char line[FAKECLOUD_MAX_LINE], struct imc_err *err, const char *fmt, ...)
  IMC_PRINTF(3, 4);

static int format_event(char line[FAKECLOUD_MAX_LINE], struct imc_err *err, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(line, FAKECLOUD_MAX_LINE, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= FAKECLOUD_MAX_LINE)
    return imc_fail(err, IMC_E_INTERNAL, "FakeCloud: event line too long");
  return 0;
}

/* --- the connector ---------------------------------------------------------------------- */

static int fc_open(void *vctx, const struct imc_auth_entry *auth, struct imc_http *http,
                   struct imc_err *err)
{
  struct fc_ctx *ctx = vctx;
  const char *user = auth ? imc_auth_get(auth, "username") : NULL;
  const char *pass = auth ? imc_auth_get(auth, "password") : NULL;
  const char *dir = auth ? imc_auth_get(auth, "host") : NULL;
  const char *every = auth ? imc_auth_get(auth, "fail_launch_every") : NULL;
  struct stat sb;

  if (!user || !*user || !pass || !*pass)
    return imc_fail(err, IMC_E_AUTH, "FakeCloud: missing credentials");
  if (!dir || !*dir)
    return imc_fail(err, IMC_E_AUTH, "FakeCloud: missing host (the cloud's directory)");
  if (stat(dir, &sb) != 0)
    return unreachable(err, "reach the cloud at", dir, errno);
  if (!S_ISDIR(sb.st_mode))
    return unreachable(err, "reach the cloud at", dir, ENOTDIR);
  if (every) {
    char *end;

    errno = 0;
    ctx->fail_every = strtoul(every, &end, 10);
    if (errno || end == every || *end || ctx->fail_every == 0 || !isdigit((unsigned char)*every))
      return imc_fail(err, IMC_E_INVAL, "FakeCloud: fail_launch_every must be a positive integer");
  }
  return cloud_get(dir, &ctx->cloud, err);
}

static void fc_close(void *vctx)
{
  struct fc_ctx *ctx = vctx;

  ctx->cloud = NULL; /* the replay stays for the next context */
}

static bool is_fake_image(const char *url)
{
  return strncmp(url, FC_IMAGE_SCHEME, strlen(FC_IMAGE_SCHEME)) == 0;
}

/* The system with its fake:// image, or with none.  Other images are another cloud's. */
static int fc_concrete(void *vctx, const struct imc_elem *system, struct imc_elem **out,
                       double *score, struct imc_err *err)
{
  const struct imc_feature *f = imc_features_get(&system->feats, "disk.0.image.url");
  const char *url = NULL;
  struct imc_elem *c;

  *out = NULL;
  if (f && f->type == IMC_V_STR && is_fake_image(f->str))
    url = f->str;
  for (size_t i = 0; f && f->type == IMC_V_LIST && !url && i < f->nlist; i++)
    if (is_fake_image(f->list[i]))
      url = f->list[i];
  if (f && !url)
    return imc_fail(err, IMC_E_NOTFOUND, "FakeCloud: system %s has no " FC_IMAGE_SCHEME " image",
                    system->id ? system->id : "");
  if (!(c = imc_elem_clone(system)))
    return nomem(err);
  /* From a list, the chosen image is the one the VM gets. */
  if (url && f->type == IMC_V_LIST && imc_features_set_str(&c->feats, "disk.0.image.url", url)) {
    imc_elem_free(c);
    return nomem(err);
  }
  *out = c;
  *score = url ? 1 : 0;
  return 0;
}

/* What the cloud reports of an instance: its id, the connector, its state and address. */
static int vm_fill(struct imc_vm *vm, const char *id, enum imc_vm_state state, struct imc_err *err)
{
  char ip[24];

  if (imc_vm_set(&vm->instance_id, id) || imc_vm_set(&vm->cloud_type, FC_NAME))
    return nomem(err);
  if (vm->system) {
    instance_ip(id, ip, sizeof ip);
    if (imc_features_set_str(&vm->system->feats, FC_IP_FEATURE, ip))
      return nomem(err);
  }
  vm->state = state;
  return 0;
}

static int fc_busy(struct imc_err *err)
{
  int r = imc_fail(err, IMC_E_CLOUD, "FakeCloud: no capacity (simulated)");

  if (err && err->code == IMC_E_CLOUD)
    err->retry = true;
  return r;
}

/* The VM is filled in before the create is written, so that no failure after it (memory)
 * can leave an instance the caller does not know of. */
static int fc_launch(void *vctx, const struct imc_launch *rq, struct imc_vm *vm,
                     struct imc_err *err)
{
  struct fc_ctx *ctx = vctx;
  struct fc_cloud *c = ctx->cloud;
  char id[FC_ID_LEN + 1], line[FAKECLOUD_MAX_LINE];
  bool refuse;
  int fd = -1, r;

  if (!token_valid(rq->client_token))
    return imc_fail(err, IMC_E_INVAL,
                    "FakeCloud: a launch needs a client token of 1 to %d "
                    "printable characters",
                    FC_MAX_TOKEN);
  if (!vm->system && rq->system && !(vm->system = imc_elem_clone(rq->system)))
    return nomem(err);
  if ((r = new_id(id, err)) != 0 || (r = vm_fill(vm, id, IMC_VM_PENDING, err)) != 0)
    goto undo;
  if ((r = cloud_begin(c, true, &fd, err)) == 0) {
    refuse = ctx->fail_every && (c->st.requests + 1) % ctx->fail_every == 0;
    if (state_find(&c->st, id))
      r = unreachable(err, "use a fresh instance id in", c->path, EEXIST);
    else if (refuse)
      r = format_event(line, err, "refuse %s\n", rq->client_token);
    else
      r = format_event(line, err, "create %s %s\n", id, rq->client_token);
    if (r == 0)
      r = cloud_append(c, fd, line, err);
    if (r == 0 && refuse)
      r = fc_busy(err);
  }
  cloud_end(fd);
  if (r == 0)
    return 0;
undo:
  imc_vm_set(&vm->instance_id, NULL);
  if (vm->system)
    imc_features_del(&vm->system->feats, FC_IP_FEATURE);
  return r;
}

static int no_instance(const struct imc_vm *vm, struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOTFOUND, "FakeCloud: VM %u has no instance", vm->id);
}

/* One look: a pending instance is running by now; one the cloud does not have is off. */
static int fc_update(void *vctx, struct imc_vm *vm, struct imc_err *err)
{
  struct fc_cloud *c = ((struct fc_ctx *)vctx)->cloud;
  char line[FAKECLOUD_MAX_LINE], id[FC_ID_LEN + 1] = "";
  enum imc_vm_state state = IMC_VM_OFF;
  struct fc_inst *in;
  int fd = -1, r;

  if (!vm->instance_id)
    return no_instance(vm, err);
  if ((r = cloud_begin(c, true, &fd, err)) == 0 && (in = state_live(&c->st, vm->instance_id))) {
    if (in->state == IMC_VM_PENDING && (r = format_event(line, err, "state %s %s\n", in->id,
                                                         imc_vm_state_name(IMC_VM_RUNNING))) == 0)
      r = cloud_append(c, fd, line, err);
    in = state_live(&c->st, vm->instance_id);
    state = in->state;
    memcpy(id, in->id, sizeof id);
  }
  cloud_end(fd);
  if (r)
    return r;
  if (*id)
    return vm_fill(vm, id, state, err);
  vm->state = state;
  return 0;
}

static int fc_finalize(void *vctx, struct imc_vm *vm, bool last, struct imc_err *err)
{
  struct fc_cloud *c = ((struct fc_ctx *)vctx)->cloud;
  char line[FAKECLOUD_MAX_LINE];
  int fd = -1, r;

  if (!vm->instance_id) { /* never launched: nothing to delete */
    vm->state = IMC_VM_OFF;
    return 0;
  }
  if ((r = cloud_begin(c, true, &fd, err)) == 0 && state_live(&c->st, vm->instance_id) &&
      (r = format_event(line, err, "delete %s\n", vm->instance_id)) == 0)
    r = cloud_append(c, fd, line, err);
  cloud_end(fd);
  if (r == 0)
    vm->state = IMC_VM_OFF;
  return r;
}

static const enum imc_vm_state power_state[] = {
  [IMC_POWER_START] = IMC_VM_RUNNING,
  [IMC_POWER_STOP] = IMC_VM_STOPPED,
  [IMC_POWER_REBOOT] = IMC_VM_RUNNING,
};

static int fc_power(void *vctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err)
{
  struct fc_cloud *c = ((struct fc_ctx *)vctx)->cloud;
  char line[FAKECLOUD_MAX_LINE];
  enum imc_vm_state state;
  int fd = -1, r;

  if ((unsigned)op >= sizeof power_state / sizeof power_state[0])
    return imc_fail(err, IMC_E_INVAL, "FakeCloud: unknown power operation");
  if (!vm->instance_id)
    return no_instance(vm, err);
  state = power_state[op];
  if ((r = cloud_begin(c, true, &fd, err)) == 0) {
    if (!state_live(&c->st, vm->instance_id))
      r = imc_fail(err, IMC_E_NOTFOUND, "FakeCloud: no instance %s", vm->instance_id);
    else if ((r = format_event(line, err, "state %s %s\n", vm->instance_id,
                               imc_vm_state_name(state))) == 0)
      r = cloud_append(c, fd, line, err);
  }
  cloud_end(fd);
  if (r == 0)
    vm->state = state;
  return r;
}

/* The live instance a launch with client_token created (the newest, should there be two). */
static int fc_find(void *vctx, const char *client_token, struct imc_vm *vm, struct imc_err *err)
{
  struct fc_cloud *c = ((struct fc_ctx *)vctx)->cloud;
  char id[FC_ID_LEN + 1] = "";
  enum imc_vm_state state = IMC_VM_PENDING;
  int fd = -1, r;

  if (!token_valid(client_token))
    return imc_fail(err, IMC_E_NOTFOUND, "FakeCloud: nothing was created with that client token");
  if ((r = cloud_begin(c, false, &fd, err)) == 0)
    for (size_t i = c->st.n; i-- > 0;)
      if (!c->st.v[i].deleted && strcmp(c->st.v[i].token, client_token) == 0) {
        memcpy(id, c->st.v[i].id, sizeof id);
        state = c->st.v[i].state;
        break;
      }
  cloud_end(fd);
  if (r)
    return r;
  if (!*id)
    return imc_fail(err, IMC_E_NOTFOUND, "FakeCloud: nothing was created with that client token");
  return vm_fill(vm, id, state, err);
}

const struct imc_connector imc_fake_cloud = {
  .name = FC_NAME,
  .abi = IMC_CONNECTOR_ABI,
  .caps = IMC_CAP_FIND | IMC_CAP_NO_CTXT, /* its addresses are never contacted */
  .ctx_size = sizeof(struct fc_ctx),
  .open = fc_open,
  .close = fc_close,
  .concrete = fc_concrete,
  .launch = fc_launch,
  .update = fc_update,
  .finalize = fc_finalize,
  .power = fc_power,
  .find = fc_find,
};

/* --- for tests -------------------------------------------------------------------------- */

void fakecloud_ids_free(char **ids, size_t n)
{
  if (!ids)
    return;
  for (size_t i = 0; i < n; i++)
    imc_free(ids[i]);
  imc_free(ids);
}

int fakecloud_live(const char *dir, char ***instances, size_t *n, struct imc_err *err)
{
  struct fc_state st;
  char *path = events_path(dir);
  char **ids = NULL;
  size_t k = 0, live = 0;
  int fd = -1, r = 0;

  *instances = NULL;
  *n = 0;
  state_init(&st);
  if (!path) {
    r = nomem(err);
    goto out;
  }
  if (access(path, F_OK) != 0 && errno == ENOENT)
    goto out; /* a cloud nothing was ever done on */
  if ((r = log_open(path, false, &fd, err)) != 0 ||
      (r = state_catch_up(&st, fd, path, false, err)) != 0)
    goto out;
  for (size_t i = 0; i < st.n; i++)
    live += !st.v[i].deleted;
  if (!(ids = imc_calloc(live ? live : 1, sizeof *ids))) {
    r = nomem(err);
    goto out;
  }
  for (size_t i = 0; i < st.n; i++)
    if (!st.v[i].deleted && !(ids[k++] = imc_strdup(st.v[i].id))) {
      r = nomem(err);
      goto out;
    }
  *instances = ids;
  *n = k;
  ids = NULL;
out:
  fakecloud_ids_free(ids, k);
  if (fd >= 0)
    close(fd);
  state_cleanup(&st);
  imc_free(path);
  return r;
}
