/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's configuration.  The file is read the way IM reads im.cfg, with Python's ConfigParser
 * (strict mode, BasicInterpolation), so that an IM administrator's file means the same here:
 *   1. the INI text is cut into sections and entries (ini.c), keeping line and column;
 *   2. each entry of [im] (then of [DEFAULT], which ConfigParser merges into every section) is
 *      interpolated and parsed by the type of its option into a stage;
 *   3. only when everything parsed is the stage committed, so a failed load changes nothing.
 * The option table comes from IMC_CONFIG_OPTIONS in config.h; the documentation is generated
 * from it too (imc_config_write_doc, in config_doc.c). */
#include "imc/config.h"
#include "imc/alloc.h"
#include "imc/model.h"
#include "config_int.h"
#include "ini.h"
#include "json_secret.h"

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

#define MAX_SUGGEST_NAME 64 /* longer unknown names get no "did you mean" */

/* Where a value came from, for messages: a file position, or an environment variable. */
struct where {
  const char *source; /* NULL: the environment */
  const char *var;    /* the variable, when source is NULL */
  int line, col;
  bool exact; /* the value is the text at line:col (no continuation, no interpolation) */
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
const struct opt config_opts[CONFIG_N_OPTS] = {
#define OPT(NAME, field, type, def, im_def, min, max, check, flags, help)                         \
  {#NAME, T_##type, def, im_def, min, max, CHECK_FN_##check, flags,                              \
   offsetof(struct imc_config, field), help},
  IMC_CONFIG_OPTIONS(OPT)
#undef OPT
};
/* clang-format on */

/* Options of IM 1.19.2 that imc reads and ignores, so that an im.cfg loads with a clear
 * warning for each rather than "unknown option". */
/* clang-format off */
const char *const config_im_unsupported[] = {
  "USER_DB", "IM_PATH", "CONTEXTUALIZATION_DIR", "RECIPES_DIR",
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
const size_t config_n_im_unsupported =
  sizeof config_im_unsupported / sizeof config_im_unsupported[0];

/* --- small text helpers --------------------------------------------------------------- */

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool name_is(const char *name, const char *p, size_t n)
{
  return strlen(name) == n && strncasecmp(name, p, n) == 0;
}

/* The table index of an option name, or -1.  exact_case: the environment's rule. */
static int opt_index(const char *p, size_t n, bool exact_case)
{
  for (size_t i = 0; i < CONFIG_N_OPTS; i++) {
    if (strlen(config_opts[i].name) != n)
      continue;
    if (exact_case ? memcmp(config_opts[i].name, p, n) == 0
                   : strncasecmp(config_opts[i].name, p, n) == 0)
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
      size_t best = diag + (ini_lower(a[i - 1]) != ini_lower(b[j - 1]));

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
  for (size_t i = 0; i < CONFIG_N_OPTS; i++) {
    size_t d, len = strlen(config_opts[i].name);

    /* The distance is at least the difference of the lengths. */
    if (len > MAX_SUGGEST_NAME || len + best_d <= n || n + best_d <= len)
      continue;
    d = distance(p, n, config_opts[i].name, len);
    if (d < best_d) {
      best_d = d;
      best = config_opts[i].name;
    }
  }
  return best;
}

static bool im_knows(const char *p, size_t n)
{
  for (size_t i = 0; i < config_n_im_unsupported; i++)
    if (name_is(config_im_unsupported[i], p, n))
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
    ini_excerpt(ex, sizeof ex, value, strlen(value));
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
  return w->col + ini_code_points(s, at);
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
  return v->s ? 0 : ini_nomem(err);
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
    return ini_nomem(err);
  if (o->check && (what = o->check(item)) != NULL)
    r = bad(err, w, o, col, item, "expected %s", what);
  else if (list_push(l, item) != 0)
    r = ini_nomem(err);
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
    for (a = p; a < end && ini_is_space(*a); a++)
      ;
    for (b = end; b > a && ini_is_space(b[-1]); b--)
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
          ? ini_nomem(err)
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
    r = ini_nomem(err);
out:
  imc_json_wipe(j); /* ADMIN_USER holds passwords */
  json_decref(j);
  ini_buf_wipe_free(&out);
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

const char *config_type_doc(enum opt_type t)
{
  return types[t].doc;
}

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
  bool set[CONFIG_N_OPTS];
  int prio[CONFIG_N_OPTS]; /* the environment: IMC_DATA_DB beats IM_DATA_DB */
  union val v[CONFIG_N_OPTS];
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
  for (size_t i = 0; i < CONFIG_N_OPTS; i++)
    if (st->set[i])
      val_drop(&config_opts[i], &st->v[i]);
  list_free(&st->warnings);
}

/* Takes *v. */
static void stage_set(struct stage *st, size_t i, union val *v, int prio)
{
  if (st->set[i])
    val_drop(&config_opts[i], &st->v[i]);
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
    return ini_nomem(err);
  }
  return 0;
}

/* Moves the staged values and warnings into cfg; the only step that can fail (making room
 * for the warnings) comes first, so cfg is either unchanged or fully updated. */
static int commit(struct imc_config *cfg, struct stage *st, struct imc_err *err)
{
  struct imc_config_list *w = &cfg->warnings;

  if (imc_grow((void **)&w->items, &w->cap, w->n + st->warnings.n, sizeof *w->items))
    return ini_nomem(err);
  for (size_t i = 0; i < CONFIG_N_OPTS; i++) {
    union val old;
    void *field = (char *)cfg + config_opts[i].off;

    if (!st->set[i])
      continue;
    memcpy(&old, field, types[config_opts[i].type].size);
    val_drop(&config_opts[i], &old);
    memcpy(field, &st->v[i], types[config_opts[i].type].size);
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

/* --- applying a file ------------------------------------------------------------------ */

static int warn_unknown(const struct ini *ini, const struct ini_ent *e, struct stage *st,
                        struct imc_err *err)
{
  const char *sect = e->sect == ini->im ? "im" : "DEFAULT", *hint;
  char name[64];

  if (!warn_room(st))
    return 0;
  ini_excerpt(name, sizeof name, e->name.p, e->name.n);
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
  union val v;

  if (idx < 0)
    return warn_unknown(ini, e, st, err);
  imc_buf_init(&text, IMC_MAX_CONFIG_VALUE);
  if (e->value.len > 0 && memchr(e->value.data, '%', e->value.len)) {
    /* Interpolated text no longer lines up with the file. */
    w.exact = false;
    r = ini_interpolate(ini, e, config_opts[idx].name, &text, err);
  } else {
    imc_buf_add(&text, imc_buf_cstr(&e->value), e->value.len);
    r = imc_buf_err(&text) == IMC_E_NOMEM ? ini_nomem(err) : 0;
    if (imc_buf_err(&text) == IMC_E_TOOBIG)
      r = imc_fail_at(err, IMC_E_TOOBIG, w.source, w.line, w.col,
                      "option %s: the value is longer than %u bytes", config_opts[idx].name,
                      IMC_MAX_CONFIG_VALUE);
  }
  if (r == 0 && (r = types[config_opts[idx].type].parse(&config_opts[idx], &w, imc_buf_cstr(&text),
                                                        &v, err)) == 0)
    stage_set(st, (size_t)idx, &v, 0);
  ini_buf_wipe_free(&text);
  return r;
}

/* IM reads the options of [im], in the file's order, then those [DEFAULT] adds; nothing
 * when there is no [im] section at all. */
static int apply_ini(const struct ini *ini, struct stage *st, struct imc_err *err)
{
  int r = 0;

  if (ini->im == INI_NONE)
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
  for (size_t i = 0; i < CONFIG_N_OPTS && r == 0; i++)
    if ((r = types[config_opts[i].type].parse(&config_opts[i], &w, config_opts[i].def, &v, err)) ==
        0)
      stage_set(&st, i, &v, 0);
  if (r == 0)
    r = commit(cfg, &st, err);
  stage_free(&st);
  return r;
}

int imc_config_load(struct imc_config *cfg, const char *source, const char *text, size_t len,
                    struct imc_err *err)
{
  struct ini ini = {.source = source, .im = INI_NONE, .def = INI_NONE};
  struct stage st;
  size_t at;
  int r, line, col;

  if (len > IMC_MAX_CONFIG)
    return imc_fail(err, IMC_E_TOOBIG, "%s: larger than the limit of %u bytes", source,
                    IMC_MAX_CONFIG);
  if ((at = ini_bad_text_at(text, len)) < len) {
    /* Columns of the first line start after a byte order mark, as the reader's do. */
    bool bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0;

    ini_position(text + 3 * bom, at - 3 * bom, &line, &col);
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
  ini_buf_wipe_free(&text);
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
  ini_excerpt(name, sizeof name, var, var_n);
  while (a < b && ini_is_space(*a))
    a++;
  while (b > a && ini_is_space(b[-1]))
    b--;
  if (ini_bad_text_at(a, (size_t)(b - a)) < (size_t)(b - a))
    return bad(err, &w, &config_opts[i], 0, NULL, "not valid UTF-8 text");
  if ((size_t)(b - a) > IMC_MAX_CONFIG_VALUE)
    return imc_fail(err, IMC_E_TOOBIG, "environment variable %s: longer than %u bytes", name,
                    IMC_MAX_CONFIG_VALUE);
  copy = imc_strndup(a, (size_t)(b - a));
  if (!copy)
    return ini_nomem(err);
  if ((r = types[config_opts[i].type].parse(&config_opts[i], &w, copy, &v, err)) == 0)
    stage_set(st, i, &v, prio);
  if (config_opts[i].flags & IMC_CFG_SECRET)
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
  ini_excerpt(name, sizeof name, entry, n);
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
  for (size_t i = 0; i < CONFIG_N_OPTS; i++) {
    union val v;

    memcpy(&v, (char *)cfg + config_opts[i].off, types[config_opts[i].type].size);
    val_drop(&config_opts[i], &v);
  }
  list_free(&cfg->warnings);
  memset(cfg, 0, sizeof *cfg);
}
