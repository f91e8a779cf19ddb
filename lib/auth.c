/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's authorisation data: the reader of auth files and headers (lines of `key = value` items,
 * or a JSON list of objects), lookups by id and type, IM's checks, and a redacting printer.
 *
 * The line syntax follows IM's read_auth_data: a line is stripped and split on `;` outside
 * quotes, an item on `=` outside quotes, quotes of either kind are removed, keys and values
 * are stripped (Python's whitespace), `\n` in a value becomes a newline.  Where IM silently
 * reads part of a line or reads it otherwise than it looks (an item without `=` or with a
 * second one, `key =` with no value, an empty item before others, a quote never closed) this
 * reader fails with the line and column instead.  A client also resolves im-client's file()
 * and command() values; a server refuses them.  Values are credentials: they are wiped when
 * freed, and no message of this file ever quotes one (keys, paths, commands, lines and
 * columns only).  The JSON form, read and written, is in auth_json.c. */
#include "imc/auth.h"
#include "imc/utf8.h"
#include "imc/alloc.h"
#include "auth_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Largest auth file or header read, and largest file a file() value may name (a proxy
 * certificate or a private key is a few kB). */
#define AUTH_MAX_TEXT (4u * 1024 * 1024)
#define AUTH_MAX_FILE (1u * 1024 * 1024)

/* --- entries ------------------------------------------------------------------------------ */

void imc_auth_init(struct imc_auth *a)
{
  a->entries = NULL;
  a->n = a->cap = 0;
}

static void entry_cleanup(struct imc_auth_entry *e)
{
  for (size_t i = 0; i < e->n; i++) {
    imc_free(e->kv[i].key);
    imc_free_secret(e->kv[i].value);
  }
  imc_free(e->kv);
  e->kv = NULL;
  e->n = e->cap = 0;
}

/* Frees the entries from index keep on: a failed parse leaves *a as it found it. */
static void truncate_entries(struct imc_auth *a, size_t keep)
{
  while (a->n > keep)
    entry_cleanup(&a->entries[--a->n]);
}

void imc_auth_cleanup(struct imc_auth *a)
{
  truncate_entries(a, 0);
  imc_free(a->entries);
  imc_auth_init(a);
}

struct imc_auth_entry *imc_auth_add_entry(struct imc_auth *a)
{
  struct imc_auth_entry *e;

  if (imc_grow((void **)&a->entries, &a->cap, a->n + 1, sizeof *a->entries))
    return NULL;
  e = &a->entries[a->n++];
  e->kv = NULL;
  e->n = e->cap = 0;
  e->line = 0;
  return e;
}

static struct imc_auth_kv *find_kv(const struct imc_auth_entry *e, const char *key)
{
  for (size_t i = 0; i < e->n; i++)
    if (strcmp(e->kv[i].key, key) == 0)
      return &e->kv[i];
  return NULL;
}

/* Sets key to value in e, taking both strings: they belong to e on success and are freed
 * on failure.  A key already there keeps its place and gets the new value, as a Python dict
 * does in IM. */
int auth_entry_put(struct imc_auth_entry *e, char *key, char *value)
{
  struct imc_auth_kv *kv = find_kv(e, key);

  if (kv) {
    imc_free(key);
    imc_free_secret(kv->value);
    kv->value = value;
    return 0;
  }
  if (imc_grow((void **)&e->kv, &e->cap, e->n + 1, sizeof *e->kv)) {
    imc_free(key);
    imc_free_secret(value);
    return IMC_E_NOMEM;
  }
  e->kv[e->n].key = key;
  e->kv[e->n].value = value;
  e->n++;
  return 0;
}

int imc_auth_entry_set(struct imc_auth_entry *e, const char *key, const char *value)
{
  struct imc_auth_kv *kv = find_kv(e, key);
  char *k, *v = imc_strdup(value);

  if (!v)
    return IMC_E_NOMEM;
  if (kv) {
    imc_free_secret(kv->value);
    kv->value = v;
    return 0;
  }
  if (!(k = imc_strdup(key))) {
    imc_free_secret(v);
    return IMC_E_NOMEM;
  }
  return auth_entry_put(e, k, v);
}

/* --- lookups ------------------------------------------------------------------------------ */

const char *imc_auth_get(const struct imc_auth_entry *e, const char *key)
{
  const struct imc_auth_kv *kv = find_kv(e, key);

  return kv ? kv->value : NULL;
}

const struct imc_auth_entry *imc_auth_by_id(const struct imc_auth *a, const char *id)
{
  for (size_t i = 0; i < a->n; i++) {
    const char *v = imc_auth_get(&a->entries[i], "id");

    if (v && strcmp(v, id) == 0)
      return &a->entries[i];
  }
  return NULL;
}

/* As IM's getAuthInfo, an empty host filters nothing, so entries without a host match too. */
const struct imc_auth_entry *imc_auth_next_of_type(const struct imc_auth *a, const char *type,
                                                   const char *host, size_t *pos)
{
  for (size_t i = *pos; i < a->n; i++) {
    const struct imc_auth_entry *e = &a->entries[i];
    const char *t = imc_auth_get(e, "type"), *h;

    if (!t || strcmp(t, type) != 0)
      continue;
    if (host && *host && (!(h = imc_auth_get(e, "host")) || !strstr(h, host)))
      continue;
    *pos = i + 1;
    return e;
  }
  *pos = a->n;
  return NULL;
}

/* --- bytes, positions, secret files ------------------------------------------------------- */

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Python's str.isspace(), which str.strip() uses: the ASCII blanks and separators and the
 * Unicode spaces (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000).  A no-break space pasted after a password is stripped by IM, so here too. */
static bool py_space_cp(uint32_t c)
{
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

/* The code point of the UTF-8 sequence of len bytes at p (already checked as UTF-8). */
static uint32_t code_point(const unsigned char *p, size_t len)
{
  static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  uint32_t c = p[0] & lead_mask[len];

  for (size_t i = 1; i < len; i++)
    c = (c << 6) | (p[i] & 0x3F);
  return c;
}

/* Length of the Python whitespace character starting at p (before end), or 0. */
static size_t py_space_at(const char *p, const char *end)
{
  size_t len = p < end ? imc_utf8_seq((const unsigned char *)p, (size_t)(end - p)) : 0;

  return len && py_space_cp(code_point((const unsigned char *)p, len)) ? len : 0;
}

/* Length of the Python whitespace character ending at end (after begin), or 0. */
static size_t py_space_before(const char *begin, const char *end)
{
  const char *p = end;

  while (p > begin && end - p < 4) {
    p--;
    if (((unsigned char)*p & 0xC0) != 0x80)
      return py_space_at(p, end) == (size_t)(end - p) ? (size_t)(end - p) : 0;
  }
  return 0;
}

/* Python's lstrip() and rstrip() on [p, end). */
static const char *skip_space(const char *p, const char *end)
{
  size_t n;

  while ((n = py_space_at(p, end)) > 0)
    p += n;
  return p;
}

static const char *trim_space(const char *p, const char *end)
{
  size_t n;

  while ((n = py_space_before(p, end)) > 0)
    end -= n;
  return end;
}

/* Python's strip() of the NUL-terminated s, in place; what it drops is wiped (a value is a
 * secret as often as not). */
static void strip_secret(char *s)
{
  size_t len = strlen(s);
  const char *b = skip_space(s, s + len), *e = trim_space(b, s + len);

  memmove(s, b, (size_t)(e - b));
  explicit_bzero(s + (e - b), len - (size_t)(e - b));
}

/* Offset of the first NUL byte or invalid UTF-8 sequence in s, or n when there is none. */
size_t auth_first_bad_byte(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, len;

  while (i < n) {
    if (p[i] == '\0' || !(len = imc_utf8_seq(p + i, n - i)))
      return i;
    i += len;
  }
  return n;
}

/* 1-based column of at on the line starting at bol, counting UTF-8 code points. */
static int column(const char *bol, const char *at)
{
  int col = 1;

  for (; bol < at; bol++)
    if (((unsigned char)*bol & 0xC0) != 0x80)
      col++;
  return col;
}

/* End of the line starting at p (its \n, \r or \r\n: Python's universal newlines), and the
 * start of the next one in *next. */
static const char *line_end(const char *p, const char *end, const char **next)
{
  while (p < end && *p != '\n' && *p != '\r')
    p++;
  *next = p;
  if (p < end)
    *next = (*p == '\r' && p + 1 < end && p[1] == '\n') ? p + 2 : p + 1;
  return p;
}

/* Fails on a NUL byte or a byte that is not UTF-8, giving its line and column (IM reads auth
 * files as UTF-8 text and refuses them too). */
static int check_bytes(struct rd *rd, const char *text, size_t len)
{
  size_t bad = auth_first_bad_byte(text, len);
  const char *at = text + bad, *next, *p = text;

  if (bad == len)
    return 0;
  for (rd->line = 1; line_end(p, text + len, &next) < at; p = next)
    rd->line++;
  return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(p, at), "%s",
                     *at ? "invalid UTF-8 in auth data" : "NUL byte in auth data");
}

/* Replaces *buf (of capacity *cap, holding len bytes) by a larger copy and wipes the old one,
 * so that no stray copy of a key file stays behind in freed memory.  The capacity stops at
 * max + 2: room to read one byte past max, and to know then that the file is too big. */
static int grow_secret(char **buf, size_t len, size_t *cap, size_t max)
{
  size_t ncap = *cap ? *cap * 2 : 4096;
  char *nb;

  if (ncap > max + 2)
    ncap = max + 2;
  if (!(nb = imc_malloc(ncap)))
    return IMC_E_NOMEM;
  if (*buf) {
    memcpy(nb, *buf, len);
    explicit_bzero(*buf, *cap);
    imc_free(*buf);
  }
  *buf = nb;
  *cap = ncap;
  return 0;
}

/* Reads the file at path, up to max bytes, into a new NUL-terminated string the caller wipes
 * and frees.  Returns 0, IMC_E_IO (the reason in *errnum), IMC_E_TOOBIG or IMC_E_NOMEM.  Any
 * file that read() serves works (a pipe from a password manager too): a FIFO with no writer
 * blocks, as it does for any reader. */
static int read_secret(const char *path, size_t max, char **out, size_t *out_len, int *errnum)
{
  char *buf = NULL;
  size_t len = 0, cap = 0;
  struct stat st;
  int fd, r = 0;

  *out = NULL;
  *errnum = 0;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
    *errnum = errno;
    return IMC_E_IO;
  }
  /* A regular file is read in one allocation: its size, a byte to see the end, the NUL. */
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size < max) {
    cap = (size_t)st.st_size + 2;
    if (!(buf = imc_malloc(cap))) {
      r = IMC_E_NOMEM;
      goto out;
    }
  }
  for (;;) {
    ssize_t got;

    if (cap - len < 2 && (r = grow_secret(&buf, len, &cap, max)) != 0)
      goto out;
    got = read(fd, buf + len, cap - len - 1);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      *errnum = errno;
      r = IMC_E_IO;
      goto out;
    }
    if (got == 0)
      break;
    len += (size_t)got;
    if (len > max) {
      r = IMC_E_TOOBIG;
      goto out;
    }
  }
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  buf = NULL; /* transferred */
out:
  if (buf) {
    explicit_bzero(buf, cap);
    imc_free(buf);
  }
  close(fd);
  return r;
}

/* --- file() values ------------------------------------------------------------------------ */

/* IM's test: the whole value reads file(...), quotes already removed. */
static bool is_file_ref(const char *v)
{
  size_t n = strlen(v);

  return n >= 6 && memcmp(v, "file(", 5) == 0 && v[n - 1] == ')';
}

/* Fails for the errors read_secret() reports, naming the key and the path (a path is not a
 * credential; the file's contents are). */
static int file_error(struct rd *rd, int r, int errnum, const char *key, const char *path, int col)
{
  if (r == IMC_E_NOMEM)
    return imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
  if (r == IMC_E_TOOBIG)
    return imc_fail_at(rd->err, IMC_E_TOOBIG, rd->source, rd->line, col,
                       "the file() of \"%.64s\" is larger than %u bytes: %s", key, AUTH_MAX_FILE,
                       path);
  return imc_fail_at(rd->err, IMC_E_IO, rd->source, rd->line, col,
                     "cannot read the file() of \"%.64s\": %s: %s", key, path, strerror(errnum));
}

/* A client replaces file(PATH) by the file's contents, stripped as im-client strips them. */
static int resolve_file(struct rd *rd, const char *key, char **value, int col)
{
  char *v = *value, *data = NULL;
  size_t n = strlen(v), len = 0;
  int r, errnum;

  v[n - 1] = '\0'; /* the path is v + 5, up to the closing parenthesis */
  if (n == 6)
    r = imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, col,
                    "the file() of \"%.64s\" names no file", key);
  else if ((r = read_secret(v + 5, AUTH_MAX_FILE, &data, &len, &errnum)) != 0)
    r = file_error(rd, r, errnum, key, v + 5, col);
  else if (auth_first_bad_byte(data, len) != len)
    r = imc_fail_at(rd->err, IMC_E_AUTH, rd->source, rd->line, col,
                    "the file() of \"%.64s\" is not UTF-8 text: %s", key, v + 5);
  v[n - 1] = ')';
  if (r) {
    imc_free_secret(data);
    return r;
  }
  strip_secret(data); /* im-client strips what it reads */
  imc_free_secret(v);
  *value = data;
  return 0;
}

/* --- command() values --------------------------------------------------------------------- */

/* How much of a command and of its error output a message shows. */
#define AUTH_SHOW_COMMAND 100
#define AUTH_SHOW_STDERR  160

extern char **environ;

/* im-client's test: the whole value reads command(...), quotes already removed. */
static bool is_command_ref(const char *v)
{
  size_t n = strlen(v);

  return n >= 9 && memcmp(v, "command(", 8) == 0 && v[n - 1] == ')';
}

/* What a command gave: its standard output (a secret) and the start of its error output. */
struct cmd_run {
  char *out;
  size_t len, cap;
  char err[AUTH_SHOW_STDERR + 1];
  size_t elen;
  int status; /* waitpid()'s */
};

/* argv for cmd as im-client's cmd.split(' '): each single space separates, so two spaces
 * give an empty argument; no shell, no quoting.  *argv (caller frees with imc_free) points
 * into cmd, which is cut in place. */
static int split_command(char *cmd, char ***argv)
{
  size_t n = 2;
  char **v;

  for (const char *p = cmd; *p; p++)
    n += *p == ' ';
  if (!(v = imc_calloc(n, sizeof *v)))
    return IMC_E_NOMEM;
  n = 0;
  v[n++] = cmd;
  for (char *p = cmd; *p; p++) {
    if (*p == ' ') {
      *p = '\0';
      v[n++] = p + 1;
    }
  }
  *argv = v;
  return 0;
}

/* Starts argv[0], looked up in PATH as Popen does, with its output and error output on the
 * given pipe ends, the caller's standard input (a password manager may prompt), and SIGPIPE
 * back to its default.  Returns 0 or an errno value (ENOENT: no such command). */
static int spawn_command(char **argv, int out_fd, int err_fd, pid_t *pid)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t def, none;
  int r;

  if ((r = posix_spawn_file_actions_init(&fa)) != 0)
    return r;
  if ((r = posix_spawnattr_init(&attr)) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return r;
  }
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  if ((r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO)) == 0 &&
      (r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO)) == 0 &&
      (r = posix_spawnattr_setsigdefault(&attr, &def)) == 0 &&
      (r = posix_spawnattr_setsigmask(&attr, &none)) == 0 &&
      (r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) == 0)
    r = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  return r;
}

/* Reads what fd has: the output into run->out (wiped whenever it moves, IMC_E_TOOBIG past
 * AUTH_MAX_FILE), or the error output, of which the start is kept and the rest dropped.
 * *eof is set at the end of the stream.  0, or an imc code with *errnum for IMC_E_IO. */
static int read_ready(int fd, bool is_out, struct cmd_run *run, bool *eof, int *errnum)
{
  char chunk[4096], *dst = chunk;
  size_t room = sizeof chunk, keep;
  ssize_t got;
  int r;

  if (is_out) {
    if (run->cap - run->len < 2 &&
        (r = grow_secret(&run->out, run->len, &run->cap, AUTH_MAX_FILE)) != 0)
      return r;
    dst = run->out + run->len;
    room = run->cap - run->len - 1; /* one byte for the NUL */
  }
  do
    got = read(fd, dst, room);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    *errnum = errno;
    return IMC_E_IO;
  }
  *eof = got == 0;
  if (is_out) {
    run->len += (size_t)got;
    return run->len > AUTH_MAX_FILE ? IMC_E_TOOBIG : 0;
  }
  keep = AUTH_SHOW_STDERR - run->elen < (size_t)got ? AUTH_SHOW_STDERR - run->elen : (size_t)got;
  memcpy(run->err + run->elen, chunk, keep);
  run->elen += keep;
  return 0;
}

/* Reads both pipes until both end (as Popen.communicate(): reading one alone could leave the
 * command blocked on writing the other). */
static int collect(int out_fd, int err_fd, struct cmd_run *run, int *errnum)
{
  struct pollfd pf[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
  int r = 0;

  while (r == 0 && (pf[0].fd >= 0 || pf[1].fd >= 0)) {
    if (poll(pf, 2, -1) < 0) {
      if (errno != EINTR) {
        *errnum = errno;
        r = IMC_E_IO;
      }
      continue;
    }
    for (int i = 0; r == 0 && i < 2; i++) {
      bool eof = false;

      if (pf[i].fd < 0 || pf[i].revents == 0)
        continue;
      r = read_ready(pf[i].fd, i == 0, run, &eof, errnum);
      if (eof)
        pf[i].fd = -1; /* poll() skips it from now on; the caller closes it */
    }
  }
  return r;
}

static void close_fds(int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

/* Runs argv and waits for it; run->status is set whenever it started.  0, or IMC_E_IO (with
 * *errnum: it could not start, or its output could not be read), IMC_E_TOOBIG or IMC_E_NOMEM.
 * On a failure while it runs it is killed: nothing reads its output any more. */
static int run_command(char **argv, struct cmd_run *run, int *errnum)
{
  int fds[4] = {-1, -1, -1, -1}, r; /* output read, write; error read, write */
  pid_t pid;

  if (pipe2(fds, O_CLOEXEC) != 0 || pipe2(fds + 2, O_CLOEXEC) != 0) {
    *errnum = errno;
    close_fds(fds, 4);
    return IMC_E_IO;
  }
  if ((*errnum = spawn_command(argv, fds[1], fds[3], &pid)) != 0) {
    close_fds(fds, 4);
    return IMC_E_IO;
  }
  close(fds[1]); /* the child's ends: their last holder exiting is the end of the streams */
  close(fds[3]);
  fds[1] = fds[3] = -1;
  r = collect(fds[0], fds[2], run, errnum);
  if (r)
    kill(pid, SIGKILL);
  while (waitpid(pid, &run->status, 0) < 0 && errno == EINTR)
    ;
  close_fds(fds, 4);
  return r;
}

/* Copies n bytes of s into out (size bytes) for a message: UTF-8 text kept, line ends and
 * tabs as spaces, other control characters and bytes that are not UTF-8 as '?', trailing
 * blanks dropped, cut between characters. */
static void message_text(char *out, size_t size, const char *s, size_t n)
{
  size_t o = 0, k;

  for (size_t i = 0; i < n; i += k) {
    unsigned char c = (unsigned char)s[i];

    k = imc_utf8_seq((const unsigned char *)s + i, n - i);
    if (k == 0 || c < 0x20 || c == 0x7F) {
      if (o + 1 >= size)
        break;
      out[o++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : '?';
      k = 1;
      continue;
    }
    if (o + k >= size)
      break;
    memcpy(out + o, s + i, k);
    o += k;
  }
  while (o > 0 && out[o - 1] == ' ')
    o--;
  out[o] = '\0';
}

/* Fails for a command that ran and failed.  im-client quotes its error output, or else its
 * output; the output is the credential when the command half worked, so it is never shown:
 * without error output the message gives the exit status. */
static int command_failed(struct rd *rd, const char *key, const char *shown,
                          const struct cmd_run *run, int col)
{
  char why[AUTH_SHOW_STDERR + 1];

  message_text(why, sizeof why, run->err, run->elen);
  if (!*why && WIFSIGNALED(run->status))
    snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(run->status));
  else if (!*why)
    snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(run->status));
  return imc_fail_at(rd->err, IMC_E_IO, rd->source, rd->line, col,
                     "Failed to get auth value of \"%.64s\" using command %s: %s", key, shown, why);
}

/* A client replaces command(CMD) by what CMD prints, every newline removed (im-client's
 * _run_command).  Only keys, the command and its error output reach a message. */
static int resolve_command(struct rd *rd, const char *key, char **value, int col)
{
  const char *v = *value;
  size_t n = strlen(v);
  char shown[AUTH_SHOW_COMMAND + 1], *cmd = NULL, **argv = NULL, *w;
  struct cmd_run run = {.out = NULL};
  int r, errnum = 0;

  message_text(shown, sizeof shown, v + 8, n - 9);
  if (n == 9) {
    r = imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, col,
                    "the command() of \"%.64s\" names no command", key);
    goto out;
  }
  if (!(cmd = imc_strndup(v + 8, n - 9)) || split_command(cmd, &argv) != 0) {
    r = imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
    goto out;
  }
  r = run_command(argv, &run, &errnum);
  if (r == IMC_E_IO)
    r = imc_fail_at(rd->err, IMC_E_IO, rd->source, rd->line, col,
                    "Failed to get auth value of \"%.64s\" using command %s: %s", key, shown,
                    strerror(errnum));
  else if (r == IMC_E_TOOBIG)
    r = imc_fail_at(rd->err, IMC_E_TOOBIG, rd->source, rd->line, col,
                    "the output of command %s for \"%.64s\" is larger than %u bytes", shown, key,
                    AUTH_MAX_FILE);
  else if (r)
    r = imc_fail(rd->err, r, "out of memory reading auth data");
  else if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0)
    r = command_failed(rd, key, shown, &run, col);
  else if (!run.out && grow_secret(&run.out, 0, &run.cap, AUTH_MAX_FILE) != 0)
    r = imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
  else if (auth_first_bad_byte(run.out, run.len) != run.len)
    r = imc_fail_at(rd->err, IMC_E_AUTH, rd->source, rd->line, col,
                    "the output of command %s for \"%.64s\" is not UTF-8 text", shown, key);
  if (r)
    goto out;
  w = run.out;
  for (size_t i = 0; i < run.len; i++)
    if (run.out[i] != '\n')
      *w++ = run.out[i];
  explicit_bzero(w, run.cap - (size_t)(w - run.out)); /* also the NUL */
  imc_free_secret(*value);
  *value = run.out;
  run.out = NULL; /* transferred */
out:
  if (run.out) {
    explicit_bzero(run.out, run.cap);
    imc_free(run.out);
  }
  imc_free(argv);
  imc_free(cmd);
  return r;
}

/* --- file() and command() ----------------------------------------------------------------- */

/* The two values a client resolves.  IM's server reads file() itself, which lets a caller
 * make it read any path; command() would let a caller run programs.  A server refuses both. */
static const struct {
  const char *name;
  bool (*is_ref)(const char *v);
  int (*resolve)(struct rd *rd, const char *key, char **value, int col);
} resolvers[] = {
  {"file", is_file_ref, resolve_file},
  {"command", is_command_ref, resolve_command},
};

int auth_resolve_file(struct rd *rd, const char *key, char **value, int col)
{
  for (size_t i = 0; i < sizeof resolvers / sizeof resolvers[0]; i++) {
    if (!resolvers[i].is_ref(*value))
      continue;
    if (rd->side == IMC_AUTH_SERVER)
      return imc_fail_at(rd->err, IMC_E_AUTH, rd->source, rd->line, col,
                         "the value of \"%.64s\" is a %s() reference: %s() references are "
                         "not allowed in auth data sent to the server",
                         key, resolvers[i].name, resolvers[i].name);
    return resolvers[i].resolve(rd, key, value, col);
  }
  return 0;
}

/* --- the line form ------------------------------------------------------------------------ */

/* Copies [p, end) without its quote characters: a quote opens a span that only the same kind
 * closes, and the other kind is kept inside it.  The scan has already checked that every
 * quote is closed.  NULL when out of memory. */
static char *unquote(const char *p, const char *end)
{
  char *s = imc_malloc((size_t)(end - p) + 1), *w = s, q = 0;

  if (!s)
    return NULL;
  for (; p < end; p++) {
    if (q ? *p == q : (*p == '\'' || *p == '"'))
      q = q ? 0 : *p;
    else
      *w++ = *p;
  }
  *w = '\0';
  return s;
}

/* Turns each two-character `\n` into a newline, in place, left to right (as Python's
 * str.replace, so `\\n` gives a backslash and a newline). */
static void unescape_newlines(char *s)
{
  char *w = s;

  for (; *s; s++) {
    if (s[0] == '\\' && s[1] == 'n') {
      *w++ = '\n';
      s++;
    } else {
      *w++ = *s;
    }
  }
  *w = '\0';
}

/* One item of a line: [p, stop), its first and second `=` outside quotes (NULL when none),
 * and whether it holds any quote at all (IM's has_quotes). */
struct item {
  const char *p, *stop, *eq, *eq2;
  bool quoted;
};

/* Finds the end of the item starting at p (the next `;` outside quotes, or the end of the
 * line) and its `=` signs.  A quote still open at the end of the line is an error: IM would
 * take the rest of the line, `;` and all, as one value. */
static int scan_item(struct rd *rd, const char *p, const char *end, struct item *it)
{
  const char *open = NULL;

  *it = (struct item){.p = p};
  for (; p < end; p++) {
    if (open) {
      if (*p == *open)
        open = NULL;
    } else if (*p == '\'' || *p == '"') {
      open = p;
      it->quoted = true;
    } else if (*p == ';') {
      break;
    } else if (*p == '=' && !it->eq) {
      it->eq = p;
    } else if (*p == '=' && !it->eq2) {
      it->eq2 = p;
    }
  }
  if (open)
    return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, open),
                       "this %s quote is never closed on its line",
                       *open == '\'' ? "single" : "double");
  it->stop = p;
  return 0;
}

/* IM reads `key = value` as Python's split on `=` outside quotes, needing exactly two parts,
 * and quietly stops reading the line at an item that does not split so.  Where that would
 * silently change the credentials (the rest of the line lost, `a=b=` read as "b"), this
 * reader fails at the item instead.  Returns 0 when the item reads as it does in IM. */
static int check_item(struct rd *rd, const struct item *it)
{
  const char *b = skip_space(it->p, it->stop);

  if (!it->eq)
    return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, b),
                       "expected 'key = value' (this item has no '=')");
  if (it->eq2)
    return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, it->eq2),
                       "a second '=' outside quotes: quote a value that holds '='");
  /* Python's split drops a blank last part unless the item has quotes: IM then has one part
   * and skips the rest of the line.  `a = ''` is the empty value. */
  if (!it->quoted && skip_space(it->eq + 1, it->stop) == it->stop)
    return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, it->eq),
                       "no value after '=' (write '' for an empty value)");
  return 0;
}

/* Reads one `key = value` item into e.  As in IM, quotes are removed first, then blanks are
 * stripped from both sides (so `' x '` is "x"), then `\n` in the value becomes a newline. */
static int read_item(struct rd *rd, struct imc_auth_entry *e, const struct item *it)
{
  const char *kb = skip_space(it->p, it->eq), *vb = skip_space(it->eq + 1, it->stop);
  char *key = unquote(kb, it->eq), *value = NULL;
  int r;

  if (!key || !(value = unquote(vb, it->stop))) {
    r = imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
    goto fail;
  }
  strip_secret(key);
  strip_secret(value);
  if (!*key) {
    r = imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, it->eq),
                    "no key before '='");
    goto fail;
  }
  unescape_newlines(value);
  if ((r = auth_resolve_file(rd, key, &value, column(rd->bol, vb))) != 0)
    goto fail;
  if ((r = auth_entry_put(e, key, value)) != 0)
    return imc_fail(rd->err, r, "out of memory reading auth data");
  return 0;
fail:
  imc_free(key);
  imc_free_secret(value);
  return r;
}

/* Reads one line, [p, end) already stripped, not blank and not a comment, as a new entry.
 * Blank items at the end (`a = 1;` or `a = 1; ;`) are nothing; a blank item before another
 * one is an error, since IM stops reading its line at the blank one. */
static int read_line(struct rd *rd, struct imc_auth *a, const char *p, const char *end)
{
  struct imc_auth_entry *e = imc_auth_add_entry(a);
  const char *blank = NULL;
  struct item it;
  int r;

  if (!e)
    return imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
  e->line = rd->line;
  for (;; p = it.stop + 1) {
    if ((r = scan_item(rd, p, end, &it)) != 0)
      return r;
    if (skip_space(p, it.stop) == it.stop) {
      blank = blank ? blank : p;
    } else if (blank) {
      return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, blank),
                         "empty item: IM ignores the rest of the line after it (remove the "
                         "extra ';')");
    } else if ((r = check_item(rd, &it)) != 0 || (r = read_item(rd, e, &it)) != 0) {
      return r;
    }
    if (it.stop == end)
      return 0;
  }
}

static int read_lines(struct rd *rd, struct imc_auth *a, const char *text, size_t len)
{
  const char *end = text + len, *p, *eol, *next;
  int r;

  rd->line = 0;
  for (p = text; p < end; p = next) {
    const char *b, *e;

    eol = line_end(p, end, &next);
    rd->line++;
    rd->bol = p;
    b = skip_space(p, eol);
    e = trim_space(b, eol);
    if (b == e || *b == '#')
      continue;
    if ((r = read_line(rd, a, b, e)) != 0)
      return r;
  }
  return 0;
}

/* --- parsing ------------------------------------------------------------------------------ */

int imc_auth_parse(const char *source, const char *text, size_t len, enum imc_auth_side side,
                   struct imc_auth *a, struct imc_err *err)
{
  struct rd rd = {.source = source, .side = side, .err = err, .line = 1, .bol = text};
  size_t keep = a->n;
  const char *first;
  int r;

  if (len > AUTH_MAX_TEXT)
    return imc_fail(err, IMC_E_TOOBIG, "%s: auth data larger than the limit of %u bytes",
                    source ? source : "auth data", AUTH_MAX_TEXT);
  if (len == 0)
    return 0;
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a byte-order mark */
    text += 3;
    len -= 3;
  }
  if ((r = check_bytes(&rd, text, len)) != 0)
    return r;
  /* IM tries JSON first.  No valid line starts with `[` or `{` in practice, and every other
   * JSON text (a number, a string) is not a valid line either, so the first character
   * decides which error a broken text gets. */
  first = text;
  while (first < text + len && (is_space(*first) || *first == '\n'))
    first++;
  if (first < text + len && (*first == '[' || *first == '{'))
    r = auth_read_json(&rd, a, text, len);
  else
    r = read_lines(&rd, a, text, len);
  if (r)
    truncate_entries(a, keep);
  return r;
}

int imc_auth_parse_file(const char *path, enum imc_auth_side side, struct imc_auth *a,
                        struct imc_err *err)
{
  char *text = NULL;
  size_t len = 0;
  int r, errnum;

  r = read_secret(path, AUTH_MAX_TEXT, &text, &len, &errnum);
  if (r == IMC_E_IO)
    return imc_fail(err, IMC_E_IO, "%s: %s", path, strerror(errnum));
  if (r == IMC_E_TOOBIG)
    return imc_fail(err, IMC_E_TOOBIG, "%s: auth data larger than the limit of %u bytes", path,
                    AUTH_MAX_TEXT);
  if (r)
    return imc_fail(err, r, "%s: out of memory", path);
  r = imc_auth_parse(path, text, len, side, a, err);
  explicit_bzero(text, len);
  imc_free(text);
  return r;
}

/* --- checks ------------------------------------------------------------------------------- */

/* IM's id pattern, [a-zA-Z_.][\w\d_.-]*, on the whole value (ASCII only: Python's \w would also
 * take non-ASCII letters). */
static bool id_valid(const char *id)
{
  static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.";
  static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.0123456789-";

  return *id && strchr(first, *id) && strspn(id, rest) == strlen(id);
}

/* Fails for entry i, naming its line (or its place in the list when it was built in code). */
static int entry_fail(struct imc_err *err, const struct imc_auth_entry *e, size_t i,
                      const char *what)
{
  if (e->line > 0)
    return imc_fail(err, IMC_E_AUTH, "auth entry at line %d %s", e->line, what);
  return imc_fail(err, IMC_E_AUTH, "auth entry %zu %s", i + 1, what);
}

int imc_auth_check(const struct imc_auth *a, struct imc_err *err)
{
  for (size_t i = 0; i < a->n; i++) {
    const struct imc_auth_entry *e = &a->entries[i];
    const char *id = imc_auth_get(e, "id"), *type = imc_auth_get(e, "type");

    /* IM checks an id only when it is not empty: `id = ''` is accepted. */
    if (id && *id && !id_valid(id))
      return entry_fail(err, e, i, "has an invalid id (it must match [a-zA-Z_.][A-Za-z0-9_.-]*)");
    if (!type || !*type)
      return entry_fail(err, e, i, "has no type");
  }
  return 0;
}

/* --- secrets and printing ----------------------------------------------------------------- */

/* Keys whose values are credentials in IM's connectors: OpenStack's `key` (old EC2-style
 * secret) and `auth_token`, Azure's `secret`, GCE's and Docker's `private_key`, OCCI's and
 * OpenStack VOMS's `proxy`, LibCloud driver arguments (`key`, `secret`, `api_key`), tokens of
 * the IM, EGI, Kubernetes, Vault and EC2 STS. */
static const char *const secret_keys[] = {
  "key", "proxy", "api_key", "apikey", "credentials",
};

/* Any key with one of these inside, whatever its case (password, token, private_key,
 * secret_key, client_secret, auth_token, access_token, passphrase, ...). */
static const char *const secret_parts[] = {
  "password", "passwd", "token", "secret", "private", "passphrase",
};

bool imc_auth_key_is_secret(const char *key)
{
  if (!key)
    return false;
  for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++)
    if (strcasecmp(key, secret_keys[i]) == 0)
      return true;
  for (size_t i = 0; i < sizeof secret_parts / sizeof secret_parts[0]; i++)
    if (strcasestr(key, secret_parts[i]))
      return true;
  return false;
}
