/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Ansible inventory of an infrastructure (lib/ctxt_inventory.c).  The values that matter
 * are read back by Ansible's own ansible-inventory when it is installed.  Also the automatic
 * bastion of a VM with no public IP (ctxt_bastion_pick, lib/ctxt_nodes.c), the proxy such a
 * node gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ctxt_int.h"
#include "ctxt_job.h"
#include "imc/alloc.h"
#include "imc/radl.h"

static const struct ctxt_disk disks[] = {
  {.n = 1, .device = "/dev/vdb", .fstype = "ext4", .mount_path = "/mnt/data"},
};

static const struct ctxt_proxy bastion = {
  .host = "203.0.113.9", .user = "jump", .port = 2222, .key_file = "/w/i/run-1/keys/proxy1"};

static const struct ctxt_iface front_ifaces[] = {
  {.ip = "192.0.2.10", .hostname = "front", .domain = "example.org"},
  {.ip = "10.0.0.2"},
};

static struct ctxt_node nodes[] = {
  {.vmid = 0,
   .name = "front.example.org",
   .system = "front",
   .hostname = "front",
   .domain = "example.org",
   .private_ip = "10.0.0.2",
   .public_ip = "192.0.2.10",
   .address = "192.0.2.10",
   .user = "root",
   .key_file = "/w/i/run-1/keys/vm0",
   .cloud_type = "Netns",
   .num = 0,
   .disks = disks,
   .ndisks = 1,
   .ifaces = front_ifaces,
   .nifaces = 2},
  {.vmid = 1,
   .name = "wn-1.localdomain",
   .system = "wn",
   .hostname = "wn-1",
   .domain = "localdomain",
   .private_ip = "10.0.0.3",
   .address = "10.0.0.3",
   .user = "ubuntu",
   .password = "p'a\"ss $x\\y",
   .proxy = &bastion,
   .cloud_type = "Netns",
   .num = 0},
  {.vmid = 2,
   .name = "wn-2.localdomain",
   .system = "wn",
   .hostname = "wn-2",
   .domain = "localdomain",
   .private_ip = "10.0.0.4",
   .address = "10.0.0.4",
   .port = 2022,
   .user = "root",
   .key_file = "/w/i/run-1/keys/vm2",
   .cloud_type = "Netns",
   .num = 1},
};

static struct ctxt_infra infra(bool sshpass)
{
  return (struct ctxt_infra){.id = "inf-1",
                             .known_hosts = "/w/inf-1/known_hosts",
                             .facts_dir = "/w/inf-1/run-1/facts",
                             .have_sshpass = sshpass,
                             .nodes = nodes,
                             .n = 3,
                             .master = 0};
}

static char *inventory(bool sshpass)
{
  struct ctxt_infra inf = infra(sshpass);
  struct imc_buf b;
  struct imc_err err = {0};

  imc_buf_init(&b, CTXT_MAX_INVENTORY);
  if (ctxt_inventory(&inf, &b, &err) != 0)
    fail_msg("inventory: %s", err.msg);
  return imc_buf_take(&b, NULL);
}

/* The line of host name (a new string), or fail. */
static char *host_line(const char *inv, const char *name)
{
  const char *p = inv;
  size_t n = strlen(name);

  while ((p = strstr(p, name)) != NULL) {
    if ((p == inv || p[-1] == '\n') && p[n] == ' ')
      return imc_strndup(p, strcspn(p, "\n"));
    p += n;
  }
  fail_msg("no line for %s", name);
  return NULL;
}

static void test_inventory_has_one_group_per_system(void **state)
{
  char *inv = inventory(true);
  const char *front = strstr(inv, "\n[front]\n"), *wn = strstr(inv, "\n[wn]\n");

  (void)state;
  assert_non_null(front);
  assert_non_null(wn);
  assert_null(strstr(wn + 1, "\n[wn]\n"));
  /* Both wn hosts sit under [wn], after it. */
  assert_true(strstr(inv, "\nwn-1.localdomain ") > wn);
  assert_true(strstr(inv, "\nwn-2.localdomain ") > wn);
  assert_true(strstr(inv, "\nfront.example.org ") > front);
  assert_true(strstr(inv, "\nfront.example.org ") < wn);
  imc_free(inv);
}

static void test_inventory_all_vars_name_the_master(void **state)
{
  char *inv = inventory(true);

  (void)state;
  assert_non_null(strstr(inv, "[all:vars]\n"));
  assert_non_null(strstr(inv, "\nIM_INFRASTRUCTURE_ID = 'inf-1'\n"));
  assert_non_null(strstr(inv, "\nIM_MASTER_HOSTNAME = 'front'\n"));
  assert_non_null(strstr(inv, "\nIM_MASTER_FQDN = 'front.example.org'\n"));
  assert_non_null(strstr(inv, "\nIM_MASTER_PRIVATE_IP = '10.0.0.2'\n"));
  assert_non_null(strstr(inv, "\nIM_MASTER_PUBLIC_IP = '192.0.2.10'\n"));
  assert_non_null(strstr(inv, "\nIM_MASTER_VMID = 0\n"));
  assert_non_null(strstr(inv, "\nansible_python_interpreter = '/usr/bin/python3'\n"));
  imc_free(inv);
}

static void test_inventory_host_has_connection_and_im_vars(void **state)
{
  char *inv = inventory(true), *l = host_line(inv, "front.example.org");

  (void)state;
  assert_non_null(strstr(l, " ansible_host=\"'192.0.2.10'\""));
  assert_non_null(strstr(l, " ansible_user=\"'root'\""));
  assert_non_null(strstr(l, " ansible_ssh_private_key_file=\"'/w/i/run-1/keys/vm0'\""));
  assert_non_null(strstr(l, "UserKnownHostsFile=/w/inf-1/known_hosts"));
  assert_non_null(strstr(l, "StrictHostKeyChecking=yes"));
  assert_non_null(strstr(l, " IM_NODE_FQDN=\"'front.example.org'\""));
  assert_non_null(strstr(l, " IM_NODE_HOSTNAME=\"'front'\""));
  assert_non_null(strstr(l, " IM_NODE_DOMAIN=\"'example.org'\""));
  assert_non_null(strstr(l, " IM_NODE_PRIVATE_IP=\"'10.0.0.2'\""));
  assert_non_null(strstr(l, " IM_NODE_PUBLIC_IP=\"'192.0.2.10'\""));
  assert_non_null(strstr(l, " IM_NODE_NUM=0 "));
  assert_non_null(strstr(l, " IM_NODE_VMID=0 "));
  assert_non_null(strstr(l, " IM_NODE_CLOUD_TYPE=\"'Netns'\""));
  assert_non_null(strstr(l, " IMC_DISKS="));
  assert_null(strstr(l, "ansible_become"));
  assert_null(strstr(l, "ansible_port"));
  assert_null(strstr(l, "ProxyCommand"));
  imc_free(l);
  imc_free(inv);
}

static void test_inventory_has_one_set_of_vars_per_interface(void **state)
{
  char *inv = inventory(true), *l = host_line(inv, "front.example.org");

  (void)state;
  assert_non_null(strstr(l, " IM_NODE_NET_0_IP=\"'192.0.2.10'\""));
  assert_non_null(strstr(l, " IM_NODE_NET_0_HOSTNAME=\"'front'\""));
  assert_non_null(strstr(l, " IM_NODE_NET_0_DOMAIN=\"'example.org'\""));
  assert_non_null(strstr(l, " IM_NODE_NET_0_FQDN=\"'front.example.org'\""));
  assert_non_null(strstr(l, " IM_NODE_NET_1_IP=\"'10.0.0.2'\""));
  /* An interface with no dns_name has no name variables. */
  assert_null(strstr(l, "IM_NODE_NET_1_HOSTNAME"));
  imc_free(l);
  imc_free(inv);
}

static void test_inventory_non_root_user_becomes_root(void **state)
{
  char *inv = inventory(true), *l = host_line(inv, "wn-1.localdomain");

  (void)state;
  assert_non_null(strstr(l, " ansible_become=True"));
  imc_free(l);
  imc_free(inv);
}

static void test_inventory_other_port_is_written(void **state)
{
  char *inv = inventory(true), *l = host_line(inv, "wn-2.localdomain");

  (void)state;
  assert_non_null(strstr(l, " ansible_port=2022"));
  assert_non_null(strstr(l, " IM_NODE_NUM=1 "));
  imc_free(l);
  imc_free(inv);
}

static void test_inventory_proxy_node_gets_proxy_command(void **state)
{
  char *inv = inventory(true), *l = host_line(inv, "wn-1.localdomain");

  (void)state;
  assert_non_null(strstr(l, "ProxyCommand=ssh -W %h:%p -p 2222"));
  assert_non_null(strstr(l, "/w/i/run-1/keys/proxy1"));
  assert_non_null(strstr(l, "203.0.113.9"));
  imc_free(l);
  imc_free(inv);
}

static void test_inventory_password_needs_sshpass(void **state)
{
  struct ctxt_infra inf = infra(false);
  struct imc_buf b;
  struct imc_err err = {0};

  (void)state;
  imc_buf_init(&b, CTXT_MAX_INVENTORY);
  assert_int_equal(ctxt_inventory(&inf, &b, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "sshpass"));
  /* The message names the VM, never the password. */
  assert_null(strstr(err.msg, "ss $x"));
  imc_buf_free(&b);
}

static void test_inventory_node_without_credentials_is_refused(void **state)
{
  struct ctxt_node bare = {.vmid = 4,
                           .name = "x",
                           .system = "s",
                           .hostname = "x",
                           .domain = "",
                           .address = "10.0.0.9",
                           .user = "root"};
  struct ctxt_infra inf = {
    .id = "i", .known_hosts = "/k", .facts_dir = "/f", .nodes = &bare, .n = 1};
  struct imc_buf b;
  struct imc_err err = {0};

  (void)state;
  imc_buf_init(&b, CTXT_MAX_INVENTORY);
  assert_int_equal(ctxt_inventory(&inf, &b, &err), IMC_E_INVAL);
  imc_buf_free(&b);
}

static void test_ini_value_escapes_quotes_and_backslashes(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 1024);
  ctxt_ini_value(&b, "a'b\"c\\d");
  /* Python literal 'a\'b"c\\d', then shell double quotes around it. */
  assert_string_equal(imc_buf_cstr(&b), "\"'a\\\\'b\\\"c\\\\\\\\d'\"");
  imc_buf_free(&b);
}

/* Runs ansible-inventory on text and returns its --list JSON, or NULL when not installed. */
static json_t *ansible_inventory(const char *text)
{
  char path[] = "/tmp/imc-inv-XXXXXX", out[] = "/tmp/imc-invout-XXXXXX";
  int fd = mkstemp(path), ofd = mkstemp(out), status;
  json_error_t jerr;
  json_t *j = NULL;
  pid_t pid;

  if (access("/usr/bin/ansible-inventory", X_OK) != 0)
    return NULL;
  assert_true(fd >= 0 && ofd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(ofd, 1);
    execl("/usr/bin/ansible-inventory", "ansible-inventory", "-i", path, "--list", (char *)NULL);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  j = json_load_file(out, 0, &jerr);
  close(ofd);
  unlink(path);
  unlink(out);
  assert_non_null(j);
  return j;
}

static const char *hostvar(json_t *inv, const char *host, const char *name)
{
  json_t *v = json_object_get(
    json_object_get(json_object_get(json_object_get(inv, "_meta"), "hostvars"), host), name);

  if (!json_is_string(v))
    fail_msg("%s of %s is not a string", name, host);
  return json_string_value(v);
}

static void test_inventory_values_read_back_by_ansible(void **state)
{
  char *inv = inventory(true);
  json_t *j = ansible_inventory(inv);

  (void)state;
  if (!j) {
    imc_free(inv);
    skip();
  }
  assert_string_equal(hostvar(j, "wn-1.localdomain", "ansible_ssh_pass"), "p'a\"ss $x\\y");
  assert_int_equal(
    json_integer_value(json_object_get(
      json_object_get(json_object_get(json_object_get(j, "_meta"), "hostvars"), "wn-2.localdomain"),
      "IM_NODE_NUM")),
    1);
  assert_string_equal(hostvar(j, "front.example.org", "IM_INFRASTRUCTURE_ID"), "inf-1");
  assert_string_equal(hostvar(j, "front.example.org", "IM_MASTER_FQDN"), "front.example.org");
  assert_string_equal(hostvar(j, "wn-2.localdomain", "ansible_host"), "10.0.0.4");
  assert_string_equal(hostvar(j, "front.example.org", "IM_NODE_NET_0_FQDN"), "front.example.org");
  assert_non_null(strstr(hostvar(j, "wn-1.localdomain", "ansible_ssh_common_args"),
                         "-o 'ProxyCommand=ssh -W %h:%p -p 2222"));
  {
    json_t *d =
      json_object_get(json_object_get(json_object_get(json_object_get(j, "_meta"), "hostvars"),
                                      "front.example.org"),
                      "IMC_DISKS");

    assert_true(json_is_array(d));
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "mount_path")),
                        "/mnt/data");
  }
  assert_int_equal(json_array_size(json_object_get(json_object_get(j, "wn"), "hosts")), 2);
  json_decref(j);
  imc_free(inv);
}

/* --- the automatic bastion ----------------------------------------------------------- */

/* VMs of one infrastructure, each with its GetVMInfo document: its system's interfaces. */
struct vmset {
  struct imc_doc *infos[4];
  struct ctxt_node nodes[4];
  size_t n;
};

static void vm_add(struct vmset *v, unsigned vmid, const char *public_ip, const char *ifaces)
{
  char text[1024];
  struct imc_err err = {0};
  int len = snprintf(text, sizeof text,
                     "network pub (outbound = 'yes')\nnetwork priv ()\nnetwork other ()\n"
                     "system s%u (%s)\n",
                     vmid, ifaces);

  assert_true(len > 0 && (size_t)len < sizeof text);
  assert_int_equal(radl_parse(NULL, text, (size_t)len, NULL, &v->infos[v->n], &err), 0);
  v->nodes[v->n] = (struct ctxt_node){.vmid = vmid, .public_ip = public_ip};
  v->n++;
}

static void vm_free(struct vmset *v)
{
  for (size_t i = 0; i < v->n; i++)
    imc_doc_free(v->infos[i]);
}

static ssize_t pick(struct vmset *v, size_t i)
{
  return ctxt_bastion_pick((const struct imc_doc *const *)v->infos, v->nodes, v->n, i);
}

static void test_bastion_is_lowest_vm_with_public_ip_on_the_private_network(void **state)
{
  struct vmset v = {0};

  (void)state;
  vm_add(&v, 7, NULL, "net_interface.0.connection = 'priv' and net_interface.0.ip = '10.0.0.7'");
  vm_add(&v, 5, "192.0.2.5",
         "net_interface.0.connection = 'pub' and net_interface.1.connection = 'priv'");
  vm_add(&v, 3, "192.0.2.3",
         "net_interface.0.connection = 'pub' and net_interface.1.connection = 'priv'");
  vm_add(&v, 1, "192.0.2.1", "net_interface.0.connection = 'pub'");
  assert_int_equal(pick(&v, 0), 2);
  vm_free(&v);
}

static void test_bastion_none_when_no_public_vm_shares_the_network(void **state)
{
  struct vmset v = {0};

  (void)state;
  vm_add(&v, 0, NULL, "net_interface.0.connection = 'priv'");
  vm_add(&v, 1, "192.0.2.1",
         "net_interface.0.connection = 'pub' and net_interface.1.connection = 'other'");
  vm_add(&v, 2, NULL, "net_interface.0.connection = 'priv'");
  assert_int_equal(pick(&v, 0), -1);
  vm_free(&v);
}

static void test_bastion_none_for_a_vm_with_a_public_ip(void **state)
{
  struct vmset v = {0};

  (void)state;
  vm_add(&v, 0, "192.0.2.1",
         "net_interface.0.connection = 'pub' and net_interface.1.connection = 'priv'");
  vm_add(&v, 1, "192.0.2.2",
         "net_interface.0.connection = 'pub' and net_interface.1.connection = 'priv'");
  assert_int_equal(pick(&v, 0), -1);
  vm_free(&v);
}

static void test_bastion_found_on_any_private_interface(void **state)
{
  struct vmset v = {0};

  (void)state;
  vm_add(&v, 0, NULL,
         "net_interface.0.connection = 'other' and net_interface.1.connection = 'priv'");
  vm_add(&v, 1, "192.0.2.1",
         "net_interface.0.connection = 'priv' and net_interface.1.connection = 'pub'");
  assert_int_equal(pick(&v, 0), 1);
  vm_free(&v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_inventory_has_one_group_per_system),
    cmocka_unit_test(test_inventory_all_vars_name_the_master),
    cmocka_unit_test(test_inventory_host_has_connection_and_im_vars),
    cmocka_unit_test(test_inventory_has_one_set_of_vars_per_interface),
    cmocka_unit_test(test_inventory_non_root_user_becomes_root),
    cmocka_unit_test(test_inventory_other_port_is_written),
    cmocka_unit_test(test_inventory_proxy_node_gets_proxy_command),
    cmocka_unit_test(test_inventory_password_needs_sshpass),
    cmocka_unit_test(test_inventory_node_without_credentials_is_refused),
    cmocka_unit_test(test_ini_value_escapes_quotes_and_backslashes),
    cmocka_unit_test(test_inventory_values_read_back_by_ansible),
    cmocka_unit_test(test_bastion_is_lowest_vm_with_public_ip_on_the_private_network),
    cmocka_unit_test(test_bastion_none_when_no_public_vm_shares_the_network),
    cmocka_unit_test(test_bastion_none_for_a_vm_with_a_public_ip),
    cmocka_unit_test(test_bastion_found_on_any_private_interface),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
