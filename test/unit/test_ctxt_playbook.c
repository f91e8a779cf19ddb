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
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], &b, &err), 0);
  text = imc_buf_cstr(&b);
  p1 = strstr(text, "  hosts: \"wn\"\n  tasks:\n    - ansible.builtin.include_tasks: \"b.yml\"\n");
  p2 =
    strstr(text, "  hosts: \"front\"\n  tasks:\n    - ansible.builtin.include_tasks: \"a.yml\"\n");
  assert_non_null(p1);
  assert_non_null(p2);
  assert_true(p1 < p2);
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
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], &b, &err), 0);
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
  assert_int_equal(ctxt_step_playbook(doc, &s.v[0], &b, &err), 0);
  put(dir, "step_0.yml", imc_buf_cstr(&b));
  imc_buf_reset(&b);
  assert_int_equal(ctxt_creds_playbook(&local, &(bool){false}, &b, &err), 0);
  put(dir, "creds.yml", imc_buf_cstr(&b));
  assert_int_equal(syntax_check(dir, "basic.yml"), 0);
  assert_int_equal(syntax_check(dir, "step_0.yml"), 0);
  assert_int_equal(syntax_check(dir, "creds.yml"), 0);
  {
    const char *files[] = {"ansible.cfg", "hosts",      "basic.yml", "front.yml",
                           "p_wn.yml",    "step_0.yml", "creds.yml"};
    char path[600];

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      unlink(path);
    }
    snprintf(path, sizeof path, "%s/tmp", dir);
    rmdir(path);
    rmdir(dir);
  }
  imc_buf_free(&b);
  ctxt_steps_free(&s);
  imc_doc_free(doc);
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
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
