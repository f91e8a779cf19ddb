/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Ansible roles and collections a document asks for in disk.0.applications, as the
 * requirements.yml that ansible-galaxy installs into a run's directory (the driver runs it
 * before the first playbook; Ansible runs on this host, so that is where they go).
 *
 * The forms are IM's: `ansible.roles.SRC[|NAME]` and `ansible.collections.NAME[,VERSION]`, with
 * the application's `version`.  A Galaxy name can come from GALAXY_OFFLINE_SOURCE instead of
 * Galaxy's servers, for machines without Internet access. */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "ctxt_int.h"
#include "imc/alloc.h"

#define ROLE_PREFIX       "ansible.roles."
#define COLLECTION_PREFIX "ansible.collections."
#define MAX_ENTRIES       256

struct entry {
  bool role;
  const char *src, *name, *version, *type; /* NULL: left out */
};

struct reqs {
  struct entry v[MAX_ENTRIES];
  size_t n;
  char *owned[3 * MAX_ENTRIES];
  size_t nowned;
};

static int room(const struct reqs *r, struct imc_err *err)
{
  if (r->nowned + 3 > sizeof r->owned / sizeof r->owned[0])
    return imc_fail(err, IMC_E_TOOBIG, "more than %d Ansible roles and collections", MAX_ENTRIES);
  return 0;
}

static char *keep(struct reqs *r, char *s)
{
  if (s && r->nowned < sizeof r->owned / sizeof r->owned[0]) {
    r->owned[r->nowned++] = s;
    return s;
  }
  imc_free(s);
  return NULL;
}

static bool is_url(const char *s)
{
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
         strncmp(s, "git+", 4) == 0 || strncmp(s, "file://", 7) == 0;
}

/* A Galaxy name that can be a file name in the offline source: no '/', no leading '.'. */
static bool plain_name(const char *s)
{
  return *s && *s != '.' && !strchr(s, '/');
}

static bool same(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int add(struct reqs *r, const struct entry *e, struct imc_err *err)
{
  for (size_t i = 0; i < r->n; i++) {
    const struct entry *o = &r->v[i];

    if (o->role == e->role && same(o->src, e->src) && same(o->name, e->name) &&
        same(o->version, e->version))
      return 0; /* asked for by several systems: installed once, as IM does */
  }
  if (r->n == MAX_ENTRIES)
    return imc_fail(err, IMC_E_TOOBIG, "more than %d Ansible roles and collections", MAX_ENTRIES);
  r->v[r->n++] = *e;
  return 0;
}

/* The newest NS-NAME-*.tar.gz in dir (collections built by `ansible-galaxy collection build`),
 * as a new string, or NULL. */
static char *newest_collection(const char *dir, const char *ns_name)
{
  struct imc_buf prefix;
  struct dirent *de;
  char *best = NULL;
  DIR *d = opendir(dir);

  if (!d)
    return NULL;
  imc_buf_init(&prefix, 1024);
  imc_buf_adds(&prefix, ns_name);
  for (char *p = prefix.data; p && *p; p++)
    if (*p == '.')
      *p = '-';
  imc_buf_addc(&prefix, '-');
  while (!imc_buf_err(&prefix) && (de = readdir(d)) != NULL) {
    size_t n = strlen(de->d_name);

    if (n <= prefix.len + 7 || strncmp(de->d_name, prefix.data, prefix.len) != 0 ||
        strcmp(de->d_name + n - 7, ".tar.gz") != 0)
      continue;
    if (!best || strverscmp(de->d_name, best) > 0) {
      imc_free(best);
      best = imc_strdup(de->d_name);
    }
  }
  closedir(d);
  imc_buf_free(&prefix);
  return best;
}

/* Where a Galaxy name is installed from when an offline source is set: *src (kept by r). */
static int offline_src(struct reqs *r, const char *offline, bool role, const char *name,
                       const char *version, const char **src, struct imc_err *err)
{
  bool url = is_url(offline);
  struct imc_buf b;
  char *file = NULL;

  if (!plain_name(name) || (version && !plain_name(version)))
    return imc_fail(err, IMC_E_INVAL, "%s%s: not a name GALAXY_OFFLINE_SOURCE can hold",
                    role ? ROLE_PREFIX : COLLECTION_PREFIX, name);
  imc_buf_init(&b, 8192);
  if (role || version) {
    imc_buf_adds(&b, name);
    for (size_t i = 0; !role && i < b.len; i++)
      if (b.data[i] == '.')
        b.data[i] = '-'; /* ansible-galaxy's artifact name: NS-NAME-VERSION.tar.gz */
    if (version)
      imc_buf_addf(&b, "-%s", version);
    imc_buf_adds(&b, ".tar.gz");
    file = imc_buf_take(&b, NULL);
  } else if (!url) {
    file = newest_collection(offline, name);
  }
  imc_buf_free(&b);
  if (!file)
    return imc_fail(err, IMC_E_INVAL,
                    "%s%s: %s has no tarball of it (NS-NAME-VERSION.tar.gz; a URL source needs "
                    "the version)",
                    COLLECTION_PREFIX, name, offline);
  imc_buf_init(&b, 16384);
  imc_buf_addf(&b, "%s%s%s", offline, offline[strlen(offline) - 1] == '/' ? "" : "/", file);
  imc_free(file);
  if (!(*src = keep(r, imc_buf_take(&b, NULL))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (!url && access(*src, R_OK) != 0)
    return imc_fail(err, IMC_E_INVAL, "%s%s: %s is not in GALAXY_OFFLINE_SOURCE",
                    role ? ROLE_PREFIX : COLLECTION_PREFIX, name, *src);
  return 0;
}

/* ansible.roles.SRC[|NAME] */
static int role(struct reqs *r, const char *spec, const char *version, const char *offline,
                struct imc_err *err)
{
  const char *bar = strchr(spec, '|');
  struct entry e = {.role = true, .version = version};
  char *src;
  int rc;

  if ((rc = room(r, err)) != 0)
    return rc;
  src = bar ? imc_strndup(spec, (size_t)(bar - spec)) : imc_strdup(spec);
  if (!keep(r, src))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (bar && !(e.name = keep(r, imc_strdup(bar + 1))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (!*src || (e.name && !*e.name))
    return imc_fail(err, IMC_E_INVAL, "%s%s: an empty role source or name", ROLE_PREFIX, spec);
  e.src = src;
  if (!is_url(src) && *offline) {
    if ((rc = offline_src(r, offline, true, src, version, &e.src, err)) != 0)
      return rc;
    if (!e.name)
      e.name = src; /* the tarball would name it after the file */
    e.version = NULL;
  }
  return add(r, &e, err);
}

/* ansible.collections.NAME[,VERSION] */
static int collection(struct reqs *r, const char *spec, const char *version, const char *offline,
                      struct imc_err *err)
{
  const char *comma = is_url(spec) ? NULL : strchr(spec, ',');
  struct entry e = {.role = false, .version = version};
  char *name;
  int rc;

  if ((rc = room(r, err)) != 0)
    return rc;
  name = comma ? imc_strndup(spec, (size_t)(comma - spec)) : imc_strdup(spec);
  if (!keep(r, name))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (comma && !(e.version = keep(r, imc_strdup(comma + 1))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (!*name)
    return imc_fail(err, IMC_E_INVAL, "%s%s: an empty collection name", COLLECTION_PREFIX, spec);
  e.name = name;
  if (is_url(name)) {
    e.type = "url";
    e.version = NULL;
  } else if (*offline) {
    if ((rc = offline_src(r, offline, false, name, e.version, &e.name, err)) != 0)
      return rc;
    e.type = is_url(offline) ? "url" : "file";
    e.version = NULL;
  }
  return add(r, &e, err);
}

static bool clean_text(const char *s)
{
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return false;
  return true;
}

static int read_apps(const struct imc_doc *doc, const char *offline, struct reqs *r,
                     struct imc_err *err)
{
  for (size_t s = 0; s < doc->nsystems; s++) {
    const struct imc_prop *apps =
      imc_features_prop(&doc->systems[s]->feats, "disk.0.applications");

    for (size_t i = 0; apps && apps->kind == IMC_PROP_CONTAINS && i < apps->nitems; i++) {
      const struct imc_features *app = apps->items[i]->sub;
      const char *name = app ? imc_features_str(app, "name") : NULL;
      const char *version = app ? imc_features_str(app, "version") : NULL;
      int rc = 0;

      if (!name)
        continue;
      if (!clean_text(name) || !clean_text(version))
        return imc_fail(err, IMC_E_INVAL, "system %s: an application name or version with a "
                                          "control character",
                        doc->systems[s]->id);
      if (version && !*version)
        version = NULL;
      if (strncmp(name, ROLE_PREFIX, strlen(ROLE_PREFIX)) == 0)
        rc = role(r, name + strlen(ROLE_PREFIX), version, offline, err);
      else if (strncmp(name, COLLECTION_PREFIX, strlen(COLLECTION_PREFIX)) == 0)
        rc = collection(r, name + strlen(COLLECTION_PREFIX), version, offline, err);
      if (rc)
        return imc_err_prefix(err, "system %s: ", doc->systems[s]->id);
    }
  }
  return 0;
}

static void write_list(const struct reqs *r, bool roles, struct imc_buf *out)
{
  static const char *const keys[] = {"src", "name", "version", "type"};
  bool any = false;

  for (size_t i = 0; i < r->n; i++) {
    const struct entry *e = &r->v[i];
    const char *vals[] = {e->src, e->name, e->version, e->type};
    bool first = true;

    if (e->role != roles)
      continue;
    if (!any)
      imc_buf_adds(out, roles ? "roles:\n" : "collections:\n");
    any = true;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      if (!vals[k])
        continue;
      imc_buf_addf(out, "  %s %s: ", first ? "-" : " ", keys[k]);
      ctxt_yaml_quote(out, vals[k]);
      imc_buf_addc(out, '\n');
      first = false;
    }
  }
}

int ctxt_galaxy_requirements(const struct imc_doc *doc, const char *offline, struct imc_buf *out,
                             bool *roles, bool *collections, struct imc_err *err)
{
  struct reqs *r = imc_calloc(1, sizeof *r);
  int rc;

  *roles = *collections = false;
  if (!r)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if ((rc = read_apps(doc, offline ? offline : "", r, err)) != 0)
    goto out;
  for (size_t i = 0; i < r->n; i++) {
    *roles |= r->v[i].role;
    *collections |= !r->v[i].role;
  }
  if (r->n) {
    imc_buf_adds(out, "---\n# Written by imc: what disk.0.applications asks for.\n");
    write_list(r, true, out);
    write_list(r, false, out);
  }
  if (imc_buf_err(out))
    rc = imc_fail(err, imc_buf_err(out), "requirements.yml is too large");
out:
  for (size_t i = 0; i < r->nowned; i++)
    imc_free(r->owned[i]);
  imc_free(r);
  return rc;
}
