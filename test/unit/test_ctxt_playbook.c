/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The playbooks of a contextualization run (lib/ctxt_playbook.c): user steps from the
 * contextualize sentence, IM's default without one, the basic step, recipe files, and
 * ansible-playbook --syntax-check on what is written (when Ansible is installed). */
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

#define SYSTEMS                                           \
  "network net (outbound = 'yes')\n"                      \
  "system front (net_interface.0.connection = 'net' and " \
  "disk.0.os.credentials.username = 'root')\n"            \
  "system wn (net_interface.0.connection = 'net' and "    \
  "disk.0.os.credentials.username = 'root')\n"            \
  "system db (net_interface.0.connection = 'net' and "    \
  "disk.0.os.credentials.username = 'root')\n"

#define TASKS(msg) "@begin\n- name: say\n  ansible.builtin.debug:\n    msg: " msg "\n@end\n"

static const char *const all_systems[] = {"front", "wn", "db"};

static struct imc_doc *parse(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  if (radl_parse("t.radl", text, strlen(text), NULL, &doc, &err))
    fail_msg("parse: %s", err.msg);
  return doc;
}

static void plan(const struct imc_doc *doc, const char *const *systems, size_t n,
                 struct ctxt_steps *steps)
{
  struct imc_err err = {0};

  if (ctxt_steps_plan(doc, systems, n, steps, &err))
    fail_msg("plan: %s", err.msg);
}

static void test_steps_follow_step_numbers(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure a (" TASKS(
    "a") ")\n"
         "configure b (" TASKS("b") ")\n"
                                    "contextualize (\n"
                                    "  system wn configure b step 3\n"
                                    "  system front configure a step 1\n"
                                    ")\n");
  struct ctxt_steps s;

  (void)state;
  plan(doc, all_systems, 3, &s);
  assert_int_equal(s.n, 2);
  assert_true(s.v[0].step == 1 && s.v[1].step == 3);
  assert_string_equal(s.v[0].plays[0].configure, "a");
  assert_string_equal(s.v[0].plays[0].system, "front");
  assert_string_equal(s.v[1].plays[0].configure, "b");
  assert_string_equal(s.v[1].plays[0].system, "wn");
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_steps_same_number_share_one_step_in_item_order(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure a (" TASKS(
    "a") ")\n"
         "configure b (" TASKS("b") ")\n"
                                    "contextualize (\n"
                                    "  system wn configure b step 2\n"
                                    "  system front configure a step 2\n"
                                    "  system db configure a step 2\n"
                                    ")\n");
  struct ctxt_steps s;

  (void)state;
  plan(doc, all_systems, 3, &s);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].n, 3);
  assert_string_equal(s.v[0].plays[0].system, "wn");
  assert_string_equal(s.v[0].plays[1].system, "front");
  assert_string_equal(s.v[0].plays[2].system, "db");
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_steps_without_contextualize_run_configures_named_like_systems(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure front (" TASKS(
    "f") ")\n"
         "configure wn (" TASKS("w") ")\n"
                                     "configure other (" TASKS("o") ")\n");
  struct ctxt_steps s;

  (void)state;
  plan(doc, all_systems, 3, &s);
  assert_int_equal(s.n, 1);
  assert_true(s.v[0].step == 1);
  assert_int_equal(s.v[0].n, 2);
  assert_string_equal(s.v[0].plays[0].configure, "front");
  assert_string_equal(s.v[0].plays[0].system, "front");
  assert_string_equal(s.v[0].plays[1].configure, "wn");
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_steps_skip_systems_without_vms(void **state)
{
  struct imc_doc *doc =
    parse(SYSTEMS "configure front (" TASKS("f") ")\n"
                                                 "configure wn (" TASKS("w") ")\n");
  const char *const only_front[] = {"front"};
  struct ctxt_steps s;

  (void)state;
  plan(doc, only_front, 1, &s);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].n, 1);
  assert_string_equal(s.v[0].plays[0].system, "front");
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_steps_empty_configure_disables_its_system(void **state)
{
  struct imc_doc *doc = parse(
    SYSTEMS
    "configure front ()\n"
    "configure wn (" TASKS("w") ")\n"
                                "configure a (" TASKS("a") ")\n"
                                                           "contextualize (\n"
                                                           "  system front configure a step 1\n"
                                                           "  system wn configure a step 1\n"
                                                           ")\n");
  struct ctxt_steps s;

  (void)state;
  assert_true(ctxt_system_disabled(doc, "front"));
  assert_false(ctxt_system_disabled(doc, "wn"));
  plan(doc, all_systems, 3, &s);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].n, 1);
  assert_string_equal(s.v[0].plays[0].system, "wn");
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_step_playbook_includes_task_lists_on_their_group(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure a (" TASKS(
    "a") ")\n"
         "configure b (" TASKS("b") ")\n"
                                    "contextualize (\n"
                                    "  system wn configure b step 1\n"
                                    "  system front configure a step 1\n"
                                    ")\n");
  struct ctxt_steps s;
  struct imc_buf b;
  struct imc_err err = {0};
  const char *text, *p1, *p2;

  (void)state;
  plan(doc, all_systems, 3, &s);
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], 0, &b, &err), 0);
  text = imc_buf_cstr(&b);
  p1 = strstr(text, "- name: \"imc: play 0\"\n  hosts: all\n  gather_facts: false\n"
                    "- name: \"configure b on system wn\"\n"
                    "  hosts: \"wn\"\n  tasks:\n    - ansible.builtin.include_tasks: \"b.yml\"\n");
  p2 = strstr(text, "- name: \"imc: play 1\"\n  hosts: all\n  gather_facts: false\n"
                    "- name: \"configure a on system front\"\n"
                    "  hosts: \"front\"\n  tasks:\n    - ansible.builtin.include_tasks: \"a.yml\"\n");
  assert_non_null(p1);
  assert_non_null(p2);
  assert_true(p1 < p2);
  /* The rest of the step from its second play: the plays keep their numbers. */
  imc_buf_reset(&b);
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], 1, &b, &err), 0);
  text = imc_buf_cstr(&b);
  assert_null(strstr(text, "b.yml"));
  assert_non_null(strstr(text, "\"imc: play 1\""));
  assert_null(strstr(text, "\"imc: play 0\""));
  imc_buf_free(&b);
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_recipe_file_of_task_list_is_the_recipe(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure a (" TASKS("hello") ")\n");
  struct ctxt_play play = {.configure = "a", .system = "wn"};
  struct imc_buf b;
  struct imc_err err = {0};
  char *name;

  (void)state;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_recipe_file(doc, &play, &name, &b, &err), 0);
  assert_string_equal(name, "a.yml");
  assert_string_equal(imc_buf_cstr(&b), imc_doc_configure(doc, "a")->recipe);
  imc_free(name);
  imc_buf_free(&b);
  imc_doc_free(doc);
}

static void test_recipe_file_of_playbook_gets_the_system_as_hosts(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure p (\n@begin\n"
                                      "- hosts: somewhere\n  become: yes\n  tasks:\n"
                                      "  - ansible.builtin.debug: msg=one\n"
                                      "- tasks:\n  - ansible.builtin.debug: msg=two\n"
                                      "@end\n)\n"
                                      "contextualize (system db configure p step 4)\n");
  struct ctxt_steps s;
  struct imc_buf b;
  struct imc_err err = {0};
  char *name;
  const char *text;

  (void)state;
  plan(doc, all_systems, 3, &s);
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_recipe_file(doc, &s.v[0].plays[0], &name, &b, &err), 0);
  assert_string_equal(name, "p_db.yml");
  text = imc_buf_cstr(&b);
  assert_null(strstr(text, "somewhere"));
  /* Both plays run on the system's group; the other keys stay. */
  assert_non_null(strstr(text, "hosts: \"db\""));
  assert_non_null(strstr(strstr(text, "hosts: \"db\"") + 1, "hosts: \"db\""));
  assert_non_null(strstr(text, "become: yes"));
  imc_buf_reset(&b);
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], 0, &b, &err), 0);
  assert_non_null(strstr(imc_buf_cstr(&b), "- ansible.builtin.import_playbook: \"p_db.yml\"\n"));
  imc_free(name);
  imc_buf_free(&b);
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_recipe_file_refuses_bad_yaml_and_path_names(void **state)
{
  struct imc_doc *doc = parse(SYSTEMS "configure bad (\n@begin\n- [unclosed\n@end\n)\n"
                                      "configure scalar (\n@begin\njust text\n@end\n)\n");
  struct ctxt_play bad = {.configure = "bad", .system = "wn"};
  struct ctxt_play scalar = {.configure = "scalar", .system = "wn"};
  struct ctxt_play dots = {.configure = "scalar", .system = "../x"};
  struct imc_buf b;
  struct imc_err err = {0};
  char *name;

  (void)state;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_recipe_file(doc, &bad, &name, &b, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "bad"));
  memset(&err, 0, sizeof err);
  assert_int_equal(ctxt_recipe_file(doc, &scalar, &name, &b, &err), IMC_E_INVAL);
  memset(&err, 0, sizeof err);
  assert_int_equal(ctxt_recipe_file(doc, &dots, &name, &b, &err), IMC_E_INVAL);
  imc_buf_free(&b);
  imc_doc_free(doc);
}

static const struct ctxt_disk disks[] = {
  {.n = 1, .device = "/dev/vdb", .fstype = "ext4", .mount_path = "/mnt/data"},
};

static const struct ctxt_node nodes[] = {
  {.vmid = 0,
   .name = "front.localdomain",
   .system = "front",
   .hostname = "front",
   .domain = "localdomain",
   .private_ip = "10.0.0.2",
   .address = "10.0.0.2",
   .user = "root",
   .key_file = "/k0",
   .disks = disks,
   .ndisks = 1},
  {.vmid = 1,
   .name = "wn-1",
   .system = "wn",
   .hostname = "wn-1",
   .domain = "",
   .public_ip = "192.0.2.5",
   .address = "192.0.2.5",
   .user = "root",
   .key_file = "/k1",
   .new_password = "N3w!pass"},
};

static const struct ctxt_infra inf = {.id = "inf-9",
                                      .known_hosts = "/w/known_hosts",
                                      .facts_dir = "/w/run-1/facts",
                                      .nodes = nodes,
                                      .n = 2};

static void test_basic_playbook_sets_hostname_hosts_and_disks(void **state)
{
  struct imc_buf b;
  struct imc_err err = {0};
  const char *t;

  (void)state;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_basic_playbook(&inf, &b, &err), 0);
  t = imc_buf_cstr(&b);
  assert_non_null(strstr(t, "  hosts: all\n  gather_facts: false\n"));
  assert_non_null(strstr(t, "dest: /etc/hostname"));
  assert_non_null(strstr(t, "argv: [hostname, \"{{ IM_NODE_FQDN }}\"]"));
  assert_non_null(strstr(t, "path: /etc/hosts"));
  assert_non_null(strstr(t, "          10.0.0.2 front.localdomain front\n"));
  assert_non_null(strstr(t, "          192.0.2.5 wn-1\n"));
  assert_non_null(strstr(t, "# {mark} imc infrastructure inf-9"));
  /* Disks come from each host's IMC_DISKS; swap only for fstype swap. */
  assert_non_null(strstr(t, "loop: \"{{ IMC_DISKS | default([]) }}\""));
  assert_non_null(strstr(t, "'mkswap' if item.item.fstype == 'swap'"));
  assert_non_null(strstr(t, "selectattr('fstype', 'equalto', 'swap')"));
  imc_buf_free(&b);
}

static void test_ansible_cfg_pins_known_hosts_and_short_lived_masters(void **state)
{
  struct imc_buf b;
  struct imc_err err = {0};
  const char *t;

  (void)state;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_ansible_cfg(&inf, "/w/run-1", &b, &err), 0);
  t = imc_buf_cstr(&b);
  assert_non_null(strstr(t, "inventory = /w/run-1/hosts\n"));
  assert_non_null(strstr(t, "host_key_checking = True\n"));
  assert_non_null(strstr(t, "pipelining = True\n"));
  assert_non_null(strstr(t, "ControlPersist=30s"));
  assert_non_null(strstr(t, "control_path_dir = /w/run-1/cp\n"));
  assert_non_null(strstr(t, "fact_caching_connection = /w/run-1/facts\n"));
  assert_non_null(strstr(t, "gathering = smart\n"));
  imc_buf_free(&b);
}

static void test_creds_playbook_only_when_asked(void **state)
{
  struct ctxt_infra none = {.id = "i", .nodes = nodes, .n = 1};
  struct imc_buf b;
  struct imc_err err = {0};
  bool any = true;

  (void)state;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_creds_playbook(&none, &any, &b, &err), 0);
  assert_false(any);
  assert_int_equal(b.len, 0);
  assert_int_equal(ctxt_creds_playbook(&inf, &any, &b, &err), 0);
  assert_true(any);
  assert_non_null(strstr(imc_buf_cstr(&b), "password_hash('sha512')"));
  assert_non_null(strstr(imc_buf_cstr(&b), "no_log: true"));
  imc_buf_free(&b);
}

/* --- Ansible reads what we write -------------------------------------------------------- */

static void put(const char *dir, const char *name, const char *text)
{
  char path[512];
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Removes the files (NULL-terminated) of dir, Ansible's tmp/ in it, and dir. */
static void remove_run_dir(const char *dir, const char *const *files)
{
  char path[600];

  for (size_t i = 0; files[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  snprintf(path, sizeof path, "%s/tmp", dir);
  rmdir(path);
  rmdir(dir);
}

static int syntax_check(const char *dir, const char *playbook)
{
  char cfg[600];
  int status, null;
  pid_t pid = fork();

  assert_true(pid >= 0);
  if (pid == 0) {
    snprintf(cfg, sizeof cfg, "%s/ansible.cfg", dir);
    setenv("ANSIBLE_CONFIG", cfg, 1);
    if (chdir(dir) != 0)
      _exit(126);
    null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl("/usr/bin/ansible-playbook", "ansible-playbook", "--syntax-check", playbook,
          (char *)NULL);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_written_playbooks_pass_ansible_syntax_check(void **state)
{
  struct imc_doc *doc =
    parse(SYSTEMS
          "configure front (" TASKS("f") ")\n"
                                         "configure p (\n@begin\n- hosts: x\n  tasks:\n"
                                         "  - ansible.builtin.debug: msg=p\n@end\n)\n"
                                         "contextualize (\n  system front configure front step 1\n"
                                         "  system wn configure p step 1\n)\n");
  char dir[] = "/tmp/imc-pb-XXXXXX";
  struct ctxt_infra local = inf;
  struct ctxt_steps s;
  struct imc_buf b;
  struct imc_err err = {0};
  char *name;

  (void)state;
  if (access("/usr/bin/ansible-playbook", X_OK) != 0) {
    imc_doc_free(doc);
    skip();
  }
  assert_non_null(mkdtemp(dir));
  local.facts_dir = dir;
  plan(doc, all_systems, 3, &s);
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_ansible_cfg(&local, dir, &b, &err), 0);
  put(dir, "ansible.cfg", imc_buf_cstr(&b));
  imc_buf_reset(&b);
  assert_int_equal(ctxt_inventory(&local, &b, &err), 0);
  put(dir, "hosts", imc_buf_cstr(&b));
  imc_buf_reset(&b);
  assert_int_equal(ctxt_basic_playbook(&local, &b, &err), 0);
  put(dir, "basic.yml", imc_buf_cstr(&b));
  imc_buf_reset(&b);
  for (size_t i = 0; i < s.v[0].n; i++) {
    assert_int_equal(ctxt_recipe_file(doc, &s.v[0].plays[i], &name, &b, &err), 0);
    put(dir, name, imc_buf_cstr(&b));
    imc_free(name);
    imc_buf_reset(&b);
  }
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], 0, &b, &err), 0);
  put(dir, "step_0.yml", imc_buf_cstr(&b));
  imc_buf_reset(&b);
  assert_int_equal(ctxt_creds_playbook(&local, &(bool){false}, &b, &err), 0);
  put(dir, "creds.yml", imc_buf_cstr(&b));
  imc_buf_reset(&b);
  {
    const struct ctxt_part parts[] = {
      {"basic", "basic.yml", NULL, NULL}, {"1", "step_0.yml", NULL, NULL}, {"credentials", "creds.yml", NULL, NULL}};

    assert_int_equal(ctxt_site_playbook(parts, 0, 3, NULL, true, &b, &err), 0);
    put(dir, "site.yml", imc_buf_cstr(&b));
  }
  assert_int_equal(syntax_check(dir, "site.yml"), 0);
  assert_int_equal(syntax_check(dir, "basic.yml"), 0);
  assert_int_equal(syntax_check(dir, "step_0.yml"), 0);
  assert_int_equal(syntax_check(dir, "creds.yml"), 0);
  {
    const char *files[] = {"ansible.cfg", "hosts",     "basic.yml", "front.yml", "p_wn.yml",
                           "step_0.yml",  "creds.yml", "site.yml",  NULL};

    remove_run_dir(dir, files);
  }
  imc_buf_free(&b);
  ctxt_steps_free(&s);
  imc_doc_free(doc);
}

static void test_site_playbook_marks_each_part(void **state)
{
  const struct ctxt_part parts[] = {
    {"basic", "basic.yml", NULL, NULL}, {"2.5", "step_0.yml", NULL, NULL}, {"credentials", "creds.yml", NULL, NULL}};
  struct imc_buf b;
  struct imc_err err = {0};
  const char *t;

  (void)state;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  assert_int_equal(ctxt_site_playbook(parts, 0, 3, NULL, false, &b, &err), 0);
  t = imc_buf_cstr(&b);
  assert_non_null(strstr(t, "import_playbook: \"creds.yml\"\n- name: \"imc: part 3, end\"\n"));
  assert_non_null(strstr(t, "- name: \"imc: part 0, step basic\"\n  hosts: all\n"));
  assert_true(strstr(t, "import_playbook: \"basic.yml\"") <
              strstr(t, "- name: \"imc: part 1, step 2.5\""));
  assert_true(strstr(t, "import_playbook: \"step_0.yml\"") <
              strstr(t, "import_playbook: \"creds.yml\""));
  assert_null(strstr(t, "any_errors_fatal")); /* no retries: nothing stops the run */
  imc_buf_reset(&b);
  /* A run of part 1 alone, with retries: the end marker follows it. */
  assert_int_equal(ctxt_site_playbook(parts, 1, 2, "rest_1_2.yml", true, &b, &err), 0);
  t = imc_buf_cstr(&b);
  assert_null(strstr(t, "basic.yml"));
  assert_null(strstr(t, "creds.yml"));
  assert_null(strstr(t, "step_0.yml")); /* the rest of it instead */
  assert_non_null(strstr(t, "import_playbook: \"rest_1_2.yml\"\n"));
  assert_non_null(strstr(t, "\"imc: part 2, end\""));
  imc_buf_reset(&b);
  /* From part 1 on, with retries: every marker but the first can stop the run. */
  assert_int_equal(ctxt_site_playbook(parts, 1, 3, NULL, true, &b, &err), 0);
  t = imc_buf_cstr(&b);
  assert_null(strstr(t, "basic.yml"));
  assert_non_null(strstr(t, "\"imc: part 1, step 2.5\"\n  hosts: all\n  gather_facts: false\n- "));
  assert_non_null(strstr(t, "\"imc: part 2, step credentials\"\n  hosts: all\n  gather_facts: "
                            "false\n  any_errors_fatal: true\n"));
  imc_buf_free(&b);
}

static void test_part_marker_reads_only_marker_plays(void **state)
{
  static const struct {
    const char *line;
    long part;
  } cases[] = {
    {"PLAY [imc: part 0, step basic] *****", 0},
    {"PLAY [imc: part 12, step 2.5] *", 12},
    {"PLAY [imc: part , step 1] *", -1},
    {"PLAY [imc: part 3] *", -1},
    {"PLAY [configure front on system front] *", -1},
    {"TASK [imc: part 1, step 1] *", -1},
    {"PLAY [imc: part 99999999999999999999, x] *", -1},
    {"PLAY [imc: part 7", -1},
  };
  static const struct {
    const char *line;
    long play;
  } plays[] = {
    {"PLAY [imc: play 0] ****", 0},
    {"PLAY [imc: play 31] *", 31},
    {"PLAY [imc: play ] *", -1},
    {"PLAY [imc: play 3x] *", -1},
    {"PLAY [imc: part 3, step 1] *", -1},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_int_equal(ctxt_part_marker(cases[i].line, strlen(cases[i].line)), cases[i].part);
  for (size_t i = 0; i < sizeof plays / sizeof plays[0]; i++)
    assert_int_equal(ctxt_play_marker(plays[i].line, strlen(plays[i].line)), plays[i].play);
}

/* Runs ansible-playbook in dir with ANSIBLE_CONFIG there; its output goes to out. */
static int ansible_run(const char *dir, const char *playbook, struct imc_buf *out)
{
  int fds[2], status;
  char chunk[4096], cfg[600];
  ssize_t got;
  pid_t pid;

  assert_int_equal(pipe(fds), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    snprintf(cfg, sizeof cfg, "%s/ansible.cfg", dir);
    setenv("ANSIBLE_CONFIG", cfg, 1);
    setenv("ANSIBLE_NOCOLOR", "1", 1);
    if (chdir(dir) != 0)
      _exit(126);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    execl("/usr/bin/ansible-playbook", "ansible-playbook", playbook, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  while ((got = read(fds[0], chunk, sizeof chunk)) > 0)
    imc_buf_add(out, chunk, (size_t)got);
  close(fds[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What the driver counts on from Ansible itself: with retries, a VM failing part 1 ends the
 * run at the marker of part 2 (the marker task fails on one VM that did not fail, and no play
 * of part 2 starts); without, the others go on to part 2 and the end marker.  And when every
 * VM of a play fails, Ansible ends the run there: the end marker is not reached. */
static void test_site_playbook_stops_after_a_failed_part_in_real_ansible(void **state)
{
  const struct ctxt_part parts[] = {
    {"1", "one.yml", NULL, NULL}, {"2", "two.yml", NULL, NULL}};
  char dir[] = "/tmp/imc-site-XXXXXX";
  struct imc_buf b, out;
  struct imc_err err = {0};
  const char *t;

  (void)state;
  if (access("/usr/bin/ansible-playbook", X_OK) != 0)
    skip();
  assert_non_null(mkdtemp(dir));
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  imc_buf_init(&out, 1024 * 1024);
  imc_buf_addf(&b, "[defaults]\ninventory = %s/hosts\nlocal_tmp = %s/tmp\nretry_files_enabled = "
                   "False\n",
               dir, dir);
  put(dir, "ansible.cfg", imc_buf_cstr(&b));
  put(dir, "hosts",
      "[g]\nh1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
      "h2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n");
  put(dir, "one.yml",
      "- name: first\n  hosts: g\n  gather_facts: false\n  tasks:\n"
      "    - ansible.builtin.command: \"false\"\n      when: inventory_hostname == 'h2'\n");
  put(dir, "two.yml",
      "- name: second\n  hosts: g\n  gather_facts: false\n  tasks:\n"
      "    - ansible.builtin.debug: msg=two\n");
  put(dir, "lone.yml",
      "- name: lone\n  hosts: h2\n  gather_facts: false\n  tasks:\n"
      "    - ansible.builtin.command: \"false\"\n"
      "- name: after\n  hosts: h1\n  gather_facts: false\n  tasks:\n"
      "    - ansible.builtin.debug: msg=after\n");
  for (int retries = 0; retries < 2; retries++) {
    imc_buf_reset(&b);
    imc_buf_reset(&out);
    assert_int_equal(ctxt_site_playbook(parts, 0, 2, NULL, retries, &b, &err), 0);
    put(dir, "site.yml", imc_buf_cstr(&b));
    assert_int_equal(ansible_run(dir, "site.yml", &out), 2);
    t = imc_buf_cstr(&out);
    assert_non_null(strstr(t, "PLAY [imc: part 1, step 2]"));
    assert_non_null(strstr(t, "fatal: [h2]"));
    if (retries) {
      assert_non_null(strstr(t, "fatal: [h1]: FAILED! => {\"changed\": false, \"msg\": \"a VM "
                                "failed the part before\"}"));
      assert_null(strstr(t, "PLAY [second]"));
    } else {
      assert_non_null(strstr(t, "PLAY [second]"));
      assert_non_null(strstr(t, "ok: [h1] => {"));
      assert_null(strstr(t, "fatal: [h1]"));
      assert_non_null(strstr(t, "PLAY [imc: part 2, end]"));
    }
  }
  {
    const struct ctxt_part lone[] = {{"1", "lone.yml", NULL, NULL}};

    imc_buf_reset(&b);
    imc_buf_reset(&out);
    assert_int_equal(ctxt_site_playbook(lone, 0, 1, NULL, false, &b, &err), 0);
    put(dir, "site.yml", imc_buf_cstr(&b));
    assert_int_equal(ansible_run(dir, "site.yml", &out), 2);
    t = imc_buf_cstr(&out);
    assert_non_null(strstr(t, "fatal: [h2]"));
    assert_null(strstr(t, "PLAY [after]"));
    assert_null(strstr(t, "PLAY [imc: part 1, end]"));
  }
  {
    const char *files[] = {"ansible.cfg", "hosts", "one.yml", "two.yml", "lone.yml", "site.yml",
                           NULL};

    remove_run_dir(dir, files);
  }
  imc_buf_free(&out);
  imc_buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_steps_follow_step_numbers),
    cmocka_unit_test(test_steps_same_number_share_one_step_in_item_order),
    cmocka_unit_test(test_steps_without_contextualize_run_configures_named_like_systems),
    cmocka_unit_test(test_steps_skip_systems_without_vms),
    cmocka_unit_test(test_steps_empty_configure_disables_its_system),
    cmocka_unit_test(test_step_playbook_includes_task_lists_on_their_group),
    cmocka_unit_test(test_recipe_file_of_task_list_is_the_recipe),
    cmocka_unit_test(test_recipe_file_of_playbook_gets_the_system_as_hosts),
    cmocka_unit_test(test_recipe_file_refuses_bad_yaml_and_path_names),
    cmocka_unit_test(test_basic_playbook_sets_hostname_hosts_and_disks),
    cmocka_unit_test(test_ansible_cfg_pins_known_hosts_and_short_lived_masters),
    cmocka_unit_test(test_creds_playbook_only_when_asked),
    cmocka_unit_test(test_written_playbooks_pass_ansible_syntax_check),
    cmocka_unit_test(test_site_playbook_marks_each_part),
    cmocka_unit_test(test_part_marker_reads_only_marker_plays),
    cmocka_unit_test(test_site_playbook_stops_after_a_failed_part_in_real_ansible),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
