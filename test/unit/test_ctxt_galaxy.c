/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The roles and collections of disk.0.applications (lib/ctxt_galaxy.c): IM's forms, duplicates,
 * the offline source (a directory or a URL), names refused, and a real `ansible-galaxy`
 * install from an offline directory (when Ansible is installed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxt_int.h"
#include "imc/alloc.h"
#include "imc/radl.h"

static struct imc_doc *parse(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  if (radl_parse("t.radl", text, strlen(text), NULL, &doc, &err))
    fail_msg("parse: %s", err.msg);
  return doc;
}

/* requirements.yml for text with offline as the source; NULL when it fails (err says why). */
static char *reqs(const char *text, const char *offline, bool *roles, bool *colls,
                  struct imc_err *err)
{
  struct imc_doc *doc = parse(text);
  struct imc_buf b;
  char *out = NULL;

  imc_buf_init(&b, CTXT_MAX_REQUIREMENTS);
  if (ctxt_galaxy_requirements(doc, offline, &b, roles, colls, err) == 0)
    out = imc_buf_take(&b, NULL);
  imc_buf_free(&b);
  imc_doc_free(doc);
  return out ? out : (err->code ? NULL : imc_strdup(""));
}

static void test_im_forms_become_requirements(void **state)
{
  struct imc_err err = {0};
  bool roles, colls;
  char *t = reqs(
    "system s (disk.0.applications contains (name = 'ansible.roles.grycap.slurm' and "
    "version = 'v1.2') and disk.0.applications contains (name = "
    "'ansible.roles.https://example.org/r/web.tar.gz|web') and disk.0.applications contains "
    "(name = 'ansible.roles.git+https://example.org/g.git|g') and disk.0.applications contains "
    "(name = 'ansible.collections.community.general,8.0.0') and disk.0.applications contains "
    "(name = 'ansible.collections.ns.c' and version = '2.1.0') and disk.0.applications contains "
    "(name = 'ansible.collections.https://example.org/ns-x-1.0.0.tar.gz') and "
    "disk.0.applications contains (name = 'nginx'))\n",
    "", &roles, &colls, &err);

  (void)state;
  assert_non_null(t);
  assert_true(roles && colls);
  assert_string_equal(t, "---\n# Written by imc: what disk.0.applications asks for.\n"
                         "roles:\n"
                         "  - src: \"grycap.slurm\"\n    version: \"v1.2\"\n"
                         "  - src: \"https://example.org/r/web.tar.gz\"\n    name: \"web\"\n"
                         "  - src: \"git+https://example.org/g.git\"\n    name: \"g\"\n"
                         "collections:\n"
                         "  - name: \"community.general\"\n    version: \"8.0.0\"\n"
                         "  - name: \"ns.c\"\n    version: \"2.1.0\"\n"
                         "  - name: \"https://example.org/ns-x-1.0.0.tar.gz\"\n    type: \"url\"\n");
  imc_free(t);
}

static void test_nothing_asked_writes_nothing(void **state)
{
  struct imc_err err = {0};
  bool roles = true, colls = true;
  char *t = reqs("system s (disk.0.applications contains (name = 'nginx'))\nsystem u ()\n", "",
                 &roles, &colls, &err);

  (void)state;
  assert_string_equal(t, "");
  assert_false(roles || colls);
  imc_free(t);
}

static void test_duplicates_across_systems_are_installed_once(void **state)
{
  struct imc_err err = {0};
  bool roles, colls;
  char *t = reqs("system a (disk.0.applications contains (name = 'ansible.roles.x.y'))\n"
                 "system b (disk.0.applications contains (name = 'ansible.roles.x.y'))\n",
                 "", &roles, &colls, &err);

  (void)state;
  assert_string_equal(t, "---\n# Written by imc: what disk.0.applications asks for.\nroles:\n"
                         "  - src: \"x.y\"\n");
  assert_true(roles && !colls);
  imc_free(t);
}

static void put(const char *dir, const char *name)
{
  char path[600];
  int fd;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  close(fd);
}

static void test_offline_directory_gives_the_tarballs(void **state)
{
  char dir[] = "/tmp/imc-gx-XXXXXX", path[700];
  struct imc_err err = {0};
  bool roles, colls;
  char *t, want[2048];

  (void)state;
  assert_non_null(mkdtemp(dir));
  put(dir, "x.web.tar.gz");
  put(dir, "x.db-2.0.tar.gz");
  put(dir, "ns-c-1.2.0.tar.gz");
  put(dir, "ns-c-1.10.0.tar.gz");
  put(dir, "ns-cc-9.0.0.tar.gz");
  t = reqs("system s (disk.0.applications contains (name = 'ansible.roles.x.web') and "
           "disk.0.applications contains (name = 'ansible.roles.x.db|db' and version = '2.0') and "
           "disk.0.applications contains (name = 'ansible.collections.ns.c'))\n",
           dir, &roles, &colls, &err);
  assert_non_null(t);
  snprintf(want, sizeof want,
           "---\n# Written by imc: what disk.0.applications asks for.\nroles:\n"
           "  - src: \"%s/x.web.tar.gz\"\n    name: \"x.web\"\n"
           "  - src: \"%s/x.db-2.0.tar.gz\"\n    name: \"db\"\n"
           "collections:\n"
           "  - name: \"%s/ns-c-1.10.0.tar.gz\"\n    type: \"file\"\n",
           dir, dir, dir);
  assert_string_equal(t, want); /* 1.10.0 is newer than 1.2.0 */
  imc_free(t);
  /* Missing from the directory: an error that names the file, not a run that fails later. */
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.roles.x.gone'))\n",
                   dir, &roles, &colls, &err));
  assert_int_equal(err.code, IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "system s: ansible.roles.x.gone:"));
  assert_non_null(strstr(err.msg, "x.gone.tar.gz is not in GALAXY_OFFLINE_SOURCE"));
  imc_err_clear(&err);
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.collections.ns.z'))\n",
                   dir, &roles, &colls, &err));
  assert_non_null(strstr(err.msg, "has no tarball of it"));
  imc_err_clear(&err);
  /* A name that would leave the directory. */
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.roles.../../etc'))\n",
                   dir, &roles, &colls, &err));
  assert_non_null(strstr(err.msg, "not a name GALAXY_OFFLINE_SOURCE can hold"));
  imc_err_clear(&err);
  /* An explicit URL is used as given. */
  t = reqs("system s (disk.0.applications contains (name = "
           "'ansible.roles.https://example.org/w.tar.gz|w'))\n",
           dir, &roles, &colls, &err);
  assert_non_null(strstr(t, "src: \"https://example.org/w.tar.gz\""));
  imc_free(t);
  {
    const char *files[] = {"x.web.tar.gz", "x.db-2.0.tar.gz", "ns-c-1.2.0.tar.gz",
                           "ns-c-1.10.0.tar.gz", "ns-cc-9.0.0.tar.gz"};

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      unlink(path);
    }
    rmdir(dir);
  }
}

static void test_offline_url_needs_collection_versions(void **state)
{
  struct imc_err err = {0};
  bool roles, colls;
  char *t = reqs("system s (disk.0.applications contains (name = 'ansible.roles.x.web') and "
                 "disk.0.applications contains (name = 'ansible.collections.ns.c,1.0.0'))\n",
                 "http://127.0.0.1:8000/galaxy/", &roles, &colls, &err);

  (void)state;
  assert_non_null(t);
  assert_non_null(strstr(t, "  - src: \"http://127.0.0.1:8000/galaxy/x.web.tar.gz\"\n"
                            "    name: \"x.web\"\n"));
  assert_non_null(strstr(t, "  - name: \"http://127.0.0.1:8000/galaxy/ns-c-1.0.0.tar.gz\"\n"
                            "    type: \"url\"\n"));
  imc_free(t);
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.collections.ns.c'))\n",
                   "http://127.0.0.1:8000/galaxy", &roles, &colls, &err));
  assert_non_null(strstr(err.msg, "a URL source needs the version"));
}

static void test_control_characters_and_empty_names_are_refused(void **state)
{
  struct imc_err err = {0};
  bool roles, colls;

  (void)state;
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.roles.a\nb'))\n", "",
                   &roles, &colls, &err));
  assert_non_null(strstr(err.msg, "control character"));
  imc_err_clear(&err);
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.roles.|n'))\n", "",
                   &roles, &colls, &err));
  assert_non_null(strstr(err.msg, "an empty role source or name"));
  imc_err_clear(&err);
  assert_null(reqs("system s (disk.0.applications contains (name = 'ansible.collections.'))\n",
                   "", &roles, &colls, &err));
  assert_non_null(strstr(err.msg, "an empty collection name"));
}

/* Runs argv (a NULL-terminated list) in dir with its output thrown away; its exit status. */
static int run_in(const char *dir, const char *const *argv)
{
  int status;
  pid_t pid = fork();

  assert_true(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);

    if (chdir(dir) != 0)
      _exit(126);
    dup2(null, 1);
    dup2(null, 2);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* The requirements written for an offline directory install with the real ansible-galaxy,
 * with no network: a role tarball and a collection built by `ansible-galaxy collection build`. */
static void test_real_ansible_galaxy_installs_from_the_offline_directory(void **state)
{
  char dir[] = "/tmp/imc-gxr-XXXXXX", path[700];
  const char *rm[] = {"rm", "-rf", dir, NULL};
  struct imc_err err = {0};
  struct imc_buf b;
  bool roles, colls;
  struct imc_doc *doc;

  (void)state;
  if (access("/usr/bin/ansible-galaxy", X_OK) != 0)
    skip();
  assert_non_null(mkdtemp(dir));
  {
    const char *mk[] = {"mkdir", "-p", "src/web/tasks", "src/web/meta", "offline", NULL};
    const char *tar[] = {"tar", "-C", "src", "-czf", "offline/x.web.tar.gz", "web", NULL};
    const char *init[] = {"ansible-galaxy", "collection", "init", "--init-path", "src",
                          "ns.tools", NULL};
    const char *build[] = {"ansible-galaxy", "collection", "build", "src/ns/tools",
                           "--output-path", "offline", NULL};

    assert_int_equal(run_in(dir, mk), 0);
    snprintf(path, sizeof path, "%s/src/web/tasks/main.yml", dir);
    write_text(path, "- ansible.builtin.debug: msg=web\n");
    snprintf(path, sizeof path, "%s/src/web/meta/main.yml", dir);
    write_text(path, "galaxy_info:\n  author: imc\n  license: GPL-3.0-or-later\n"
                     "dependencies: []\n");
    assert_int_equal(run_in(dir, tar), 0);
    assert_int_equal(run_in(dir, init), 0);
    assert_int_equal(run_in(dir, build), 0);
  }
  doc = parse("system s (disk.0.applications contains (name = 'ansible.roles.x.web') and "
              "disk.0.applications contains (name = 'ansible.collections.ns.tools'))\n");
  imc_buf_init(&b, CTXT_MAX_REQUIREMENTS);
  snprintf(path, sizeof path, "%s/offline", dir);
  assert_int_equal(ctxt_galaxy_requirements(doc, path, &b, &roles, &colls, &err), 0);
  snprintf(path, sizeof path, "%s/requirements.yml", dir);
  write_text(path, imc_buf_cstr(&b));
  {
    const char *role[] = {"ansible-galaxy", "role", "install", "-r", "requirements.yml", "-p",
                          "roles", NULL};
    const char *coll[] = {"ansible-galaxy", "collection", "install", "-r", "requirements.yml",
                          "-p", "collections", "--offline", NULL};

    assert_int_equal(run_in(dir, role), 0);
    assert_int_equal(run_in(dir, coll), 0);
  }
  snprintf(path, sizeof path, "%s/roles/x.web/tasks/main.yml", dir);
  assert_int_equal(access(path, R_OK), 0);
  snprintf(path, sizeof path, "%s/collections/ansible_collections/ns/tools/MANIFEST.json", dir);
  assert_int_equal(access(path, R_OK), 0);
  assert_int_equal(run_in("/", rm), 0);
  imc_buf_free(&b);
  imc_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_im_forms_become_requirements),
    cmocka_unit_test(test_nothing_asked_writes_nothing),
    cmocka_unit_test(test_duplicates_across_systems_are_installed_once),
    cmocka_unit_test(test_offline_directory_gives_the_tarballs),
    cmocka_unit_test(test_offline_url_needs_collection_versions),
    cmocka_unit_test(test_control_characters_and_empty_names_are_refused),
    cmocka_unit_test(test_real_ansible_galaxy_installs_from_the_offline_directory),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
