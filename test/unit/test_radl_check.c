/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_check: one test per rule of IM's RADL.check(), valid and invalid, with the exact
 * message and position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/radl.h"

/* --- helpers ------------------------------------------------------------------------- */

static struct imc_doc *parse(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_parse("t.radl", text, strlen(text), NULL, &doc, &err) != 0)
    fail_msg("parse failed: %s", err.msg);
  return doc;
}

static void check_doc_ok(const struct imc_doc *doc)
{
  struct imc_err err;
  int r;

  imc_err_clear(&err);
  r = radl_check(doc, &err);
  if (r != 0)
    fail_msg("unexpected check failure: %s", err.msg);
  assert_int_equal(err.code, IMC_OK);
}

static void check_doc_fails(const struct imc_doc *doc, const char *msg)
{
  struct imc_err err;

  imc_err_clear(&err);
  assert_int_equal(radl_check(doc, &err), IMC_E_INVAL);
  assert_int_equal(err.code, IMC_E_INVAL);
  assert_string_equal(err.msg, msg);
}

static void check_ok(const char *text)
{
  struct imc_doc *doc = parse(text);

  check_doc_ok(doc);
  imc_doc_free(doc);
}

static void check_fails(const char *text, const char *msg)
{
  struct imc_doc *doc = parse(text);

  check_doc_fails(doc, msg);
  imc_doc_free(doc);
}

/* "system s (\n" FEATURES "\n)": the features start on line 2, column 1. */
static void system_ok(const char *features)
{
  char text[4096];

  snprintf(text, sizeof text, "system s (\n%s\n)\n", features);
  check_ok(text);
}

static void system_fails(const char *features, const char *msg)
{
  char text[4096];

  snprintf(text, sizeof text, "system s (\n%s\n)\n", features);
  check_fails(text, msg);
}

/* A configure "c" whose recipe starts on line 3 of the document. */
static void recipe_ok(const char *recipe)
{
  struct imc_buf b;

  imc_buf_init(&b, IMC_MAX_DOC);
  imc_buf_addf(&b, "configure c (\n@begin\n%s\n@end\n)\n", recipe);
  assert_int_equal(imc_buf_err(&b), 0);
  check_ok(imc_buf_cstr(&b));
  imc_buf_free(&b);
}

static void recipe_fails(const char *recipe, const char *msg)
{
  struct imc_buf b;

  imc_buf_init(&b, IMC_MAX_DOC);
  imc_buf_addf(&b, "configure c (\n@begin\n%s\n@end\n)\n", recipe);
  assert_int_equal(imc_buf_err(&b), 0);
  check_fails(imc_buf_cstr(&b), msg);
  imc_buf_free(&b);
}

/* --- whole documents ----------------------------------------------------------------- */

static const char full_doc[] =
  "description d (name = 'demo')\n"
  "ansible master (host = '10.0.0.1' and credentials.username = 'root' and\n"
  "  credentials.private_key = 'KEY')\n"
  "network public (outbound = 'yes' and outports = '22,80-8080,0.0.0.0/0-443/tcp')\n"
  "network private (outbound = 'no' and provider_id = 'net1')\n"
  "system front (\n"
  "  cpu.arch = 'x86_64' and cpu.count >= 2 and cpu.count <= 8 and\n"
  "  cpu.performance >= 2ECU and memory.size >= 2G and price <= 0.5 and spot = 'no' and\n"
  "  image_type = 'qcow2' and virtual_system_type = 'kvm' and ansible_host = 'master' and\n"
  "  net_interface.0.connection = 'public' and net_interface.0.dns_name = 'front' and\n"
  "  net_interface.1.connection = 'private' and net_interface.1.ip = '10.0.0.2' and\n"
  "  disk.0.image.url = ['one://a/1', 'ost://b/2'] and disk.0.image.name = 'img' and\n"
  "  disk.0.os.name = 'linux' and disk.0.os.flavour = 'ubuntu' and\n"
  "  disk.0.os.version >= '20.04' and disk.0.os.credentials.username = 'ubuntu' and\n"
  "  disk.0.os.credentials.password = 'x' and disk.0.os.credentials.public_key = 'k' and\n"
  "  disk.0.os.credentials.private_key = 'p' and\n"
  "  disk.0.os.credentials.new.password = 'NotS0simple+' and\n"
  "  disk.0.applications contains (name = 'nginx' and version = '1.2' and\n"
  "    preinstalled = 'no' and path = '/opt') and\n"
  "  disk.1.size = 10GiB and disk.1.type = 'ssd' and disk.1.device = 'vdb' and\n"
  "  disk.1.mount_path = '/data' and disk.1.fstype = 'ext4' and disk.0.free_size >= 1.5G and\n"
  "  soft 10 (cpu.count >= 4 and disk.0.os.name = 'linux') and\n"
  "  some.unknown.feature = 'anything' and disk.7 = 1 and disk.3.whatever = 'x'\n"
  ")\n"
  "system wn\n"
  "configure front (\n"
  "@begin\n"
  "---\n"
  "- hosts: all\n"
  "  tasks:\n"
  "  - debug: msg=hello\n"
  "@end\n"
  ")\n"
  "configure off ()\n"
  "configure shared\n"
  "contextualize 600 (\n"
  "  option ansible_version = '2.9'\n"
  "  system front configure front step 1\n"
  "  system wn configure shared step 2 with cloud_init\n"
  ")\n"
  "deploy front 1\n"
  "deploy wn 0 cloud1\n";

static void test_check_full_document_is_valid(void **state)
{
  (void)state;
  check_ok(full_doc);
}

static void test_check_empty_document_is_valid(void **state)
{
  (void)state;
  check_ok("");
  check_ok("# nothing but a comment\n");
}

/* --- networks ------------------------------------------------------------------------ */

static void test_check_outbound_accepts_yes_no_in_any_case(void **state)
{
  (void)state;
  check_ok("network a (outbound = 'yes')\nnetwork b (outbound = 'NO')\n"
           "network c (outbound = 'Yes')\n");
}

static void test_check_outbound_rejects_other_values(void **state)
{
  (void)state;
  check_fails("network n (outbound = 'maybe')",
              "t.radl:1:12: feature 'outbound': invalid value 'maybe'; expected one of yes, no");
}

static void test_check_outbound_rejects_numbers(void **state)
{
  (void)state;
  check_fails("network n (outbound = 1)", "t.radl:1:12: feature 'outbound': expected a string");
}

static void test_check_string_feature_needs_equals(void **state)
{
  (void)state;
  check_fails("network n (outbound < 'yes')",
              "t.radl:1:12: feature 'outbound': invalid operator '<'; expected '='");
}

static void test_check_outports_valid(void **state)
{
  (void)state;
  check_ok("network n (outports = '8899-8899,22-22,1:10,10.0.1.0/24-22,1/icmp')");
}

static void test_check_outports_invalid(void **state)
{
  (void)state;
  check_fails("network n (outbound = 'yes' and\n  outports = '8899a-8899,22-22')",
              "t.radl:2:3: feature 'outports': invalid outports item '8899a-8899': "
              "unexpected 'a' after the port");
}

static void test_check_outports_with_spaces_invalid(void **state)
{
  (void)state;
  check_fails("network n (outports = '22, 80')",
              "t.radl:1:12: feature 'outports': invalid outports item ' 80': expected a port "
              "number");
}

static void test_check_provider_id_must_be_a_string(void **state)
{
  (void)state;
  check_ok("network n (provider_id = 'pool')");
  check_fails("network n (provider_id = 3)",
              "t.radl:1:12: feature 'provider_id': expected a string");
}

static void test_check_reference_network_is_not_checked(void **state)
{
  struct imc_doc *doc = parse("network n");

  (void)state;
  /* A reference has no body of its own; give it a bad one to show it is skipped. */
  assert_int_equal(imc_features_set_str(&doc->networks[0]->feats, "outbound", "maybe"), 0);
  check_doc_ok(doc);
  doc->networks[0]->reference = false;
  check_doc_fails(doc, "t.radl:0:0: feature 'outbound': invalid value 'maybe'; expected one of "
                       "yes, no");
  imc_doc_free(doc);
}

/* --- ansible hosts ------------------------------------------------------------------- */

static void test_check_ansible_with_password_is_valid(void **state)
{
  (void)state;
  check_ok("ansible a (host = 'h' and credentials.username = 'u' and "
           "credentials.password = 'p')");
}

static void test_check_ansible_without_host_fails(void **state)
{
  (void)state;
  check_fails("\nansible a (credentials.username = 'u' and credentials.password = 'p')",
              "t.radl:2:1: ansible 'a' has no host");
}

static void test_check_ansible_with_empty_host_fails(void **state)
{
  (void)state;
  check_fails("ansible a (host = '' and credentials.username = 'u' and "
              "credentials.password = 'p')",
              "t.radl:1:1: ansible 'a' has no host");
}

static void test_check_ansible_without_username_fails(void **state)
{
  (void)state;
  check_fails("ansible a (host = 'h' and credentials.password = 'p')",
              "t.radl:1:1: ansible 'a' has no credentials.username");
}

static void test_check_ansible_without_secret_fails(void **state)
{
  (void)state;
  check_fails("ansible a (host = 'h' and credentials.username = 'u' and "
              "credentials.password = '')",
              "t.radl:1:1: ansible 'a' needs credentials.password or credentials.private_key");
}

static void test_check_ansible_feature_types(void **state)
{
  (void)state;
  check_fails("ansible a (host = 1 and credentials.username = 'u')",
              "t.radl:1:12: feature 'host': expected a string");
  check_fails("ansible a (host = 'h' and credentials.username = 'u' and "
              "credentials.private_key = 5)",
              "t.radl:1:58: feature 'credentials.private_key': expected a string");
}

/* --- systems: plain features --------------------------------------------------------- */

static void test_check_spot_yes_no(void **state)
{
  (void)state;
  system_ok("spot = 'yes'");
  system_fails("spot = 'sometimes'",
               "t.radl:2:1: feature 'spot': invalid value 'sometimes'; expected one of yes, no");
}

static void test_check_image_type_values(void **state)
{
  (void)state;
  system_ok("image_type = 'QCOW2'");
  system_ok("image_type = 'vmdk'");
  system_fails("image_type = 'vdi'", "t.radl:2:1: feature 'image_type': invalid value 'vdi'; "
                                     "expected one of vmdk, qcow, qcow2, raw");
}

static void test_check_virtual_system_type_must_be_a_string(void **state)
{
  (void)state;
  system_fails("virtual_system_type = 2",
               "t.radl:2:1: feature 'virtual_system_type': expected a string");
}

static void test_check_price_is_a_number_without_unit(void **state)
{
  (void)state;
  system_ok("price = 0.25 and price >= 0");
  system_fails("price = 'cheap'", "t.radl:2:1: feature 'price': expected a number");
  system_fails("price = 1 EUR", "t.radl:2:1: feature 'price': unexpected unit 'EUR'");
}

static void test_check_negative_numbers_fail(void **state)
{
  struct imc_doc *doc = parse("system s (price = 1)");
  struct imc_num minus = {.i = -1};

  (void)state;
  /* The text grammar has no sign; other readers (JSON) can produce negative numbers. */
  assert_int_equal(imc_features_set_num(&doc->systems[0]->feats, "price", minus, NULL), 0);
  check_doc_fails(doc, "t.radl:0:0: feature 'price': must not be negative");
  imc_doc_free(doc);
}

static void test_check_cpu_count_rules(void **state)
{
  (void)state;
  system_ok("cpu.count >= 1 and cpu.count < 16");
  system_fails("cpu.count = 'two'", "t.radl:2:1: feature 'cpu.count': expected a number");
  system_fails("cpu.count = 2 cores", "t.radl:2:1: feature 'cpu.count': unexpected unit 'cores'");
}

static void test_check_cpu_arch_values(void **state)
{
  (void)state;
  system_ok("cpu.arch = 'i386'");
  system_ok("cpu.arch = 'X86_64'");
  system_fails("cpu.arch = 'arm64'", "t.radl:2:1: feature 'cpu.arch': invalid value 'arm64'; "
                                     "expected one of i386, x86_64");
}

static void test_check_cpu_performance_needs_its_unit(void **state)
{
  (void)state;
  system_ok("cpu.performance >= 2.5ECU");
  system_ok("cpu.performance = 3 gceu");
  system_ok("cpu.performance = 1HRZ");
  system_fails("cpu.performance = 2", "t.radl:2:1: feature 'cpu.performance': expected a unit: "
                                      "ECU, GCEU or HRZ");
  system_fails("cpu.performance = 2GHz", "t.radl:2:1: feature 'cpu.performance': invalid unit "
                                         "'GHz'; expected ECU, GCEU or HRZ");
}

static void test_check_memory_size_units(void **state)
{
  static const char *const ok[] = {"512", "512B", "512K", "512M", "1G", "1T", "512KB", "1gb",
                                   "1TB", "512Ki", "512Mi", "1Gi", "1KiB", "1MiB", "1GiB", "1TiB"};

  (void)state;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char f[64];

    snprintf(f, sizeof f, "memory.size >= %s", ok[i]);
    system_ok(f);
  }
  system_fails("memory.size = 1X", "t.radl:2:1: feature 'memory.size': invalid unit 'X'; "
                                   "expected B, K, M, G, T, KB, MB, GB, TB, Ki, Mi, Gi, KiB, "
                                   "MiB, GiB or TiB");
}

/* IM's mem_units lists "TIB" but not "TI". */
static void test_check_memory_size_refuses_ti_as_im(void **state)
{
  (void)state;
  system_fails("memory.size = 1Ti", "t.radl:2:1: feature 'memory.size': invalid unit 'Ti'; "
                                    "expected B, K, M, G, T, KB, MB, GB, TB, Ki, Mi, Gi, KiB, "
                                    "MiB, GiB or TiB");
}

static void test_check_memory_size_must_be_whole(void **state)
{
  (void)state;
  system_fails("memory.size = 1.5G", "t.radl:2:1: feature 'memory.size': expected a whole number");
  system_fails("memory.size = '1G'", "t.radl:2:1: feature 'memory.size': expected a whole number");
}

static void test_check_new_password_strength(void **state)
{
  (void)state;
  system_ok("disk.0.os.credentials.new.password = 'NotS0simple+'");
  system_fails("disk.0.os.credentials.new.password = 'verysimple'",
               "t.radl:2:1: feature 'disk.0.os.credentials.new.password': the password is too "
               "weak: it needs more than 6 characters, an upper-case letter, a digit and a "
               "symbol");
}

static void test_check_new_password_needs_seven_characters(void **state)
{
  (void)state;
  system_ok("disk.0.os.credentials.new.password = 'Ab1+xyz'");
  system_fails("disk.0.os.credentials.new.password = 'Ab1+xy'",
               "t.radl:2:1: feature 'disk.0.os.credentials.new.password': the password is too "
               "weak: it needs more than 6 characters, an upper-case letter, a digit and a "
               "symbol");
}

static void test_check_new_password_counts_characters_not_bytes(void **state)
{
  (void)state;
  /* Six characters in eight bytes: too short, as in IM. */
  system_fails("disk.0.os.credentials.new.password = 'Ab1+\xc3\xb1\xc3\xb1'",
               "t.radl:2:1: feature 'disk.0.os.credentials.new.password': the password is too "
               "weak: it needs more than 6 characters, an upper-case letter, a digit and a "
               "symbol");
  system_ok("disk.0.os.credentials.new.password = 'Ab1+\xc3\xb1\xc3\xb1\xc3\xb1'");
}

static void test_check_new_password_needs_each_class(void **state)
{
  static const char *const weak[] = {"abcdef1+", "ABCDEFG+", "Abcdefgh1", "Abcdefg+"};

  (void)state;
  for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
    char f[128];

    snprintf(f, sizeof f, "disk.0.os.credentials.new.password = '%s'", weak[i]);
    system_fails(f, "t.radl:2:1: feature 'disk.0.os.credentials.new.password': the password "
                    "is too weak: it needs more than 6 characters, an upper-case letter, a "
                    "digit and a symbol");
  }
}

static void test_check_ansible_host_must_exist(void **state)
{
  (void)state;
  check_ok("ansible m (host = 'h' and credentials.username = 'u' and "
           "credentials.password = 'p')\nsystem s (ansible_host = 'm')");
  system_fails("ansible_host = 'm'",
               "t.radl:2:1: feature 'ansible_host': ansible host 'm' is not defined");
}

/* IM checks the plain features first, then the indexed ones. */
static void test_check_plain_features_come_before_indexed_ones(void **state)
{
  (void)state;
  system_fails("disk.0.os.name = 'bsd' and\nspot = 'maybe'",
               "t.radl:3:1: feature 'spot': invalid value 'maybe'; expected one of yes, no");
}

static void test_check_first_bad_feature_in_order_is_reported(void **state)
{
  (void)state;
  system_fails("cpu.arch = 'sparc' and\nspot = 'maybe'",
               "t.radl:2:1: feature 'cpu.arch': invalid value 'sparc'; expected one of i386, "
               "x86_64");
}

static void test_check_both_bounds_of_a_range_are_checked(void **state)
{
  (void)state;
  /* An unknown unit counts as 1, so the bounds must still meet: 1 byte to 4 "Q". */
  system_fails("memory.size >= 1 and\n  memory.size <= 4Q",
               "t.radl:3:3: feature 'memory.size': invalid unit 'Q'; expected B, K, M, G, T, "
               "KB, MB, GB, TB, Ki, Mi, Gi, KiB, MiB, GiB or TiB");
}

/* --- soft groups ---------------------------------------------------------------------- */

static void test_check_soft_group_features_are_checked(void **state)
{
  (void)state;
  system_fails("soft 10 (\n  spot = 'often')",
               "t.radl:3:3: feature 'spot': invalid value 'often'; expected one of yes, no");
}

static void test_check_nested_soft_group_is_checked(void **state)
{
  (void)state;
  system_fails("soft 10 (soft 5 (\n  cpu.arch = 'mips'))",
               "t.radl:3:3: feature 'cpu.arch': invalid value 'mips'; expected one of i386, "
               "x86_64");
}

/* IM checks a soft group as a system of its own, indices included. */
static void test_check_soft_group_indices_are_its_own(void **state)
{
  (void)state;
  system_ok("disk.0.size = 1G and soft 10 (disk.0.size = 2G)");
  system_fails("disk.0.size = 1G and soft 10 (\n  disk.1.size = 2G)",
               "t.radl:3:3: feature 'disk.1.size': 'disk' indices must run from 0 without gaps, "
               "but 'disk.0' is not used");
}

static void test_check_deep_soft_nesting_is_refused(void **state)
{
  struct imc_doc *doc = parse("system s ()");
  struct imc_features *fs = &doc->systems[0]->feats;

  (void)state;
  for (int i = 0; i < 300; i++) {
    struct imc_feature *g = imc_feature_new(NULL, IMC_OP_SOFT, IMC_V_FEATURES);

    assert_non_null(g);
    assert_non_null(g->sub = imc_features_new());
    g->pos.line = i + 1;
    g->pos.col = 1;
    assert_int_equal(imc_features_add(fs, g, IMC_POLICY_ERROR, IMC_POLICY_OTHER, NULL, NULL), 0);
    fs = g->sub;
  }
  check_doc_fails(doc, "t.radl:257:1: soft groups nested deeper than 256 levels");
  imc_doc_free(doc);
}

/* --- systems: indexed features ------------------------------------------------------- */

static void test_check_index_must_be_a_number(void **state)
{
  (void)state;
  system_fails("disk.x.size = 1G",
               "t.radl:2:1: feature 'disk.x.size': expected an index after 'disk.'");
  system_fails("net_interface..ip = 'x'",
               "t.radl:2:1: feature 'net_interface..ip': expected an index after "
               "'net_interface.'");
}

/* IM parses the index before it looks at the suffix, so even `disk.x` alone fails. */
static void test_check_index_is_parsed_without_suffix(void **state)
{
  (void)state;
  system_fails("disk.x = 1", "t.radl:2:1: feature 'disk.x': expected an index after 'disk.'");
}

/* The index is read as Python's int() reads it. */
static void test_check_index_follows_python_int(void **state)
{
  (void)state;
  system_ok("disk.00.size = 1G and disk.0_1.size = 1G");
  system_fails("disk.1__0.size = 1G",
               "t.radl:2:1: feature 'disk.1__0.size': expected an index after 'disk.'");
  system_fails("disk.1_.size = 1G",
               "t.radl:2:1: feature 'disk.1_.size': expected an index after 'disk.'");
}

static void test_check_unknown_suffixes_do_not_count(void **state)
{
  (void)state;
  system_ok("disk.5.something = 'x' and net_interface.3.ipv6 = '::1' and disk.2 = 1");
}

static void test_check_indices_must_start_at_zero(void **state)
{
  (void)state;
  system_fails("disk.1.size = 1G", "t.radl:2:1: feature 'disk.1.size': 'disk' indices must run "
                                   "from 0 without gaps, but 'disk.0' is not used");
}

static void test_check_indices_must_not_have_gaps(void **state)
{
  (void)state;
  system_fails("disk.0.size = 1G and disk.2.type = 'ssd' and\n  disk.2.size = 1G",
               "t.radl:2:22: feature 'disk.2.type': 'disk' indices must run from 0 without "
               "gaps, but 'disk.1' is not used");
}

static void test_check_indices_must_not_be_negative(void **state)
{
  (void)state;
  system_fails("disk.0.size = 1G and disk.-1.size = 1G",
               "t.radl:2:22: feature 'disk.-1.size': 'disk' indices must not be negative");
}

static void test_check_huge_index_is_a_gap(void **state)
{
  (void)state;
  system_fails("disk.0.size = 1G and disk.99999999999999999999999.size = 1G",
               "t.radl:2:22: feature 'disk.99999999999999999999999.size': 'disk' indices must "
               "run from 0 without gaps, but 'disk.1' is not used");
}

/* Each prefix is checked in order of its first checked feature. */
static void test_check_index_prefixes_in_order_of_appearance(void **state)
{
  (void)state;
  system_fails("disk.1.size = 1G and net_interface.1.ip = 'x'",
               "t.radl:2:1: feature 'disk.1.size': 'disk' indices must run from 0 without "
               "gaps, but 'disk.0' is not used");
  system_fails("net_interface.1.ip = 'x' and disk.1.size = 1G",
               "t.radl:2:1: feature 'net_interface.1.ip': 'net_interface' indices must run "
               "from 0 without gaps, but 'net_interface.0' is not used");
}

static void test_check_connection_must_name_a_network(void **state)
{
  (void)state;
  check_ok("network n ()\nsystem s (net_interface.0.connection = 'n')");
  check_ok("network n\nsystem s (net_interface.0.connection = 'n')"); /* a reference counts */
  system_fails("net_interface.0.connection = 'nowhere'",
               "t.radl:2:1: feature 'net_interface.0.connection': network 'nowhere' is not "
               "defined");
}

static void test_check_interface_needs_a_connection(void **state)
{
  (void)state;
  check_fails("network n ()\nsystem s (net_interface.0.connection = 'n' and\n"
              "  net_interface.1.dns_name = 'x' and net_interface.1.ip = '1.2.3.4')",
              "t.radl:3:3: feature 'net_interface.1.dns_name': net_interface.1 has no "
              "connection");
  system_fails("net_interface.0.ip = '10.0.0.1'",
               "t.radl:2:1: feature 'net_interface.0.ip': net_interface.0 has no connection");
}

static void test_check_interface_features_are_strings(void **state)
{
  (void)state;
  system_fails("net_interface.0.ip = 10",
               "t.radl:2:1: feature 'net_interface.0.ip': expected a string");
  system_fails("net_interface.0.dns_name = 1",
               "t.radl:2:1: feature 'net_interface.0.dns_name': expected a string");
}

static void test_check_image_url_is_string_or_list(void **state)
{
  (void)state;
  system_ok("disk.0.image.url = 'one://x'");
  system_ok("disk.0.image.url = ['one://x', 'two://y']");
  system_fails("disk.0.image.url = 3",
               "t.radl:2:1: feature 'disk.0.image.url': expected a string or a list of strings");
}

static void test_check_disk_string_features(void **state)
{
  static const char *const names[] = {"image.name", "type", "device", "mount_path", "fstype",
                                      "os.flavour", "os.credentials.username",
                                      "os.credentials.password", "os.credentials.private_key",
                                      "os.credentials.public_key"};

  (void)state;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char f[128], msg[256];

    snprintf(f, sizeof f, "disk.0.%s = 'ok'", names[i]);
    system_ok(f);
    snprintf(f, sizeof f, "disk.0.%s = 7", names[i]);
    snprintf(msg, sizeof msg, "t.radl:2:1: feature 'disk.0.%s': expected a string", names[i]);
    system_fails(f, msg);
  }
}

static void test_check_disk_sizes(void **state)
{
  (void)state;
  system_ok("disk.0.size = 20GB and disk.0.free_size >= 1.5G and disk.1.size = 100");
  system_fails("disk.0.size = 20 GHz", "t.radl:2:1: feature 'disk.0.size': invalid unit 'GHz'; "
                                       "expected B, K, M, G, T, KB, MB, GB, TB, Ki, Mi, Gi, KiB, "
                                       "MiB, GiB or TiB");
  system_fails("disk.0.free_size = 'lots'",
               "t.radl:2:1: feature 'disk.0.free_size': expected a number");
}

static void test_check_os_name_values(void **state)
{
  (void)state;
  system_ok("disk.0.os.name = 'Linux'");
  system_ok("disk.0.os.name = 'windows'");
  system_ok("disk.0.os.name = 'Mac OS X'");
  system_fails("disk.0.os.name = 'bsd'", "t.radl:2:1: feature 'disk.0.os.name': invalid value "
                                         "'bsd'; expected one of linux, windows, mac os x");
}

static void test_check_os_version_is_dotted_digits(void **state)
{
  static const char *const bad[] = {"7.x", "7..2", ".7", "7.", "v7", "7 2"};

  (void)state;
  system_ok("disk.0.os.version = '20.04.1'");
  system_ok("disk.0.os.version = ''");
  system_ok("disk.0.os.version = '7'");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char f[64], msg[160];

    snprintf(f, sizeof f, "disk.0.os.version = '%s'", bad[i]);
    snprintf(msg, sizeof msg, "t.radl:2:1: feature 'disk.0.os.version': invalid version '%s'; "
                              "expected numbers separated by dots", bad[i]);
    system_fails(f, msg);
  }
}

/* "version" in the name lets a string take < > <= >= as well. */
static void test_check_version_features_take_comparisons(void **state)
{
  (void)state;
  system_ok("disk.0.os.version >= '7'");
  system_ok("disk.0.applications contains (name = 'a' and version < '9')");
  system_fails("disk.0.os.flavour >= 'ubuntu'",
               "t.radl:2:1: feature 'disk.0.os.flavour': invalid operator '>='; expected '='");
}

static void test_check_applications_need_contains(void **state)
{
  (void)state;
  system_fails("disk.0.applications = 'nginx'",
               "t.radl:2:1: feature 'disk.0.applications': expected 'contains (...)'");
}

static void test_check_application_name_and_path_not_empty(void **state)
{
  (void)state;
  system_ok("disk.0.applications contains (name = 'a' and path = '/p')");
  system_fails("disk.0.applications contains (\n  name = '')",
               "t.radl:3:3: feature 'name' of 'disk.0.applications': must not be empty");
  system_fails("disk.0.applications contains (name = 'a' and\n  path = '')",
               "t.radl:3:3: feature 'path' of 'disk.0.applications': must not be empty");
}

static void test_check_application_version_and_preinstalled(void **state)
{
  (void)state;
  system_ok("disk.0.applications contains (name = 'a' and version >= '1.2' and "
            "preinstalled = 'YES')");
  system_fails("disk.0.applications contains (name = 'a' and\n  version = 'latest')",
               "t.radl:3:3: feature 'version' of 'disk.0.applications': invalid version "
               "'latest'; expected numbers separated by dots");
  system_fails("disk.0.applications contains (name = 'a' and\n  preinstalled = 'maybe')",
               "t.radl:3:3: feature 'preinstalled' of 'disk.0.applications': invalid value "
               "'maybe'; expected one of yes, no");
  system_fails("disk.0.applications contains (name = 3)",
               "t.radl:2:31: feature 'name' of 'disk.0.applications': expected a string");
}

static void test_check_every_application_is_checked(void **state)
{
  (void)state;
  system_fails("disk.0.applications contains (name = 'a') and\n"
               "disk.0.applications contains (name = 'b' and\n  version = 'x')",
               "t.radl:4:3: feature 'version' of 'disk.0.applications': invalid version 'x'; "
               "expected numbers separated by dots");
}

static void test_check_contains_needs_contains_operator(void **state)
{
  struct imc_doc *doc = parse("system s (disk.0.applications contains (name = 'a'))");
  const struct imc_prop *p = imc_features_prop(&doc->systems[0]->feats, "disk.0.applications");

  (void)state;
  /* Only a producer other than the parser can get this wrong. */
  p->items[0]->op = IMC_OP_EQ;
  check_doc_fails(doc, "t.radl:1:11: feature 'disk.0.applications': invalid operator '='; "
                       "expected 'contains'");
  imc_doc_free(doc);
}

static void test_check_reference_system_is_not_checked(void **state)
{
  struct imc_doc *doc = parse("system s");

  (void)state;
  assert_int_equal(imc_features_set_str(&doc->systems[0]->feats, "spot", "never"), 0);
  check_doc_ok(doc);
  imc_doc_free(doc);
}

/* --- deploy -------------------------------------------------------------------------- */

static void test_check_deploy_needs_a_system(void **state)
{
  (void)state;
  check_ok("system s ()\ndeploy s 2");
  check_ok("system s\ndeploy s 0");
  check_fails("system s ()\ndeploy t 1", "t.radl:2:1: deploy: system 't' is not defined");
}

static void test_check_deploy_count_must_be_whole(void **state)
{
  (void)state;
  check_fails("system s ()\ndeploy s 1.5",
              "t.radl:2:1: deploy 's': the number of VMs must be a whole number >= 0");
}

/* --- configure ----------------------------------------------------------------------- */

static void test_check_yaml_recipe_is_valid(void **state)
{
  (void)state;
  recipe_ok("---\n- hosts: all\n  tasks:\n  - name: x\n    debug: msg=y\n");
  recipe_ok("#cloud-config\npackages:\n  - git\n");
  recipe_ok("#!/bin/bash\necho hello\n");
  recipe_ok("");
}

static void test_check_invalid_yaml_reports_line_and_column(void **state)
{
  (void)state;
  /* The recipe starts on line 3; "a: b: c" is its second line. */
  recipe_fails("---\na: b: c",
               "t.radl:4:5: invalid YAML in configure 'c': mapping values are not allowed in "
               "this context");
}

static void test_check_yaml_error_with_context(void **state)
{
  (void)state;
  recipe_fails("- hosts: all\n  tasks: [a, b\n", "t.radl:5:1: invalid YAML in configure 'c': "
                                                  "while parsing a flow sequence, did not find "
                                                  "expected ',' or ']'");
}

/* A recipe that starts on the @begin line keeps that line's column. */
static void test_check_yaml_error_on_the_begin_line(void **state)
{
  (void)state;
  check_fails("configure c (\n@begin a: b: c\n@end\n)",
              "t.radl:2:12: invalid YAML in configure 'c': mapping values are not allowed in "
              "this context");
}

static void test_check_yaml_tab_indentation_fails(void **state)
{
  (void)state;
  recipe_fails("a:\n\tb: 1", "t.radl:4:1: invalid YAML in configure 'c': while scanning for the "
                             "next token, found character that cannot start any token");
}

static void test_check_yaml_control_character_fails(void **state)
{
  (void)state;
  recipe_fails("a: 1\nb: x\x01y", "t.radl:4:5: invalid YAML in configure 'c': control characters "
                                  "are not allowed");
}

static void test_check_yaml_invalid_utf8_fails(void **state)
{
  (void)state;
  recipe_fails("a: 1\nb: \xc3\xb1\xff", "t.radl:4:5: invalid YAML in configure 'c': invalid "
                                        "leading UTF-8 octet");
}

/* yaml.safe_load reads one document. */
static void test_check_yaml_second_document_fails(void **state)
{
  (void)state;
  recipe_ok("---\na: 1\n...\n");
  recipe_fails("--- a\n--- b", "t.radl:4:1: invalid YAML in configure 'c': expected a single "
                               "document, found another one");
}

static void test_check_yaml_undefined_alias_fails(void **state)
{
  (void)state;
  recipe_fails("a: 1\nb: *x", "t.radl:4:4: invalid YAML in configure 'c': undefined alias '*x'");
  recipe_fails("a: *x\nb: &x 1", "t.radl:3:4: invalid YAML in configure 'c': undefined alias "
                                 "'*x'");
}

static void test_check_yaml_duplicate_anchor_fails(void **state)
{
  (void)state;
  recipe_fails("a: &x 1\nb: &x 2",
               "t.radl:4:4: invalid YAML in configure 'c': duplicate anchor '&x'");
}

static void test_check_yaml_aliases_are_fine(void **state)
{
  (void)state;
  recipe_ok("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\nlist: [*b, *b]\n");
  /* A recursive alias: PyYAML builds a cycle and accepts it. */
  recipe_ok("a: &r [*r]\n");
}

static void test_check_yaml_collection_key_fails(void **state)
{
  (void)state;
  recipe_fails("? [a]\n: b", "t.radl:3:3: invalid YAML in configure 'c': a mapping key cannot be "
                             "a sequence or a mapping");
  recipe_fails("{x: 1, {a: 1}: b}", "t.radl:3:8: invalid YAML in configure 'c': a mapping key "
                                    "cannot be a sequence or a mapping");
  recipe_fails("x: &s [1]\n? *s\n: 2", "t.radl:4:3: invalid YAML in configure 'c': a mapping "
                                       "key cannot be a sequence or a mapping");
  recipe_ok("x: &s 1\n? *s\n: 2\n");
}

static void test_check_yaml_unknown_tag_fails(void **state)
{
  (void)state;
  recipe_fails("pass: !vault |\n  abc", "t.radl:3:7: invalid YAML in configure 'c': unknown tag "
                                        "'!vault'");
  recipe_fails("x: !!python/object:os.system y", "t.radl:3:4: invalid YAML in configure 'c': "
                                                 "unknown tag '!!python/object:os.system'");
}

static void test_check_yaml_standard_tags_are_fine(void **state)
{
  (void)state;
  recipe_ok("a: !!str 1\nb: !!int 2\nc: !!map {x: 1}\nd: !!seq [1]\ne: ! plain\n"
            "f: !!set {x}\ng: !!omap [x: 1]\nh: !!null ''\n");
}

static void test_check_yaml_tag_on_wrong_kind_fails(void **state)
{
  (void)state;
  recipe_fails("a: !!int [1]", "t.radl:3:4: invalid YAML in configure 'c': tag '!!int' needs a "
                               "scalar, not a sequence");
  recipe_fails("a: !!map x", "t.radl:3:4: invalid YAML in configure 'c': tag '!!map' needs a "
                             "mapping, not a scalar");
}

/* Each level multiplies by ten: 10^9 nodes once expanded, from only 81 aliases. */
static void test_check_yaml_billion_laughs_fails(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 1 << 20);
  imc_buf_adds(&b, "a0: &a0 [lol]\n");
  for (int i = 1; i <= 9; i++) {
    imc_buf_addf(&b, "a%d: &a%d [", i, i);
    for (int j = 0; j < 10; j++)
      imc_buf_addf(&b, "%s*a%d", j ? ", " : "", i - 1);
    imc_buf_adds(&b, "]\n");
  }
  assert_int_equal(imc_buf_err(&b), 0);
  recipe_fails(imc_buf_cstr(&b), "t.radl:9:25: invalid YAML in configure 'c': aliases expand to "
                                 "more than 1000000 nodes");
  imc_buf_free(&b);
}

/* The anchor table grows while the anchored sequence is still open: its size must still be
 * recorded when it ends (50021 nodes; the 20th alias passes 1000000). */
static void test_check_yaml_expansion_survives_table_growth(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 1 << 20);
  imc_buf_adds(&b, "a: &big [");
  for (int i = 1; i <= 20; i++)
    imc_buf_addf(&b, "&x%d 1, ", i);
  for (int i = 0; i < 50000; i++)
    imc_buf_adds(&b, "0, ");
  imc_buf_adds(&b, "0]\nb: [");
  for (int i = 0; i < 20; i++)
    imc_buf_addf(&b, "%s*big", i ? ", " : "");
  imc_buf_adds(&b, "]");
  assert_int_equal(imc_buf_err(&b), 0);
  recipe_fails(imc_buf_cstr(&b), "t.radl:4:119: invalid YAML in configure 'c': aliases expand "
                                 "to more than 1000000 nodes");
  imc_buf_free(&b);
}

static void test_check_yaml_alias_count_is_bounded(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 1 << 20);
  imc_buf_adds(&b, "a: &a x\nl:\n");
  for (int i = 0; i < 10000; i++)
    imc_buf_adds(&b, "- *a\n");
  assert_int_equal(imc_buf_err(&b), 0);
  recipe_ok(imc_buf_cstr(&b)); /* exactly the limit */
  imc_buf_adds(&b, "- *a");
  recipe_fails(imc_buf_cstr(&b), "t.radl:10005:3: invalid YAML in configure 'c': more than "
                                 "10000 aliases");
  imc_buf_free(&b);
}

static void test_check_yaml_depth_is_bounded(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 1 << 20);
  for (int i = 0; i < 1000; i++)
    imc_buf_addc(&b, '[');
  for (int i = 0; i < 1000; i++)
    imc_buf_addc(&b, ']');
  recipe_ok(imc_buf_cstr(&b));
  imc_buf_reset(&b);
  for (int i = 0; i < 1001; i++)
    imc_buf_addc(&b, '[');
  for (int i = 0; i < 1001; i++)
    imc_buf_addc(&b, ']');
  recipe_fails(imc_buf_cstr(&b), "t.radl:3:1001: invalid YAML in configure 'c': nested deeper "
                                 "than 1000 levels");
  imc_buf_free(&b);
}

static void test_check_empty_and_reference_configures_are_not_checked(void **state)
{
  (void)state;
  check_ok("configure a ()\nconfigure b\n");
}

static void test_check_recipe_without_position_reports_configure(void **state)
{
  struct imc_doc *doc = imc_doc_new("mem");
  struct imc_configure *k = imc_configure_new("x");

  (void)state;
  k->pos.line = 7;
  k->pos.col = 2;
  assert_non_null(k->recipe = imc_strdup("a: b: c"));
  assert_int_equal(imc_doc_add_configure(doc, k, IMC_IFPRESENT_ERROR, NULL, NULL), 0);
  check_doc_fails(doc, "mem:7:2: invalid YAML in configure 'x': mapping values are not allowed "
                       "in this context");
  imc_doc_free(doc);
}

/* --- contextualize ------------------------------------------------------------------- */

static void test_check_ctxt_max_time_must_be_whole(void **state)
{
  (void)state;
  check_ok("contextualize 100 ()");
  check_fails("\ncontextualize 1.5 ()",
              "t.radl:2:1: contextualize: max_time must be a whole number >= 0");
}

static void test_check_ctxt_item_needs_a_system(void **state)
{
  (void)state;
  check_fails("configure c ()\ncontextualize (\n  system s configure c\n)",
              "t.radl:3:3: contextualize: system 's' is not defined");
}

static void test_check_ctxt_item_needs_a_configure(void **state)
{
  (void)state;
  check_fails("system s ()\ncontextualize (\n  system s configure c\n)",
              "t.radl:3:3: contextualize: configure 'c' is not defined");
  check_ok("system s\nconfigure c\ncontextualize (system s configure c)");
}

static void test_check_ctxt_step_must_be_whole(void **state)
{
  (void)state;
  check_ok("system s ()\nconfigure c ()\ncontextualize (system s configure c step 3)");
  check_fails("system s ()\nconfigure c ()\ncontextualize (\n  system s configure c step 1.5)",
              "t.radl:4:3: contextualize: the step must be a whole number >= 0");
}

/* --- IM's order between elements ----------------------------------------------------- */

static void test_check_networks_come_before_systems(void **state)
{
  (void)state;
  check_fails("system s (spot = 'x')\nnetwork n (outbound = 'x')",
              "t.radl:2:12: feature 'outbound': invalid value 'x'; expected one of yes, no");
}

static void test_check_ansible_hosts_come_before_systems(void **state)
{
  (void)state;
  check_fails("system s (spot = 'x')\nansible a (host = 'h')",
              "t.radl:2:1: ansible 'a' has no credentials.username");
}

static void test_check_deploys_come_before_configures(void **state)
{
  (void)state;
  check_fails("configure c (\n@begin\na: b: c\n@end\n)\ndeploy nothing 1",
              "t.radl:6:1: deploy: system 'nothing' is not defined");
}

static void test_check_configures_come_before_contextualize(void **state)
{
  (void)state;
  check_fails("contextualize (system s configure c)\nconfigure c (\n@begin\na: b: c\n@end\n)",
              "t.radl:4:5: invalid YAML in configure 'c': mapping values are not allowed in "
              "this context");
}

/* --- duplicate ids ------------------------------------------------------------------- */

/* The parser refuses duplicates; other producers may not, so build them by hand. */
static void push_elem(struct imc_elem ***v, size_t *n, size_t *cap, enum imc_elem_kind kind,
                      const char *id, int line)
{
  struct imc_elem *e = imc_elem_new(kind, id);

  assert_non_null(e);
  e->pos.line = line;
  e->pos.col = 1;
  assert_int_equal(imc_grow((void **)v, cap, *n + 1, sizeof **v), 0);
  (*v)[(*n)++] = e;
}

static void test_check_duplicate_system_is_reported(void **state)
{
  struct imc_doc *doc = imc_doc_new("d.radl");

  (void)state;
  push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, "a", 1);
  push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, "b", 2);
  push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, "b", 3);
  push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, "a", 4);
  check_doc_fails(doc, "d.radl:3:1: system 'b' is defined twice");
  imc_doc_free(doc);
}

static void test_check_duplicate_network_is_reported(void **state)
{
  struct imc_doc *doc = imc_doc_new("d.radl");

  (void)state;
  push_elem(&doc->networks, &doc->nnetworks, &doc->cap_networks, IMC_ELEM_NETWORK, "n", 1);
  push_elem(&doc->networks, &doc->nnetworks, &doc->cap_networks, IMC_ELEM_NETWORK, "m", 2);
  push_elem(&doc->networks, &doc->nnetworks, &doc->cap_networks, IMC_ELEM_NETWORK, "n", 3);
  check_doc_fails(doc, "d.radl:3:1: network 'n' is defined twice");
  /* Systems are checked for duplicates first. */
  push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, "s", 4);
  push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, "s", 5);
  check_doc_fails(doc, "d.radl:5:1: system 's' is defined twice");
  imc_doc_free(doc);
}

static void test_check_distinct_ids_pass(void **state)
{
  struct imc_doc *doc = imc_doc_new(NULL);

  (void)state;
  for (int i = 0; i < 50; i++) {
    char id[16];

    snprintf(id, sizeof id, "s%d", i);
    push_elem(&doc->systems, &doc->nsystems, &doc->cap_systems, IMC_ELEM_SYSTEM, id, i + 1);
  }
  check_doc_ok(doc);
  imc_doc_free(doc);
}

/* --- robustness ---------------------------------------------------------------------- */

static void test_check_without_source_has_no_file_prefix(void **state)
{
  struct imc_doc *doc = parse("system s (spot = 'x')");

  (void)state;
  imc_free(doc->source);
  doc->source = NULL;
  check_doc_fails(doc, "1:11: feature 'spot': invalid value 'x'; expected one of yes, no");
  imc_doc_free(doc);
}

static void test_check_does_not_change_the_document(void **state)
{
  struct imc_doc *doc = parse(full_doc), *copy = imc_doc_clone(doc);

  (void)state;
  check_doc_ok(doc);
  assert_true(imc_doc_equal(doc, copy));
  imc_doc_free(doc);
  imc_doc_free(copy);
}

/* Every allocation radl_check makes, failed in turn: IMC_E_NOMEM, no leak (ASan). */
static void test_check_without_memory_fails_cleanly(void **state)
{
  struct imc_doc *doc = parse(full_doc);
  unsigned long n;

  (void)state;
  /* Duplicate-id checks allocate only when there are two or more elements. */
  for (n = 1;; n++) {
    struct imc_err err;
    int r;

    imc_err_clear(&err);
    imc_alloc_fail_at(n);
    r = radl_check(doc, &err);
    imc_alloc_fail_at(0);
    if (r == 0)
      break;
    assert_int_equal(r, IMC_E_NOMEM);
    assert_string_equal(err.msg, "out of memory");
  }
  assert_true(n > 3);
  imc_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_check_full_document_is_valid),
    cmocka_unit_test(test_check_empty_document_is_valid),
    cmocka_unit_test(test_check_outbound_accepts_yes_no_in_any_case),
    cmocka_unit_test(test_check_outbound_rejects_other_values),
    cmocka_unit_test(test_check_outbound_rejects_numbers),
    cmocka_unit_test(test_check_string_feature_needs_equals),
    cmocka_unit_test(test_check_outports_valid),
    cmocka_unit_test(test_check_outports_invalid),
    cmocka_unit_test(test_check_outports_with_spaces_invalid),
    cmocka_unit_test(test_check_provider_id_must_be_a_string),
    cmocka_unit_test(test_check_reference_network_is_not_checked),
    cmocka_unit_test(test_check_ansible_with_password_is_valid),
    cmocka_unit_test(test_check_ansible_without_host_fails),
    cmocka_unit_test(test_check_ansible_with_empty_host_fails),
    cmocka_unit_test(test_check_ansible_without_username_fails),
    cmocka_unit_test(test_check_ansible_without_secret_fails),
    cmocka_unit_test(test_check_ansible_feature_types),
    cmocka_unit_test(test_check_spot_yes_no),
    cmocka_unit_test(test_check_image_type_values),
    cmocka_unit_test(test_check_virtual_system_type_must_be_a_string),
    cmocka_unit_test(test_check_price_is_a_number_without_unit),
    cmocka_unit_test(test_check_negative_numbers_fail),
    cmocka_unit_test(test_check_cpu_count_rules),
    cmocka_unit_test(test_check_cpu_arch_values),
    cmocka_unit_test(test_check_cpu_performance_needs_its_unit),
    cmocka_unit_test(test_check_memory_size_units),
    cmocka_unit_test(test_check_memory_size_refuses_ti_as_im),
    cmocka_unit_test(test_check_memory_size_must_be_whole),
    cmocka_unit_test(test_check_new_password_strength),
    cmocka_unit_test(test_check_new_password_needs_seven_characters),
    cmocka_unit_test(test_check_new_password_counts_characters_not_bytes),
    cmocka_unit_test(test_check_new_password_needs_each_class),
    cmocka_unit_test(test_check_ansible_host_must_exist),
    cmocka_unit_test(test_check_plain_features_come_before_indexed_ones),
    cmocka_unit_test(test_check_first_bad_feature_in_order_is_reported),
    cmocka_unit_test(test_check_both_bounds_of_a_range_are_checked),
    cmocka_unit_test(test_check_soft_group_features_are_checked),
    cmocka_unit_test(test_check_nested_soft_group_is_checked),
    cmocka_unit_test(test_check_soft_group_indices_are_its_own),
    cmocka_unit_test(test_check_deep_soft_nesting_is_refused),
    cmocka_unit_test(test_check_index_must_be_a_number),
    cmocka_unit_test(test_check_index_is_parsed_without_suffix),
    cmocka_unit_test(test_check_index_follows_python_int),
    cmocka_unit_test(test_check_unknown_suffixes_do_not_count),
    cmocka_unit_test(test_check_indices_must_start_at_zero),
    cmocka_unit_test(test_check_indices_must_not_have_gaps),
    cmocka_unit_test(test_check_indices_must_not_be_negative),
    cmocka_unit_test(test_check_huge_index_is_a_gap),
    cmocka_unit_test(test_check_index_prefixes_in_order_of_appearance),
    cmocka_unit_test(test_check_connection_must_name_a_network),
    cmocka_unit_test(test_check_interface_needs_a_connection),
    cmocka_unit_test(test_check_interface_features_are_strings),
    cmocka_unit_test(test_check_image_url_is_string_or_list),
    cmocka_unit_test(test_check_disk_string_features),
    cmocka_unit_test(test_check_disk_sizes),
    cmocka_unit_test(test_check_os_name_values),
    cmocka_unit_test(test_check_os_version_is_dotted_digits),
    cmocka_unit_test(test_check_version_features_take_comparisons),
    cmocka_unit_test(test_check_applications_need_contains),
    cmocka_unit_test(test_check_application_name_and_path_not_empty),
    cmocka_unit_test(test_check_application_version_and_preinstalled),
    cmocka_unit_test(test_check_every_application_is_checked),
    cmocka_unit_test(test_check_contains_needs_contains_operator),
    cmocka_unit_test(test_check_reference_system_is_not_checked),
    cmocka_unit_test(test_check_deploy_needs_a_system),
    cmocka_unit_test(test_check_deploy_count_must_be_whole),
    cmocka_unit_test(test_check_yaml_recipe_is_valid),
    cmocka_unit_test(test_check_invalid_yaml_reports_line_and_column),
    cmocka_unit_test(test_check_yaml_error_with_context),
    cmocka_unit_test(test_check_yaml_error_on_the_begin_line),
    cmocka_unit_test(test_check_yaml_tab_indentation_fails),
    cmocka_unit_test(test_check_yaml_control_character_fails),
    cmocka_unit_test(test_check_yaml_invalid_utf8_fails),
    cmocka_unit_test(test_check_yaml_second_document_fails),
    cmocka_unit_test(test_check_yaml_undefined_alias_fails),
    cmocka_unit_test(test_check_yaml_duplicate_anchor_fails),
    cmocka_unit_test(test_check_yaml_aliases_are_fine),
    cmocka_unit_test(test_check_yaml_collection_key_fails),
    cmocka_unit_test(test_check_yaml_unknown_tag_fails),
    cmocka_unit_test(test_check_yaml_standard_tags_are_fine),
    cmocka_unit_test(test_check_yaml_tag_on_wrong_kind_fails),
    cmocka_unit_test(test_check_yaml_billion_laughs_fails),
    cmocka_unit_test(test_check_yaml_expansion_survives_table_growth),
    cmocka_unit_test(test_check_yaml_alias_count_is_bounded),
    cmocka_unit_test(test_check_yaml_depth_is_bounded),
    cmocka_unit_test(test_check_empty_and_reference_configures_are_not_checked),
    cmocka_unit_test(test_check_recipe_without_position_reports_configure),
    cmocka_unit_test(test_check_ctxt_max_time_must_be_whole),
    cmocka_unit_test(test_check_ctxt_item_needs_a_system),
    cmocka_unit_test(test_check_ctxt_item_needs_a_configure),
    cmocka_unit_test(test_check_ctxt_step_must_be_whole),
    cmocka_unit_test(test_check_networks_come_before_systems),
    cmocka_unit_test(test_check_ansible_hosts_come_before_systems),
    cmocka_unit_test(test_check_deploys_come_before_configures),
    cmocka_unit_test(test_check_configures_come_before_contextualize),
    cmocka_unit_test(test_check_duplicate_system_is_reported),
    cmocka_unit_test(test_check_duplicate_network_is_reported),
    cmocka_unit_test(test_check_distinct_ids_pass),
    cmocka_unit_test(test_check_without_source_has_no_file_prefix),
    cmocka_unit_test(test_check_does_not_change_the_document),
    cmocka_unit_test(test_check_without_memory_fails_cleanly),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
