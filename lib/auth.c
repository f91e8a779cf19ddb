/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's authorisation data: the reader of auth files and headers (lines of `key = value` items,
 * or a JSON list of objects), lookups by id and type, IM's checks, and a redacting printer.
 *
 * The line syntax follows IM's read_auth_data: a line is split on `;` outside quotes, an item
 * on `=` outside quotes, quotes of either kind are removed, `\n` becomes a newline.  Where IM
 * silently reads part of a line (an item without `=`, a quote never closed) this reader fails
 * with the line and column instead.  Values are credentials: they are wiped when freed, and
 * no message of this file ever quotes one (keys, lines and columns only).  The JSON form,
 * read and written, is in auth_json.c. */
#include "imc/auth.h"
#include "imc/utf8.h"
#include "imc/alloc.h"
#include "auth_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
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

/* Trims whitespace around the contents in place and wipes what trimming drops: a password
 * file written by `echo` ends in a newline that is not part of the password (im-client
 * strips file contents too). */
static void trim_secret(char *s, size_t len)
{
  size_t b = 0, e = len;

  while (b < e && (is_space(s[b]) || s[b] == '\n'))
    b++;
  while (e > b && (is_space(s[e - 1]) || s[e - 1] == '\n'))
    e--;
  memmove(s, s + b, e - b);
  explicit_bzero(s + (e - b), len - (e - b));
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

/* Resolves a file(PATH) value: a client replaces it by the file's contents, trimmed; a server
 * refuses it (IM's server reads the file, which lets a caller make it read any path).  Other
 * values are left alone.  col is where the value starts, for messages. */
int auth_resolve_file(struct rd *rd, const char *key, char **value, int col)
{
  char *v = *value, *data = NULL;
  size_t n, len = 0;
  int r, errnum;

  if (!is_file_ref(v))
    return 0;
  if (rd->side == IMC_AUTH_SERVER)
    return imc_fail_at(rd->err, IMC_E_AUTH, rd->source, rd->line, col,
                       "the value of \"%.64s\" is a file() reference: file() references are not "
                       "allowed in auth data sent to the server",
                       key);
  n = strlen(v);
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
  trim_secret(data, len);
  imc_free_secret(v);
  *value = data;
  return 0;
}

/* --- the line form ------------------------------------------------------------------------ */

static const char *skip_space(const char *p, const char *end)
{
  while (p < end && is_space(*p))
    p++;
  return p;
}

static const char *trim_space(const char *p, const char *end)
{
  while (end > p && is_space(end[-1]))
    end--;
  return end;
}

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

/* Finds the end of the item starting at p (the next `;` outside quotes, or the end of the
 * line) and its first `=` outside quotes (NULL when none).  A quote still open at the end of
 * the line is an error: IM would take the rest of the line, `;` and all, as one value. */
static int scan_item(struct rd *rd, const char *p, const char *end, const char **stop,
                     const char **eq)
{
  const char *open = NULL;

  *eq = NULL;
  for (; p < end; p++) {
    if (open) {
      if (*p == *open)
        open = NULL;
    } else if (*p == '\'' || *p == '"') {
      open = p;
    } else if (*p == ';') {
      break;
    } else if (*p == '=' && !*eq) {
      *eq = p;
    }
  }
  if (open)
    return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, open),
                       "this %s quote is never closed on its line",
                       *open == '\'' ? "single" : "double");
  *stop = p;
  return 0;
}

/* Reads one `key = value` item, [p, end) with its `=` at eq, into e.  Both sides are trimmed
 * before their quotes are removed, so quotes keep the spaces they enclose (IM trims after). */
static int read_item(struct rd *rd, struct imc_auth_entry *e, const char *p, const char *eq,
                     const char *end)
{
  const char *kb = skip_space(p, eq), *vb = skip_space(eq + 1, end);
  char *key = unquote(kb, trim_space(kb, eq)), *value = NULL;
  int r;

  if (!key || !(value = unquote(vb, trim_space(vb, end)))) {
    r = imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
    goto fail;
  }
  if (!*key) {
    r = imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, eq),
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

/* Reads one line, [p, end) already trimmed, not blank and not a comment, as a new entry.
 * Empty items (`a = 1;; b = 2`, a trailing `;`) are skipped; IM stops reading its line at an
 * empty item in the middle. */
static int read_line(struct rd *rd, struct imc_auth *a, const char *p, const char *end)
{
  struct imc_auth_entry *e = imc_auth_add_entry(a);
  const char *stop = end, *eq = NULL;
  int r;

  if (!e)
    return imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
  e->line = rd->line;
  for (;; p = stop + 1) {
    if ((r = scan_item(rd, p, end, &stop, &eq)) != 0)
      return r;
    p = skip_space(p, stop);
    if (p < stop && !eq)
      return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, column(rd->bol, p),
                         "expected 'key = value' (this item has no '=')");
    if (p < stop && (r = read_item(rd, e, p, eq, stop)) != 0)
      return r;
    if (stop == end)
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
