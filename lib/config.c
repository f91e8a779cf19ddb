/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's configuration.  The file is read the way IM reads im.cfg, with Python's ConfigParser
 * (strict mode, BasicInterpolation), so that an IM administrator's file means the same here:
 *   1. the INI text is cut into sections and entries (ini_*), keeping line and column;
 *   2. each entry of [im] (then of [DEFAULT], which ConfigParser merges into every section) is
 *      interpolated and parsed by the type of its option into a stage;
 *   3. only when everything parsed is the stage committed, so a failed load changes nothing.
 * The option table comes from IMC_CONFIG_OPTIONS in config.h; the documentation is generated
 * from it too (imc_config_write_doc). */
#include "imc/config.h"
#include "imc/alloc.h"
#include "imc/model.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NONE                    SIZE_MAX
#define MAX_INTERPOLATION_DEPTH 10 /* ConfigParser's */
#define MAX_SUGGEST_NAME        64 /* longer unknown names get no "did you mean" */

enum opt_type { T_INT, T_BOOL, T_STRING, T_LIST, T_USERS };

/* Where a value came from, for messages: a file position, or an environment variable. */
struct where {
  const char *source; /* NULL: the environment */
  const char *var;    /* the variable, when source is NULL */
  int line, col;
  bool exact; /* the value is the text at line:col (no continuation, no interpolation) */
};

struct opt {
  const char *name;
  enum opt_type type;
  const char *def, *im_def;
  long min, max;
  const char *(*check)(const char *s); /* NULL or "what was expected" */
  unsigned flags;
  size_t off;
  const char *help;
};

static const char *check_host(const char *s);
static const char *check_cidr(const char *s);
static const char *check_log_level(const char *s);
static const char *check_mem_unit(const char *s);
static const char *check_cpu_arch(const char *s);
#define CHECK_FN_NONE      NULL
#define CHECK_FN_HOST      check_host
#define CHECK_FN_CIDR      check_cidr
#define CHECK_FN_LOG_LEVEL check_log_level
#define CHECK_FN_MEM_UNIT  check_mem_unit
#define CHECK_FN_CPU_ARCH  check_cpu_arch

/* clang-format off */
static const struct opt opts[] = {
#define OPT(NAME, field, type, def, im_def, min, max, check, flags, help)                         \
  {#NAME, T_##type, def, im_def, min, max, CHECK_FN_##check, flags,                              \
   offsetof(struct imc_config, field), help},
  IMC_CONFIG_OPTIONS(OPT)
#undef OPT
};
/* clang-format on */
#define N_OPTS (sizeof opts / sizeof opts[0])

/* Options of IM 1.19.2 that imc reads and ignores, so that an im.cfg loads with a clear
 * warning for each rather than "unknown option". */
/* clang-format off */
static const char *const im_unsupported[] = {
  "USER_DB", "IM_PATH", "LOG_FILE_MAX_SIZE", "CONTEXTUALIZATION_DIR", "RECIPES_DIR",
  "RECIPES_DB_FILE", "CONFMAMAGER_CHECK_STATE_INTERVAL", "ANSIBLE_INSTALL_TIMEOUT",
  "SINGLE_SITE", "SINGLE_SITE_TYPE", "SINGLE_SITE_AUTH_HOST", "SINGLE_SITE_IMAGE_URL_PREFIX",
  "OIDC_ISSUERS", "OIDC_AUDIENCE", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES",
  "OIDC_USER_INFO_PATH", "OIDC_INSTROSPECT_PATH", "OIDC_GROUPS", "OIDC_GROUPS_CLAIM",
  "OIDC_ADMIN_GROUPS", "FORCE_OIDC_AUTH", "VAULT_URL", "VAULT_MOUNT_POINT", "VAULT_PATH",
  "VAULT_ROLE", "VM_TAG_USERNAME", "VM_TAG_INF_ID", "VM_TAG_IM_URL", "VM_TAG_IM",
  "STATIC_FILES_DIR", "OAIPMH_REPO_ADMIN_EMAIL", "OAIPMH_REPO_NAME", "OAIPMH_REPO_DESCRIPTION",
  "OAIPMH_REPO_BASE_IDENTIFIER_URL",
};
/* clang-format on */

/* --- small text helpers --------------------------------------------------------------- */

/* Python's str.strip() for the ASCII whitespace a line can hold. */
static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static char lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Code points in p[0..n): the column arithmetic of struct imc_pos. */
static int code_points(const char *p, size_t n)
{
  int cols = 0;

  for (size_t i = 0; i < n; i++)
    cols += ((unsigned char)p[i] & 0xC0) != 0x80;
  return cols;
}

/* Length of the UTF-8 sequence at p (n bytes left), 0 when it is not one: overlong forms,
 * surrogates and code points past U+10FFFF are refused, as Python's decoder does. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
  size_t len;
  uint32_t cp;

  if (p[0] < 0x80)
    return 1;
  len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
  if (len == 0 || len > n || p[0] > 0xF4)
    return 0;
  cp = p[0] & (0x7Fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* Offset of the first NUL or invalid UTF-8 byte, or n. */
static size_t bad_text_at(const char *p, size_t n)
{
  size_t i = 0, len;

  while (i < n) {
    len = p[i] ? utf8_seq((const unsigned char *)p + i, n - i) : 0;
    if (len == 0)
      return i;
    i += len;
  }
  return n;
}

/* Copies at most ~40 bytes of s into dst for a message: whole code points only, control
 * characters shown as '?', "..." when cut. */
static void excerpt(char *dst, size_t cap, const char *s, size_t n)
{
  size_t i = 0, o = 0, len;

  while (i < n && o + 8 < cap && i < 40) {
    len = utf8_seq((const unsigned char *)s + i, n - i);
    if (len <= 1) {
      dst[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7F || len == 0) ? '?' : s[i];
      i++;
      continue;
    }
    memcpy(dst + o, s + i, len);
    o += len;
    i += len;
  }
  if (i < n && o + 4 <= cap) {
    memcpy(dst + o, "...", 3);
    o += 3;
  }
  dst[o] = '\0';
}

static bool name_is(const char *name, const char *p, size_t n)
{
  return strlen(name) == n && strncasecmp(name, p, n) == 0;
}

/* The table index of an option name, or -1.  exact_case: the environment's rule. */
static int opt_index(const char *p, size_t n, bool exact_case)
{
  for (size_t i = 0; i < N_OPTS; i++) {
    if (strlen(opts[i].name) != n)
      continue;
    if (exact_case ? memcmp(opts[i].name, p, n) == 0 : strncasecmp(opts[i].name, p, n) == 0)
      return (int)i;
  }
  return -1;
}

/* Levenshtein distance, ignoring case, of two names of at most MAX_SUGGEST_NAME bytes. */
static size_t distance(const char *a, size_t na, const char *b, size_t nb)
{
  size_t row[MAX_SUGGEST_NAME + 1], diag, up;

  for (size_t j = 0; j <= nb; j++)
    row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      size_t best = diag + (lower(a[i - 1]) != lower(b[j - 1]));

      up = row[j];
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[nb];
}

/* The option a misspelt name most likely meant (IM's own names have odd spellings:
 * XMLRCP_PORT, VERIFI_SSL), or NULL. */
static const char *suggest(const char *p, size_t n)
{
  const char *best = NULL;
  size_t best_d = 3;

  if (n > MAX_SUGGEST_NAME)
    return NULL;
  for (size_t i = 0; i < N_OPTS; i++) {
    size_t d, len = strlen(opts[i].name);

    /* The distance is at least the difference of the lengths. */
    if (len > MAX_SUGGEST_NAME || len + best_d <= n || n + best_d <= len)
      continue;
    d = distance(p, n, opts[i].name, len);
    if (d < best_d) {
      best_d = d;
      best = opts[i].name;
    }
  }
  return best;
}

static bool im_knows(const char *p, size_t n)
{
  for (size_t i = 0; i < sizeof im_unsupported / sizeof im_unsupported[0]; i++)
    if (name_is(im_unsupported[i], p, n))
      return true;
  return false;
}

/* --- values --------------------------------------------------------------------------- */

union val {
  long i;
  bool b;
  char *s;
  struct imc_config_list l;
};

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory reading the configuration");
}

static void list_free(struct imc_config_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    imc_free(l->items[i]);
  imc_free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

/* Appends item (taken on success). */
static int list_push(struct imc_config_list *l, char *item)
{
  if (imc_grow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items))
    return IMC_E_NOMEM;
  l->items[l->n++] = item;
  return 0;
}

static void val_drop(const struct opt *o, union val *v)
{
  if (o->type == T_LIST) {
    list_free(&v->l);
  } else if (o->type == T_STRING || o->type == T_USERS) {
    if (o->flags & IMC_CFG_SECRET)
      imc_free_secret(v->s);
    else
      imc_free(v->s);
    v->s = NULL;
  }
}

/* A buffer that may hold a secret value. */
static void buf_wipe_free(struct imc_buf *b)
{
  if (b->data)
    explicit_bzero(b->data, b->cap);
  imc_buf_free(b);
}

static int bad(struct imc_err *err, const struct where *w, const struct opt *o, int col,
               const char *value, const char *fmt, ...) IMC_PRINTF(6, 7);

/* An invalid value: "source:line:col: option NAME: <what>, got 'value'", or "environment
 * variable IMC_NAME: <what>, got 'value'".  The value is quoted only when given and when the
 * option is not secret; col counts only when the value is where the file has it. */
static int bad(struct imc_err *err, const struct where *w, const struct opt *o, int col,
               const char *value, const char *fmt, ...)
{
  char what[160], got[80] = "", ex[64];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (value && !(o->flags & IMC_CFG_SECRET)) {
    excerpt(ex, sizeof ex, value, strlen(value));
    snprintf(got, sizeof got, ", got '%s'", ex);
  }
  if (!w->source)
    return imc_fail(err, IMC_E_INVAL, "environment variable %s: %s%s", w->var, what, got);
  return imc_fail_at(err, IMC_E_INVAL, w->source, w->line, w->exact ? col : w->col,
                     "option %s: %s%s", o->name, what, got);
}

/* The column of s[at] when s is the value at w. */
static int col_at(const struct where *w, const char *s, size_t at)
{
  return w->col + code_points(s, at);
}

/* --- value types: each parses the stripped text s into *v --------------------------- */

static int parse_int(const struct opt *o, const struct where *w, const char *s, union val *v,
                     struct imc_err *err)
{
  const char *p = s + (*s == '+' || *s == '-');
  bool ok = is_digit(*p), big = false;
  long n = 0;

  /* Python's int(): digits, with single underscores between them. */
  for (; ok && *p; p++) {
    if (*p == '_' && is_digit(p[-1]) && is_digit(p[1]))
      continue;
    if (!is_digit(*p))
      ok = false;
    else if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *p - '0', &n))
      big = true;
  }
  if (ok && *s == '-')
    n = -n;
  if (!ok || big || n < o->min || n > o->max)
    return bad(err, w, o, w->col, s, "expected an integer from %ld to %ld", o->min, o->max);
  v->i = n;
  return 0;
}

static int parse_bool(const struct opt *o, const struct where *w, const char *s, union val *v,
                      struct imc_err *err)
{
  /* ConfigParser's BOOLEAN_STATES, compared ignoring case. */
  static const struct {
    const char *word;
    bool value;
  } words[] = {{"1", true},  {"yes", true}, {"true", true},   {"on", true},
               {"0", false}, {"no", false}, {"false", false}, {"off", false}};

  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strcasecmp(s, words[i].word) == 0) {
      v->b = words[i].value;
      return 0;
    }
  }
  return bad(err, w, o, w->col, s, "expected a boolean (true, false, yes, no, on, off, 1 or 0)");
}

static int parse_string(const struct opt *o, const struct where *w, const char *s, union val *v,
                        struct imc_err *err)
{
  const char *what = o->check ? o->check(s) : NULL;

  if (what)
    return bad(err, w, o, w->col, s, "expected %s", what);
  v->s = imc_strdup(s);
  return v->s ? 0 : nomem(err);
}

/* One item of a list: n bytes at a, inside the value s. */
static int list_item(const struct opt *o, const struct where *w, const char *s, const char *a,
                     size_t n, struct imc_config_list *l, struct imc_err *err)
{
  int col = col_at(w, s, (size_t)(a - s)), r = 0;
  const char *what;
  char *item;

  if (n == 0)
    return bad(err, w, o, col, NULL, "empty item in the list");
  item = imc_strndup(a, n);
  if (!item)
    return nomem(err);
  if (o->check && (what = o->check(item)) != NULL)
    r = bad(err, w, o, col, item, "expected %s", what);
  else if (list_push(l, item) != 0)
    r = nomem(err);
  else
    item = NULL;
  imc_free(item);
  return r;
}

/* Comma-separated, as IM's str.split(','); imc also strips the spaces around each item (IM
 * would keep them and then fail to use the item), and an empty value is an empty list. */
static int parse_list(const struct opt *o, const struct where *w, const char *s, union val *v,
                      struct imc_err *err)
{
  struct imc_config_list l = {0};
  const char *p = s, *end, *a, *b;
  int r = 0;

  while (*s) {
    end = strchr(p, ',');
    end = end ? end : p + strlen(p);
    for (a = p; a < end && is_space(*a); a++)
      ;
    for (b = end; b > a && is_space(b[-1]); b--)
      ;
    if ((r = list_item(o, w, s, a, (size_t)(b - a), &l, err)) != 0 || !*end)
      break;
    p = end + 1;
  }
  if (r) {
    list_free(&l);
    return r;
  }
  v->l = l;
  return 0;
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
  imc_buf_add(data, p, n);
  return imc_buf_err(data) ? -1 : 0;
}

/* An IM admin user: an object with string username and password. */
static bool is_user(const json_t *u)
{
  return json_is_object(u) && json_is_string(json_object_get(u, "username")) &&
         json_is_string(json_object_get(u, "password"));
}

/* IM's dict option: JSON, an object or a list of objects; stored as a compact JSON list.
 * Values are secrets, so messages never quote them (nor jansson's text, which may). */
static int parse_users(const struct opt *o, const struct where *w, const char *s, union val *v,
                       struct imc_err *err)
{
  static const char what[] = "a JSON object or list of objects with string members "
                             "username and password";
  json_error_t jerr;
  json_t *j = NULL;
  struct imc_buf out;
  size_t bad_at = 0;
  int r = 0;

  imc_buf_init(&out, IMC_MAX_CONFIG);
  j = *s ? json_loadb(s, strlen(s), JSON_DECODE_ANY, &jerr) : NULL;
  if (*s && !j) {
    r = json_error_code(&jerr) == json_error_out_of_memory
          ? nomem(err)
          : bad(err, w, o, w->col, NULL, "expected %s; invalid JSON at line %d, column %d", what,
                jerr.line, jerr.column);
    goto out;
  }
  if (json_is_array(j)) {
    for (bad_at = 0; bad_at < json_array_size(j) && is_user(json_array_get(j, bad_at)); bad_at++)
      ;
    if (bad_at < json_array_size(j)) {
      r = bad(err, w, o, w->col, NULL, "expected %s; item %zu is not", what, bad_at + 1);
      goto out;
    }
  } else if (j && !(json_is_object(j) && (json_object_size(j) == 0 || is_user(j)))) {
    r = bad(err, w, o, w->col, NULL, "expected %s", what);
    goto out;
  }
  /* None is "[]"; IM's empty default {} is none too. */
  if (json_is_array(j) || (j && json_object_size(j) > 0)) {
    imc_buf_adds(&out, json_is_object(j) ? "[" : "");
    if (json_dump_callback(j, dump_to_buf, &out, JSON_COMPACT) != 0 && !imc_buf_err(&out))
      out.err = IMC_E_NOMEM;
    imc_buf_adds(&out, json_is_object(j) ? "]" : "");
  } else {
    imc_buf_adds(&out, "[]");
  }
  if (imc_buf_err(&out) || !(v->s = imc_buf_take(&out, NULL)))
    r = nomem(err);
out:
  json_decref(j);
  buf_wipe_free(&out);
  return r;
}

static const struct {
  const char *doc; /* in the documentation's Type column */
  size_t size;     /* of the field */
  int (*parse)(const struct opt *o, const struct where *w, const char *s, union val *v,
               struct imc_err *err);
} types[] = {
  [T_INT] = {"integer", sizeof(long), parse_int},
  [T_BOOL] = {"boolean", sizeof(bool), parse_bool},
  [T_STRING] = {"string", sizeof(char *), parse_string},
  [T_LIST] = {"list", sizeof(struct imc_config_list), parse_list},
  [T_USERS] = {"users", sizeof(char *), parse_users},
};

/* --- checks of single values: NULL, or what was expected ------------------------------ */

static const struct {
  const char *name;
  enum imc_log_level level;
} log_levels[] = {
  {"DEBUG", IMC_LOG_DEBUG},    {"INFO", IMC_LOG_INFO},   {"WARN", IMC_LOG_WARN},
  {"WARNING", IMC_LOG_WARN},   {"ERROR", IMC_LOG_ERROR}, {"FATAL", IMC_LOG_ERROR},
  {"CRITICAL", IMC_LOG_ERROR},
};

static const char *check_log_level(const char *s)
{
  for (size_t i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
    if (strcasecmp(s, log_levels[i].name) == 0)
      return NULL;
  return "a log level (DEBUG, INFO, WARN, WARNING, ERROR, FATAL or CRITICAL)";
}

static const char *check_mem_unit(const char *s)
{
  double factor;

  return imc_unit_factor(s, &factor) ? NULL : "a memory unit (B, K, M, G, T, Ki, Mi, Gi, Ti)";
}

static const char *check_cpu_arch(const char *s)
{
  return strcasecmp(s, "x86_64") == 0 || strcasecmp(s, "i386") == 0 ? NULL : "x86_64 or i386";
}

static bool is_ip(const char *s)
{
  unsigned char addr[sizeof(struct in6_addr)];

  return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static const char *check_host(const char *s)
{
  size_t n = strlen(s);

  if (is_ip(s))
    return NULL;
  if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.' ||
      strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
    return "an IP address or a host name";
  return NULL;
}

static const char *check_cidr(const char *s)
{
  static const char what[] = "a network as ADDRESS/PREFIX (10.0.0.0/8, fd00::/8)";
  const char *slash = strchr(s, '/');
  char addr[INET6_ADDRSTRLEN + 1];
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  long prefix = 0;

  if (n >= sizeof addr)
    return what;
  memcpy(addr, s, n);
  addr[n] = '\0';
  if (!is_ip(addr))
    return what;
  if (!slash)
    return NULL;
  if (!slash[1] || strlen(slash + 1) > 3 || strspn(slash + 1, "0123456789") != strlen(slash + 1))
    return what;
  prefix = strtol(slash + 1, NULL, 10);
  return prefix <= (strchr(addr, ':') ? 128 : 32) ? NULL : what;
}

/* --- the stage: values parsed by one call, committed only when all of them parsed ------ */

struct stage {
  const struct imc_config *cfg;
  bool set[N_OPTS];
  int prio[N_OPTS]; /* the environment: IMC_DATA_DB beats IM_DATA_DB */
  union val v[N_OPTS];
  struct imc_config_list warnings;
  size_t dropped;
};

static void stage_init(struct stage *st, const struct imc_config *cfg)
{
  memset(st, 0, sizeof *st);
  st->cfg = cfg;
}

static void stage_free(struct stage *st)
{
  for (size_t i = 0; i < N_OPTS; i++)
    if (st->set[i])
      val_drop(&opts[i], &st->v[i]);
  list_free(&st->warnings);
}

/* Takes *v. */
static void stage_set(struct stage *st, size_t i, union val *v, int prio)
{
  if (st->set[i])
    val_drop(&opts[i], &st->v[i]);
  st->v[i] = *v;
  st->set[i] = true;
  st->prio[i] = prio;
}

/* Whether another warning will be kept; counts it as dropped when not. */
static bool warn_room(struct stage *st)
{
  if (st->cfg->warnings.n + st->warnings.n < IMC_CONFIG_MAX_WARNINGS)
    return true;
  st->dropped++;
  return false;
}

static int stage_warn(struct imc_err *err, struct stage *st, const char *fmt, ...) IMC_PRINTF(3, 4);

static int stage_warn(struct imc_err *err, struct stage *st, const char *fmt, ...)
{
  char msg[IMC_ERR_MSG_MAX], *copy;
  va_list ap;

  if (!warn_room(st))
    return 0;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  copy = imc_strdup(msg);
  if (!copy || list_push(&st->warnings, copy) != 0) {
    imc_free(copy);
    return nomem(err);
  }
  return 0;
}

/* Moves the staged values and warnings into cfg; the only step that can fail (making room
 * for the warnings) comes first, so cfg is either unchanged or fully updated. */
static int commit(struct imc_config *cfg, struct stage *st, struct imc_err *err)
{
  struct imc_config_list *w = &cfg->warnings;

  if (imc_grow((void **)&w->items, &w->cap, w->n + st->warnings.n, sizeof *w->items))
    return nomem(err);
  for (size_t i = 0; i < N_OPTS; i++) {
    union val old;
    void *field = (char *)cfg + opts[i].off;

    if (!st->set[i])
      continue;
    memcpy(&old, field, types[opts[i].type].size);
    val_drop(&opts[i], &old);
    memcpy(field, &st->v[i], types[opts[i].type].size);
    st->set[i] = false;
  }
  for (size_t i = 0; i < st->warnings.n; i++) {
    imc_log(IMC_LOG_WARN, "%s", st->warnings.items[i]);
    w->items[w->n++] = st->warnings.items[i];
  }
  st->warnings.n = 0;
  if (st->dropped)
    imc_log(IMC_LOG_WARN, "%zu more configuration warnings not shown", st->dropped);
  cfg->warnings_dropped += st->dropped;
  return 0;
}

/* --- the INI text, cut as ConfigParser cuts it --------------------------------------- */

struct ini_sect {
  struct imc_str name;
  int line, col;
};

struct ini_ent {
  size_t sect;
  struct imc_str name; /* as written; compared ignoring case (ConfigParser lowercases) */
  int line, col, vcol;
  bool multi;           /* continued on later lines */
  struct imc_buf value; /* joined lines; only for [im] and [DEFAULT] */
};

struct ini {
  const char *source;
  struct ini_sect *sects;
  size_t ns, cap_sects;
  struct ini_ent *ents;
  size_t ne, cap_ents;
  size_t im, def;          /* the [im] and [DEFAULT] sections, or NONE */
  struct ini_ent **sorted; /* by section, name, line */
};

/* The reader's state between lines, as ConfigParser's _read loop keeps it. */
struct reader {
  size_t sect, ent; /* current section and option, or NONE */
  size_t indent;    /* of the current option's line: deeper lines continue its value */
};

static void ini_free(struct ini *ini)
{
  for (size_t i = 0; i < ini->ne; i++)
    buf_wipe_free(&ini->ents[i].value);
  imc_free(ini->ents);
  imc_free(ini->sects);
  imc_free(ini->sorted);
}

static bool tracked(const struct ini *ini, size_t sect)
{
  return sect != NONE && (sect == ini->im || sect == ini->def);
}

static int ini_header(struct ini *ini, struct reader *rd, const char *name, size_t n, int line,
                      int col, struct imc_err *err)
{
  bool is_default = n == 7 && memcmp(name, "DEFAULT", 7) == 0;

  rd->ent = NONE;
  /* [DEFAULT] may appear more than once; its parts are one section. */
  if (is_default && ini->def != NONE) {
    rd->sect = ini->def;
    return 0;
  }
  if (imc_grow((void **)&ini->sects, &ini->cap_sects, ini->ns + 1, sizeof *ini->sects))
    return nomem(err);
  ini->sects[ini->ns] = (struct ini_sect){{name, n}, line, col};
  if (is_default)
    ini->def = ini->ns;
  else if (n == 2 && memcmp(name, "im", 2) == 0 && ini->im == NONE)
    ini->im = ini->ns;
  rd->sect = ini->ns++;
  return 0;
}

/* `name = value` or `name: value` in p[s..e), split at the first = or :. */
static int ini_option(struct ini *ini, struct reader *rd, const char *p, size_t s, size_t e,
                      int line, struct imc_err *err)
{
  size_t d = s, ne, vs;
  struct ini_ent *ent;

  /* The text is not NUL-terminated: no strcspn. */
  while (d < e && p[d] != '=' && p[d] != ':')
    d++;
  ne = d;
  vs = d + 1;

  if (d >= e)
    return imc_fail_at(err, IMC_E_INVAL, ini->source, line, code_points(p, s) + 1,
                       "expected 'name = value', 'name: value' or a [section] header");
  while (ne > s && is_space(p[ne - 1]))
    ne--;
  if (ne == s)
    return imc_fail_at(err, IMC_E_INVAL, ini->source, line, code_points(p, d) + 1,
                       "an option name must come before '%c'", p[d]);
  while (vs < e && is_space(p[vs]))
    vs++;
  if (imc_grow((void **)&ini->ents, &ini->cap_ents, ini->ne + 1, sizeof *ini->ents))
    return nomem(err);
  ent = &ini->ents[ini->ne];
  *ent = (struct ini_ent){.sect = rd->sect,
                          .name = {p + s, ne - s},
                          .line = line,
                          .col = code_points(p, s) + 1,
                          .vcol = code_points(p, vs) + 1};
  imc_buf_init(&ent->value, IMC_MAX_CONFIG);
  rd->ent = ini->ne++;
  if (tracked(ini, rd->sect))
    imc_buf_add(&ent->value, p + vs, e - vs);
  return imc_buf_err(&ent->value) ? nomem(err) : 0;
}

/* One line, p[0..n) without its end. */
static int ini_line(struct ini *ini, struct reader *rd, const char *p, size_t n, int line,
                    struct imc_err *err)
{
  size_t s = 0, e = n;
  const char *close;

  while (s < e && is_space(p[s]))
    s++;
  while (e > s && is_space(p[e - 1]))
    e--;
  if (s == e || p[s] == '#' || p[s] == ';') {
    /* A blank line inside a value is kept (empty_lines_in_values); comments are not. */
    if (s == e && rd->ent != NONE && tracked(ini, rd->sect)) {
      imc_buf_addc(&ini->ents[rd->ent].value, '\n');
      if (imc_buf_err(&ini->ents[rd->ent].value))
        return nomem(err);
    }
    return 0;
  }
  if (rd->ent != NONE && s > rd->indent) {
    struct ini_ent *ent = &ini->ents[rd->ent];

    ent->multi = true;
    if (tracked(ini, rd->sect)) {
      imc_buf_addc(&ent->value, '\n');
      imc_buf_add(&ent->value, p + s, e - s);
    }
    return imc_buf_err(&ent->value) ? nomem(err) : 0;
  }
  rd->indent = s;
  /* ConfigParser's \[(?P<header>.+)\]: up to the last ']', whatever follows it. */
  close = p[s] == '[' ? memrchr(p + s + 1, ']', e - s - 1) : NULL;
  if (close && close > p + s + 1)
    return ini_header(ini, rd, p + s + 1, (size_t)(close - p - s - 1), line, code_points(p, s) + 1,
                      err);
  if (rd->sect == NONE)
    return imc_fail_at(err, IMC_E_INVAL, ini->source, line, code_points(p, s) + 1,
                       "expected a [section] header before the first option");
  return ini_option(ini, rd, p, s, e, line, err);
}

/* Where text[at] is: lines end at \n, \r\n or \r (Python's universal newlines). */
static void position(const char *text, size_t at, int *line, int *col)
{
  size_t start = 0;

  *line = 1;
  for (size_t i = 0; i < at; i++) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= at || text[i + 1] != '\n'))) {
      (*line)++;
      start = i + 1;
    }
  }
  *col = code_points(text + start, at - start) + 1;
}

static int ini_read(struct ini *ini, const char *text, size_t len, struct imc_err *err)
{
  struct reader rd = {.sect = NONE, .ent = NONE, .indent = 0};
  size_t pos = 0, start, end;
  int line = 0, r = 0;

  /* A UTF-8 byte order mark, as some editors write, is not part of the first line. */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;
  while (pos < len && r == 0) {
    start = pos;
    while (pos < len && text[pos] != '\n' && text[pos] != '\r')
      pos++;
    end = pos;
    if (pos < len)
      pos += (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') ? 2 : 1;
    r = ini_line(ini, &rd, text + start, end - start, ++line, err);
  }
  /* ConfigParser joins the lines and strips the end: blank lines kept above go. */
  for (size_t i = 0; i < ini->ne && r == 0; i++) {
    struct imc_buf *v = &ini->ents[i].value;

    while (v->len > 0 && is_space(v->data[v->len - 1]))
      v->data[--v->len] = '\0';
  }
  return r;
}

static int cmp_name(struct imc_str a, struct imc_str b)
{
  size_t n = a.n < b.n ? a.n : b.n;

  for (size_t i = 0; i < n; i++)
    if (lower(a.p[i]) != lower(b.p[i]))
      return (unsigned char)lower(a.p[i]) < (unsigned char)lower(b.p[i]) ? -1 : 1;
  return a.n < b.n ? -1 : a.n > b.n;
}

static int cmp_ent(const void *pa, const void *pb)
{
  const struct ini_ent *a = *(const struct ini_ent *const *)pa;
  const struct ini_ent *b = *(const struct ini_ent *const *)pb;
  int c;

  if (a->sect != b->sect)
    return a->sect < b->sect ? -1 : 1;
  if ((c = cmp_name(a->name, b->name)) != 0)
    return c;
  return (a->line > b->line) - (a->line < b->line);
}

/* Section names are compared with their case, as ConfigParser does. */
static int cmp_sect(const void *pa, const void *pb)
{
  const struct ini_sect *a = *(const struct ini_sect *const *)pa;
  const struct ini_sect *b = *(const struct ini_sect *const *)pb;
  size_t n = a->name.n < b->name.n ? a->name.n : b->name.n;
  int c = memcmp(a->name.p, b->name.p, n);

  if (c == 0)
    c = (a->name.n > b->name.n) - (a->name.n < b->name.n);
  return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* The entry of name in section sect, or NULL. */
static const struct ini_ent *ini_find(const struct ini *ini, size_t sect, const char *p, size_t n)
{
  struct ini_ent key = {.sect = sect, .name = {p, n}, .line = 0};
  size_t lo = 0, hi = ini->ne;

  if (sect == NONE)
    return NULL;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct ini_ent *k = &key;

    if (cmp_ent(&ini->sorted[mid], &k) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < ini->ne && ini->sorted[lo]->sect == sect &&
      cmp_name(ini->sorted[lo]->name, key.name) == 0)
    return ini->sorted[lo];
  return NULL;
}

/* ConfigParser's strict mode: a section twice, or an option twice in one section, is an
 * error.  Sorting finds them without comparing every pair. */
static int ini_index(struct ini *ini, struct imc_err *err)
{
  const struct ini_sect **ss = imc_calloc(ini->ns, sizeof *ss), *dup_s = NULL, *first_s = NULL;
  const struct ini_ent *dup_e = NULL, *first_e = NULL;
  char a[64], b[64];

  ini->sorted = imc_calloc(ini->ne, sizeof *ini->sorted);
  if (!ss || !ini->sorted) {
    imc_free(ss);
    return nomem(err);
  }
  for (size_t i = 0; i < ini->ns; i++)
    ss[i] = &ini->sects[i];
  qsort(ss, ini->ns, sizeof *ss, cmp_sect);
  for (size_t i = 1; i < ini->ns; i++)
    if (ss[i - 1]->name.n == ss[i]->name.n &&
        memcmp(ss[i - 1]->name.p, ss[i]->name.p, ss[i]->name.n) == 0 &&
        (!dup_s || ss[i]->line < dup_s->line)) {
      dup_s = ss[i];
      first_s = ss[i - 1];
    }
  for (size_t i = 0; i < ini->ne; i++)
    ini->sorted[i] = &ini->ents[i];
  qsort(ini->sorted, ini->ne, sizeof *ini->sorted, cmp_ent);
  for (size_t i = 1; i < ini->ne; i++)
    if (ini->sorted[i - 1]->sect == ini->sorted[i]->sect &&
        cmp_name(ini->sorted[i - 1]->name, ini->sorted[i]->name) == 0 &&
        (!dup_e || ini->sorted[i]->line < dup_e->line)) {
      dup_e = ini->sorted[i];
      first_e = ini->sorted[i - 1];
    }
  if (dup_s) {
    excerpt(a, sizeof a, dup_s->name.p, dup_s->name.n);
    imc_fail_at(err, IMC_E_INVAL, ini->source, dup_s->line, dup_s->col,
                "section [%s] appears twice (first at line %d)", a, first_s->line);
  } else if (dup_e) {
    excerpt(a, sizeof a, dup_e->name.p, dup_e->name.n);
    excerpt(b, sizeof b, ini->sects[dup_e->sect].name.p, ini->sects[dup_e->sect].name.n);
    imc_fail_at(err, IMC_E_INVAL, ini->source, dup_e->line, dup_e->col,
                "option '%s' appears twice in [%s] (first at line %d)", a, b, first_e->line);
  }
  imc_free(ss);
  return dup_s || dup_e ? IMC_E_INVAL : 0;
}

/* --- interpolation: ConfigParser's BasicInterpolation -------------------------------- */

struct interp {
  const struct ini *ini;
  const struct opt *o;
  const struct where *w;
  struct imc_buf *out;
  size_t steps; /* references expanded: bounds the work of references that fan out */
};

static int interp_some(struct interp *it, const char *s, size_t n, int depth, struct imc_err *err);

static int too_big(const struct interp *it, struct imc_err *err)
{
  if (imc_buf_err(it->out) == IMC_E_NOMEM)
    return nomem(err);
  return imc_fail_at(err, IMC_E_TOOBIG, it->w->source, it->w->line, it->w->col,
                     "option %s: its %%(name)s references expand past %u bytes", it->o->name,
                     IMC_MAX_CONFIG_VALUE);
}

/* %(name)s at *s: the value of name in [im], else in [DEFAULT], itself interpolated. */
static int interp_ref(struct interp *it, const char **s, size_t *n, int depth, struct imc_err *err)
{
  const char *name = *s + 2, *close = memchr(name, ')', *n - 2);
  const struct ini_ent *ref;
  const struct imc_buf *v;
  size_t used;
  char ex[64];

  if (!close || close == name || close + 1 >= *s + *n || close[1] != 's')
    return bad(err, it->w, it->o, it->w->col, NULL, "'%%(' must start a %%(name)s reference");
  ref = ini_find(it->ini, it->ini->im, name, (size_t)(close - name));
  if (!ref)
    ref = ini_find(it->ini, it->ini->def, name, (size_t)(close - name));
  if (!ref) {
    excerpt(ex, sizeof ex, name, (size_t)(close - name));
    return bad(err, it->w, it->o, it->w->col, NULL, "%%(%s)s names no option of [im] or [DEFAULT]",
               ex);
  }
  v = &ref->value;
  if (v->len > 0 && memchr(v->data, '%', v->len)) {
    int r = interp_some(it, v->data, v->len, depth + 1, err);

    if (r)
      return r;
  } else {
    imc_buf_add(it->out, imc_buf_cstr(v), v->len);
  }
  used = (size_t)(close + 2 - *s);
  *s += used;
  *n -= used;
  return 0;
}

static int interp_some(struct interp *it, const char *s, size_t n, int depth, struct imc_err *err)
{
  const char *pc;
  size_t k;
  int r;

  if (depth > MAX_INTERPOLATION_DEPTH)
    return bad(err, it->w, it->o, it->w->col, NULL,
               "%%(name)s references nest deeper than %d levels", MAX_INTERPOLATION_DEPTH);
  while (n > 0) {
    pc = memchr(s, '%', n);
    k = pc ? (size_t)(pc - s) : n;
    imc_buf_add(it->out, s, k);
    s += k;
    n -= k;
    if (imc_buf_err(it->out) || ++it->steps > IMC_MAX_CONFIG_VALUE)
      return too_big(it, err);
    if (n == 0)
      break;
    if (n >= 2 && s[1] == '%') {
      imc_buf_addc(it->out, '%');
      s += 2;
      n -= 2;
    } else if (n >= 2 && s[1] == '(') {
      if ((r = interp_ref(it, &s, &n, depth, err)) != 0)
        return r;
    } else {
      return bad(err, it->w, it->o, it->w->col, NULL, "'%%' must be followed by '%%' or '('");
    }
  }
  return 0;
}

/* --- applying a file ------------------------------------------------------------------ */

static int warn_unknown(const struct ini *ini, const struct ini_ent *e, struct stage *st,
                        struct imc_err *err)
{
  const char *sect = e->sect == ini->im ? "im" : "DEFAULT", *hint;
  char name[64];

  if (!warn_room(st))
    return 0;
  excerpt(name, sizeof name, e->name.p, e->name.n);
  /* An IM option left empty asks for nothing imc lacks (IM's sample has `USER_DB =`). */
  if (im_knows(e->name.p, e->name.n) && e->value.len == 0)
    return 0;
  if (im_knows(e->name.p, e->name.n))
    return stage_warn(err, st, "%s:%d:%d: IM option %s is not supported by imc; ignored",
                      ini->source, e->line, e->col, name);
  hint = suggest(e->name.p, e->name.n);
  return stage_warn(err, st, "%s:%d:%d: unknown option '%s' in [%s]; ignored%s%s%s", ini->source,
                    e->line, e->col, name, sect, hint ? " (did you mean " : "", hint ? hint : "",
                    hint ? "?)" : "");
}

static int apply_entry(const struct ini *ini, const struct ini_ent *e, struct stage *st,
                       struct imc_err *err)
{
  int idx = opt_index(e->name.p, e->name.n, false), r;
  struct where w = {ini->source, NULL, e->line, e->vcol, !e->multi};
  struct imc_buf text;
  struct interp it;
  union val v;

  if (idx < 0)
    return warn_unknown(ini, e, st, err);
  imc_buf_init(&text, IMC_MAX_CONFIG_VALUE);
  if (e->value.len > 0 && memchr(e->value.data, '%', e->value.len)) {
    /* Interpolated text no longer lines up with the file. */
    w.exact = false;
    it = (struct interp){ini, &opts[idx], &w, &text, 0};
    r = interp_some(&it, e->value.data, e->value.len, 1, err);
  } else {
    imc_buf_add(&text, imc_buf_cstr(&e->value), e->value.len);
    r = imc_buf_err(&text) == IMC_E_NOMEM ? nomem(err) : 0;
    if (imc_buf_err(&text) == IMC_E_TOOBIG)
      r = imc_fail_at(err, IMC_E_TOOBIG, w.source, w.line, w.col,
                      "option %s: the value is longer than %u bytes", opts[idx].name,
                      IMC_MAX_CONFIG_VALUE);
  }
  if (r == 0 &&
      (r = types[opts[idx].type].parse(&opts[idx], &w, imc_buf_cstr(&text), &v, err)) == 0)
    stage_set(st, (size_t)idx, &v, 0);
  buf_wipe_free(&text);
  return r;
}

/* IM reads the options of [im], in the file's order, then those [DEFAULT] adds; nothing
 * when there is no [im] section at all. */
static int apply_ini(const struct ini *ini, struct stage *st, struct imc_err *err)
{
  int r = 0;

  if (ini->im == NONE)
    return stage_warn(err, st, "%s: no [im] section; nothing in it is used", ini->source);
  for (size_t i = 0; i < ini->ne && r == 0; i++)
    if (ini->ents[i].sect == ini->im)
      r = apply_entry(ini, &ini->ents[i], st, err);
  for (size_t i = 0; i < ini->ne && r == 0; i++)
    if (ini->ents[i].sect == ini->def &&
        !ini_find(ini, ini->im, ini->ents[i].name.p, ini->ents[i].name.n))
      r = apply_entry(ini, &ini->ents[i], st, err);
  return r;
}

/* --- the public functions ------------------------------------------------------------- */

int imc_config_init(struct imc_config *cfg, struct imc_err *err)
{
  struct where w = {"default", NULL, 0, 0, false};
  struct stage st;
  union val v;
  int r = 0;

  memset(cfg, 0, sizeof *cfg);
  stage_init(&st, cfg);
  for (size_t i = 0; i < N_OPTS && r == 0; i++)
    if ((r = types[opts[i].type].parse(&opts[i], &w, opts[i].def, &v, err)) == 0)
      stage_set(&st, i, &v, 0);
  if (r == 0)
    r = commit(cfg, &st, err);
  stage_free(&st);
  return r;
}

int imc_config_load(struct imc_config *cfg, const char *source, const char *text, size_t len,
                    struct imc_err *err)
{
  struct ini ini = {.source = source, .im = NONE, .def = NONE};
  struct stage st;
  size_t at;
  int r, line, col;

  if (len > IMC_MAX_CONFIG)
    return imc_fail(err, IMC_E_TOOBIG, "%s: larger than the limit of %u bytes", source,
                    IMC_MAX_CONFIG);
  if ((at = bad_text_at(text, len)) < len) {
    /* Columns of the first line start after a byte order mark, as the reader's do. */
    bool bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0;

    position(text + 3 * bom, at - 3 * bom, &line, &col);
    return imc_fail_at(err, IMC_E_INVAL, source, line, col, "%s",
                       text[at] ? "not valid UTF-8 text" : "a NUL byte");
  }
  stage_init(&st, cfg);
  if ((r = ini_read(&ini, text, len, err)) == 0 && (r = ini_index(&ini, err)) == 0 &&
      (r = apply_ini(&ini, &st, err)) == 0)
    r = commit(cfg, &st, err);
  stage_free(&st);
  ini_free(&ini);
  return r;
}

int imc_config_load_file(struct imc_config *cfg, const char *path, struct imc_err *err)
{
  struct imc_buf text;
  int r;

  imc_buf_init(&text, IMC_MAX_CONFIG);
  if ((r = imc_read_file(path, &text, err)) == 0)
    r = imc_config_load(cfg, path, imc_buf_cstr(&text), text.len, err);
  buf_wipe_free(&text);
  return r;
}

int imc_config_load_optional(struct imc_config *cfg, const char *path, bool *found,
                             struct imc_err *err)
{
  bool exists = access(path, F_OK) == 0 || errno != ENOENT;
  int r = exists ? imc_config_load_file(cfg, path, err) : 0;

  if (r == 0 && found)
    *found = exists;
  return r;
}

/* --- the environment ------------------------------------------------------------------ */

/* var=value (var is the whole "IMC_NAME" or "IM_DATA_DB") for option i. */
static int env_apply(struct stage *st, size_t i, const char *var, size_t var_n, const char *value,
                     int prio, struct imc_err *err)
{
  const char *a = value, *b = value + strlen(value);
  char name[64], *copy;
  struct where w = {NULL, name, 0, 0, false};
  union val v;
  int r;

  /* The first of two entries of one name wins, as getenv() has it. */
  if (st->set[i] && st->prio[i] >= prio)
    return 0;
  excerpt(name, sizeof name, var, var_n);
  while (a < b && is_space(*a))
    a++;
  while (b > a && is_space(b[-1]))
    b--;
  if (bad_text_at(a, (size_t)(b - a)) < (size_t)(b - a))
    return bad(err, &w, &opts[i], 0, NULL, "not valid UTF-8 text");
  if ((size_t)(b - a) > IMC_MAX_CONFIG_VALUE)
    return imc_fail(err, IMC_E_TOOBIG, "environment variable %s: longer than %u bytes", name,
                    IMC_MAX_CONFIG_VALUE);
  copy = imc_strndup(a, (size_t)(b - a));
  if (!copy)
    return nomem(err);
  if ((r = types[opts[i].type].parse(&opts[i], &w, copy, &v, err)) == 0)
    stage_set(st, i, &v, prio);
  if (opts[i].flags & IMC_CFG_SECRET)
    imc_free_secret(copy);
  else
    imc_free(copy);
  return r;
}

static int env_entry(struct stage *st, const char *entry, struct imc_err *err)
{
  const char *eq = strchr(entry, '='), *hint;
  size_t n = eq ? (size_t)(eq - entry) : 0;
  char name[64];
  int i;

  if (!eq)
    return 0;
  if (n == 10 && memcmp(entry, "IM_DATA_DB", 10) == 0)
    return env_apply(st, (size_t)opt_index("DATA_DB", 7, true), entry, n, eq + 1, 1, err);
  if (n <= 4 || memcmp(entry, "IMC_", 4) != 0)
    return 0;
  if ((i = opt_index(entry + 4, n - 4, true)) >= 0)
    return env_apply(st, (size_t)i, entry, n, eq + 1, 2, err);
  /* Other IMC_ variables may belong to other parts of imc: only a near miss is reported. */
  hint = suggest(entry + 4, n - 4);
  if (!hint || !warn_room(st))
    return 0;
  excerpt(name, sizeof name, entry, n);
  return stage_warn(err, st,
                    "environment variable %s is not an option; ignored (did you mean "
                    "IMC_%s?)",
                    name, hint);
}

int imc_config_env(struct imc_config *cfg, char *const *envp, struct imc_err *err)
{
  struct stage st;
  int r = 0;

  stage_init(&st, cfg);
  for (char *const *e = envp; e && *e && r == 0; e++)
    r = env_entry(&st, *e, err);
  if (r == 0)
    r = commit(cfg, &st, err);
  stage_free(&st);
  return r;
}

/* --- checks across options, accessors, cleanup ---------------------------------------- */

static int check_tls(bool on, const char *key, const char *cert, const char *api,
                     struct imc_err *err)
{
  if (on && (!*key || !*cert))
    return imc_fail(err, IMC_E_INVAL, "%s_SSL is on but %s_SSL_KEYFILE or %s_SSL_CERTFILE is empty",
                    api, api, api);
  return 0;
}

int imc_config_check(const struct imc_config *cfg, struct imc_err *err)
{
  int r;

  if (cfg->vm_info_update_error_grace_period <= cfg->vm_info_update_frequency)
    return imc_fail(err, IMC_E_INVAL,
                    "VM_INFO_UPDATE_ERROR_GRACE_PERIOD (%ld) must be greater than "
                    "VM_INFO_UPDATE_FREQUENCY (%ld)",
                    cfg->vm_info_update_error_grace_period, cfg->vm_info_update_frequency);
  if ((r = check_tls(cfg->xmlrcp_ssl, cfg->xmlrcp_ssl_keyfile, cfg->xmlrcp_ssl_certfile, "XMLRCP",
                     err)) != 0)
    return r;
  return check_tls(cfg->rest_ssl, cfg->rest_ssl_keyfile, cfg->rest_ssl_certfile, "REST", err);
}

enum imc_log_level imc_config_log_level(const struct imc_config *cfg)
{
  for (size_t i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
    if (cfg->log_level && strcasecmp(cfg->log_level, log_levels[i].name) == 0)
      return log_levels[i].level;
  return IMC_LOG_INFO;
}

void imc_config_cleanup(struct imc_config *cfg)
{
  if (!cfg)
    return;
  for (size_t i = 0; i < N_OPTS; i++) {
    union val v;

    memcpy(&v, (char *)cfg + opts[i].off, types[opts[i].type].size);
    val_drop(&opts[i], &v);
  }
  list_free(&cfg->warnings);
  memset(cfg, 0, sizeof *cfg);
}

/* --- documentation -------------------------------------------------------------------- */

/* A macro, not an array: it is a printf format (-Wformat-nonliteral). */
#define DOC_HEAD                                                                                  \
  "# imcd configuration\n"                                                                        \
  "\n"                                                                                            \
  "<!-- Generated by imc_config_write_doc() (lib/config.c) from the option table in\n"            \
  "     lib/include/imc/config.h. Do not edit: test_config fails when this file and the\n"        \
  "     table differ, and leaves the expected text in configuration.md.expected. -->\n"           \
  "\n"                                                                                            \
  "imcd reads its options from the `[im]` section of `" IMC_CONFIG_PATH "`, or of the file\n"     \
  "given with `-c FILE`, then from `IMC_<NAME>` environment variables: defaults, then the\n"      \
  "file, then the environment. A missing default file means every option keeps its default;\n"    \
  "a missing file given with `-c` is an error. The names are those of IM's `im.cfg`, spelt\n"     \
  "as IM spells them (`XMLRCP_PORT`, `WAIT_SSH_ACCCESS_TIMEOUT`, `VERIFI_SSL`), so an IM\n"       \
  "configuration file can be used as it is.\n"                                                    \
  "\n"                                                                                            \
  "## File format\n"                                                                              \
  "\n"                                                                                            \
  "The file is read as IM reads `im.cfg`, with the rules of Python's `ConfigParser`:\n"           \
  "\n"                                                                                            \
  "- `[section]` starts a section. Only `[im]` is used, with `[DEFAULT]`, whose options\n"        \
  "  count in every section (`[im]` wins when both set one). Section names are compared\n"        \
  "  with their case; without an `[im]` section nothing is used (with a warning).\n"              \
  "- `NAME = value` or `NAME: value`: the line is split at its first `=` or `:`, and the\n"       \
  "  spaces around the name and the value are dropped. Names are compared ignoring case.\n"       \
  "- Lines whose first non-blank character is `#` or `;` are comments. A `#` after a value\n"     \
  "  is part of the value, as in IM: `REST_PORT = 8800 # API` is an error.\n"                     \
  "- A line indented deeper than the line of its option continues that option's value\n"          \
  "  (joined with a newline), so a long `ADMIN_USER` may span lines. Blank lines inside a\n"      \
  "  value are kept, blank lines at its end dropped; comment lines are skipped.\n"                \
  "- `%%(NAME)s` is replaced by the value of option NAME of `[im]` or `[DEFAULT]` (itself\n"      \
  "  interpolated, up to %d levels deep) and `%%%%` stands for `%%`; any other `%%` is an "       \
  "error.\n"                                                                                      \
  "- A section given twice, an option given twice in one section, an option before the\n"         \
  "  first section header and a line that is none of these are errors, reported as\n"             \
  "  `imcd.conf:LINE:COLUMN: message`; imcd does not start.\n"                                    \
  "- An unknown option is a warning: it is logged, kept for the caller to show, and\n"            \
  "  ignored. IM's options that imc does not implement are named as such, and a name close\n"     \
  "  to an option's gets a suggestion (`XMLRPC_PORT`: did you mean `XMLRCP_PORT`?).\n"            \
  "- The file is UTF-8 text (a leading byte order mark is skipped) of at most %u bytes;\n"        \
  "  a value is at most %u bytes, after interpolation.\n"                                         \
  "\n"                                                                                            \
  "## Environment\n"                                                                              \
  "\n"                                                                                            \
  "`IMC_<NAME>=value` sets option NAME, with NAME in IM's spelling and in upper case\n"           \
  "(`IMC_XMLRCP_PORT=9000`). The value is read as in the file, without interpolation. IM's\n"     \
  "own `IM_DATA_DB` is read too, below `IMC_DATA_DB`. Other `IMC_` variables are left alone,\n"   \
  "but one whose name is close to an option's gets a warning. A bad value is an error that\n"     \
  "names the variable.\n"                                                                         \
  "\n"                                                                                            \
  "## Checks\n"                                                                                   \
  "\n"                                                                                            \
  "Once the file and the environment are read, imcd also checks that\n"                           \
  "`VM_INFO_UPDATE_ERROR_GRACE_PERIOD` is greater than `VM_INFO_UPDATE_FREQUENCY` (IM's\n"        \
  "`im.cfg` asks for it without checking) and that an API served over TLS has a key and a\n"      \
  "certificate file.\n"                                                                           \
  "\n"                                                                                            \
  "## Value types\n"                                                                              \
  "\n"                                                                                            \
  "- **integer**: decimal digits with an optional sign, `_` allowed between digits\n"             \
  "  (`1_000`), within the range the table gives.\n"                                              \
  "- **boolean**: `1`, `yes`, `true`, `on`, or `0`, `no`, `false`, `off`, in any case.\n"         \
  "- **string**: the text as written (no quotes are removed).\n"                                  \
  "- **list**: comma-separated items; the spaces around each item are dropped; an empty value\n"  \
  "  is an empty list, an empty item an error.\n"                                                 \
  "- **users**: JSON, an object `{\"username\": \"u\", \"password\": \"p\"}` or a list of such\n" \
  "  objects (IM's dict type); `{}`, `[]` and an empty value mean none.\n"                        \
  "\n"                                                                                            \
  "A bad value is reported with its option and position:\n"                                       \
  "`imcd.conf:7:15: option XMLRCP_PORT: expected an integer from 1 to 65535, got 'http'`.\n"      \
  "The values of secret options are never shown, in errors or anywhere else.\n"                   \
  "\n"                                                                                            \
  "## Options\n"                                                                                  \
  "\n"                                                                                            \
  "*imc* marks the options imc adds; *IM:* gives IM's default where imc's differs.\n"             \
  "\n"                                                                                            \
  "| Option | Type | Default | Description |\n"                                                   \
  "|---|---|---|---|\n"

static const char doc_tail[] =
  "\n"
  "## Differences from IM\n"
  "\n"
  "- The defaults marked *IM:* above, for the reasons their descriptions give.\n"
  "- Values are checked when the file is read: ranges, boolean words, log levels, memory\n"
  "  units, CPU architectures, addresses, networks and admin users. IM finds some of these\n"
  "  problems only when it uses the option, and takes an unknown `LOG_LEVEL` as `WARN`.\n"
  "- List items lose the spaces around them (IM keeps them, and then cannot use the item).\n"
  "- Every option can come from an `IMC_<NAME>` environment variable; IM reads only\n"
  "  `IM_DATA_DB` (imc reads it too) and `IM_SINGLE_SITE_ONE_HOST` (not implemented).\n"
  "- IM reads `im.cfg` next to its code, then `/etc/im/im.cfg`; imcd reads one file.\n"
  "- `ADMIN_USER` entries must have a string `username` and `password`; IM takes any object.\n"
  "- A leading UTF-8 byte order mark is skipped; IM's parser would reject the first line.\n";

/* A table cell: '|' would end it. */
static void md_cell(struct imc_buf *out, const char *s)
{
  for (; *s; s++) {
    if (*s == '|')
      imc_buf_addc(out, '\\');
    imc_buf_addc(out, *s);
  }
}

static void doc_row(struct imc_buf *out, const struct opt *o)
{
  imc_buf_addf(out, "| `%s`%s | ", o->name, (o->flags & IMC_CFG_ADDED) ? " *imc*" : "");
  if (o->type == T_INT)
    imc_buf_addf(out, "integer, %ld to %ld", o->min, o->max);
  else
    imc_buf_adds(out, types[o->type].doc);
  imc_buf_adds(out, " | ");
  if (*o->def) {
    imc_buf_adds(out, "`");
    md_cell(out, o->def);
    imc_buf_adds(out, "`");
  } else {
    imc_buf_adds(out, o->type == T_USERS ? "none" : "empty");
  }
  if (o->im_def) {
    imc_buf_adds(out, " (*IM:* `");
    md_cell(out, o->im_def);
    imc_buf_adds(out, "`)");
  }
  imc_buf_adds(out, " | ");
  md_cell(out, o->help);
  imc_buf_adds(out, (o->flags & IMC_CFG_SECRET) ? " Secret: never shown. |\n" : " |\n");
}

int imc_config_write_doc(struct imc_buf *out, struct imc_err *err)
{
  imc_buf_addf(out, DOC_HEAD, MAX_INTERPOLATION_DEPTH, IMC_MAX_CONFIG, IMC_MAX_CONFIG_VALUE);
  for (size_t i = 0; i < N_OPTS; i++)
    doc_row(out, &opts[i]);
  imc_buf_adds(out, "\n## IM options imc does not implement\n\n"
                    "These options of IM 1.19.2 are recognised, reported as not supported, and "
                    "ignored:\n");
  for (size_t i = 0; i < sizeof im_unsupported / sizeof im_unsupported[0]; i++)
    imc_buf_addf(out, "%s`%s`", i == 0 ? "\n" : i % 4 == 0 ? ",\n" : ", ", im_unsupported[i]);
  imc_buf_adds(out, ".\n");
  imc_buf_adds(out, doc_tail);
  if (imc_buf_err(out))
    return imc_fail(err, (enum imc_code)imc_buf_err(out),
                    "writing the configuration "
                    "reference: %s",
                    imc_buf_err(out) == IMC_E_TOOBIG ? "too long" : "out of memory");
  return 0;
}
