/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd.conf: ConfigParser's syntax as IM reads im.cfg, each value type with its errors and
 * positions, warnings for unknown options, the environment on top, checks across options,
 * the generated documentation against doc/configuration.md, and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/config.h"
#include "imc/err.h"
#include "imc/log.h"

#define DATA     IMC_TEST_DATA "/config/"
#define DOC_PATH IMC_TEST_DATA "/../../doc/configuration.md"

/* Log lines of the current test, so that warnings can be checked (and stay off stderr). */
static struct imc_buf logged;

static void capture(enum imc_log_level level, const char *file, int line, const char *msg,
                    void *ctx)
{
  (void)file;
  (void)line;
  (void)ctx;
  imc_buf_addf(&logged, "%d %s\n", (int)level, msg);
}

static int setup(void **state)
{
  (void)state;
  imc_buf_init(&logged, 1 << 20);
  imc_log_set_sink(capture, NULL);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  imc_log_set_sink(NULL, NULL);
  imc_buf_free(&logged);
  return 0;
}

static void init(struct imc_config *c)
{
  struct imc_err e;

  imc_err_clear(&e);
  assert_int_equal(imc_config_init(c, &e), 0);
}

static int load(struct imc_config *c, const char *text, struct imc_err *e)
{
  imc_err_clear(e);
  return imc_config_load(c, "t.conf", text, strlen(text), e);
}

/* Loads text into a fresh configuration and expects the error msg (IMC_E_INVAL). */
static void load_fails(const char *text, const char *msg)
{
  struct imc_config c;
  struct imc_err e;

  init(&c);
  assert_int_equal(load(&c, text, &e), IMC_E_INVAL);
  assert_string_equal(e.msg, msg);
  imc_config_cleanup(&c);
}

/* --- defaults ------------------------------------------------------------------------- */

static void test_config_init_sets_ims_defaults(void **state)
{
  struct imc_config c;

  (void)state;
  init(&c);
  assert_int_equal(c.max_vm_fails, 3);
  assert_int_equal(c.wait_running_vm_timeout, 1800);
  assert_int_equal(c.wait_ssh_acccess_timeout, 300);
  assert_int_equal(c.vm_info_update_error_grace_period, 120);
  assert_int_equal(c.xmlrcp_port, 8899);
  assert_int_equal(c.rest_port, 8800);
  assert_int_equal(c.playbook_retries, 1);
  assert_true(c.activate_rest);
  assert_true(c.ssh_reverse_tunnels);
  assert_false(c.enable_cors);
  assert_string_equal(c.default_vm_name, "vnode-#N#");
  assert_string_equal(c.default_vm_memory_unit, "M");
  assert_string_equal(c.cors_origin, "*");
  assert_string_equal(c.log_level, "INFO");
  assert_int_equal(c.private_net_masks.n, 7);
  assert_string_equal(c.private_net_masks.items[0], "10.0.0.0/8");
  assert_string_equal(c.private_net_masks.items[6], "198.18.0.0/15");
  assert_string_equal(c.admin_user, "[]");
  assert_int_equal(c.warnings.n, 0);
  imc_config_cleanup(&c);
}

static void test_config_init_uses_imcs_own_defaults_where_decided(void **state)
{
  struct imc_config c;

  (void)state;
  init(&c);
  assert_string_equal(c.xmlrcp_address, "127.0.0.1");
  assert_string_equal(c.rest_address, "127.0.0.1");
  assert_string_equal(c.data_db, "/var/lib/imc/imc.db");
  assert_int_equal(c.max_simultaneous_launches, 5);
  assert_true(c.verifi_ssl);
  assert_int_equal(c.workers, 8);
  assert_int_equal(c.max_request_body, 16777216);
  assert_false(c.metrics);
  imc_config_cleanup(&c);
}

static void test_config_defaults_pass_the_checks(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_check(&c, &e), 0);
  imc_config_cleanup(&c);
}

/* --- the file ------------------------------------------------------------------------- */

static void test_config_file_sets_every_option(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load_file(&c, DATA "imcd.conf", &e), 0);
  assert_string_equal(c.data_db, "/srv/imc/state.db");
  assert_int_equal(c.boot_mode, 1);
  assert_int_equal(c.max_simultaneous_launches, 12);
  assert_int_equal(c.max_vm_fails, 4);
  assert_int_equal(c.delay_between_vm_retries, 7);
  assert_int_equal(c.wait_running_vm_timeout, 900);
  assert_int_equal(c.wait_ssh_acccess_timeout, 600);
  assert_int_equal(c.wait_public_ip_timeout, 45);
  assert_int_equal(c.vm_info_update_frequency, 15);
  assert_int_equal(c.vm_info_update_error_grace_period, 300);
  assert_int_equal(c.inf_cache_time, 3600);
  assert_int_equal(c.max_contextualization_time, 5400);
  assert_int_equal(c.playbook_retries, 3);
  assert_int_equal(c.check_ctxt_process_interval, 11);
  assert_int_equal(c.update_ctxt_log_interval, 21);
  assert_int_equal(c.max_ssh_errors, 6);
  assert_int_equal(c.vm_num_use_ctxt_dist, 40);
  assert_string_equal(c.remote_conf_dir, "/var/tmp/.imc");
  assert_false(c.ssh_reverse_tunnels);
  assert_int_equal(c.default_vm_memory, 2);
  assert_string_equal(c.default_vm_memory_unit, "GiB");
  assert_int_equal(c.default_vm_cpus, 2);
  assert_string_equal(c.default_vm_cpu_arch, "i386");
  assert_string_equal(c.default_vm_name, "node-#N#");
  assert_string_equal(c.default_domain, "example.org");
  assert_int_equal(c.private_net_masks.n, 3);
  assert_string_equal(c.private_net_masks.items[2], "fd00::/8");
  assert_false(c.activate_xmlrpc);
  assert_int_equal(c.xmlrcp_port, 9899);
  assert_string_equal(c.xmlrcp_address, "0.0.0.0");
  assert_true(c.xmlrcp_ssl);
  assert_string_equal(c.xmlrcp_ssl_keyfile, "/etc/imc/pki/key.pem");
  assert_string_equal(c.xmlrcp_ssl_certfile, "/etc/imc/pki/cert.pem");
  assert_string_equal(c.xmlrcp_ssl_ca_certs, "/etc/imc/pki/ca.pem");
  assert_true(c.vminfo_json);
  assert_true(c.activate_rest);
  assert_int_equal(c.rest_port, 9800);
  assert_string_equal(c.rest_address, "::1");
  assert_true(c.rest_ssl);
  assert_string_equal(c.rest_ssl_keyfile, "/etc/imc/pki/rest-key.pem");
  assert_string_equal(c.rest_ssl_certfile, "/etc/imc/pki/rest-cert.pem");
  assert_string_equal(c.rest_ssl_ca_certs, "/etc/imc/pki/rest-ca.pem");
  assert_true(c.enable_cors);
  assert_string_equal(c.cors_origin, "https://dashboard.example.org");
  assert_string_equal(c.admin_user, "[{\"username\":\"admin\",\"password\":\"s3cret\"},"
                                    "{\"username\":\"ops\",\"password\":\"0ps\"}]");
  assert_false(c.verifi_ssl);
  assert_string_equal(c.log_file, "/var/log/imc/imcd.log");
  assert_string_equal(c.log_level, "DEBUG");
  assert_int_equal(c.workers, 16);
  assert_int_equal(c.max_request_body, 1048576);
  assert_true(c.metrics);
  assert_int_equal(c.warnings.n, 0);
  assert_int_equal(imc_config_check(&c, &e), 0);
  imc_config_cleanup(&c);
}

static void test_config_file_follows_configparser(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load_file(&c, DATA "configparser.conf", &e), 0);
  /* The values Python's ConfigParser gives for this file. */
  assert_string_equal(c.data_db, "/srv/imc/imc.db");
  assert_string_equal(c.rest_address, "10.1.2.3");
  assert_string_equal(c.cors_origin, "100% of https://a.example");
  assert_string_equal(c.log_file, "/srv/imc/log//srv/imc/imc.db.log");
  assert_string_equal(c.default_vm_name, "first\nsecond\n\nthird");
  assert_int_equal(c.rest_port, 1111);
  assert_int_equal(c.xmlrcp_port, 8899);
  assert_int_equal(c.warnings.n, 1);
  assert_string_equal(c.warnings.items[0], DATA "configparser.conf:3:1: unknown option 'base' "
                                                "in [DEFAULT]; ignored");
  imc_config_cleanup(&c);
}

static void test_config_file_error_names_the_file(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load_file(&c, DATA "bad_port.conf", &e), IMC_E_INVAL);
  assert_string_equal(e.msg, DATA "bad_port.conf:3:15: option XMLRCP_PORT: expected an "
                                  "integer from 1 to 65535, got 'http'");
  imc_config_cleanup(&c);
}

static void test_config_file_missing_is_an_error(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load_file(&c, DATA "absent.conf", &e), IMC_E_IO);
  assert_non_null(strstr(e.msg, "absent.conf"));
  imc_config_cleanup(&c);
}

static void test_config_optional_file_may_be_missing(void **state)
{
  struct imc_config c;
  struct imc_err e;
  bool found = true;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load_optional(&c, DATA "absent.conf", &found, &e), 0);
  assert_false(found);
  assert_int_equal(c.rest_port, 8800);
  assert_int_equal(imc_config_load_optional(&c, DATA "imcd.conf", &found, &e), 0);
  assert_true(found);
  assert_int_equal(c.rest_port, 9800);
  imc_config_cleanup(&c);
}

static void test_config_load_accepts_both_separators(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nREST_PORT: 81\nXMLRCP_PORT=82\nCORS_ORIGIN = a=b:c\n", &e), 0);
  assert_int_equal(c.rest_port, 81);
  assert_int_equal(c.xmlrcp_port, 82);
  /* Split at the first separator: the rest belongs to the value. */
  assert_string_equal(c.cors_origin, "a=b:c");
  imc_config_cleanup(&c);
}

static void test_config_load_names_ignore_case(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nrest_port = 81\nXmlRcp_Port = 82\n", &e), 0);
  assert_int_equal(c.rest_port, 81);
  assert_int_equal(c.xmlrcp_port, 82);
  imc_config_cleanup(&c);
}

static void test_config_load_section_names_keep_case(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[IM]\nREST_PORT = 81\n", &e), 0);
  assert_int_equal(c.rest_port, 8800);
  assert_int_equal(c.warnings.n, 1);
  assert_string_equal(c.warnings.items[0], "t.conf: no [im] section; nothing in it is used");
  imc_config_cleanup(&c);
}

static void test_config_load_skips_comment_lines(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "# top\n; top\n[im]\n  # indented\n;REST_PORT = 1\nREST_PORT = 2\n"
                        "CORS_ORIGIN = a # not a comment\n",
                        &e),
                   0);
  assert_int_equal(c.rest_port, 2);
  assert_string_equal(c.cors_origin, "a # not a comment");
  imc_config_cleanup(&c);
}

static void test_config_load_keeps_a_hash_after_a_value(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = 8800 # the API\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '8800 # "
             "the API'");
}

static void test_config_load_ignores_other_sections(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[OpenNebula]\nREST_PORT = x\nNOT_AN_OPTION = 1\n[im]\n"
                        "REST_PORT = 3\n[im2]\nREST_PORT = 4\n",
                        &e),
                   0);
  assert_int_equal(c.rest_port, 3);
  assert_int_equal(c.warnings.n, 0);
  imc_config_cleanup(&c);
}

static void test_config_load_default_section_applies_below_im(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[DEFAULT]\nREST_PORT = 1\nXMLRCP_PORT = 2\n[im]\nREST_PORT = 3\n"
                        "[DEFAULT]\nMAX_VM_FAILS = 9\n",
                        &e),
                   0);
  assert_int_equal(c.rest_port, 3);
  assert_int_equal(c.xmlrcp_port, 2);
  assert_int_equal(c.max_vm_fails, 9);
  imc_config_cleanup(&c);
}

static void test_config_load_without_im_ignores_default(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[DEFAULT]\nREST_PORT = 1\n", &e), 0);
  assert_int_equal(c.rest_port, 8800);
  imc_config_cleanup(&c);
}

static void test_config_load_joins_continuation_lines(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[im]\nADMIN_USER = [{\"username\": \"a\", \"password\": \"b\"},\n"
                        "              {\"username\": \"c\", \"password\": \"d\"}]\n"
                        "DEFAULT_DOMAIN = one\n\n  two\n# gone\n\n",
                        &e),
                   0);
  assert_string_equal(c.admin_user, "[{\"username\":\"a\",\"password\":\"b\"},"
                                    "{\"username\":\"c\",\"password\":\"d\"}]");
  assert_string_equal(c.default_domain, "one\n\ntwo");
  imc_config_cleanup(&c);
}

static void test_config_load_continuation_needs_deeper_indent(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  /* The first option is indented: a line with the same indentation is a new option. */
  assert_int_equal(load(&c, "[im]\n  REST_PORT = 1\n  XMLRCP_PORT = 2\n", &e), 0);
  assert_int_equal(c.rest_port, 1);
  assert_int_equal(c.xmlrcp_port, 2);
  imc_config_cleanup(&c);
}

static void test_config_load_reads_crlf_and_cr_lines(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\r\nREST_PORT = 1\r\nXMLRCP_PORT = 2\rWORKERS = 3", &e), 0);
  assert_int_equal(c.rest_port, 1);
  assert_int_equal(c.xmlrcp_port, 2);
  assert_int_equal(c.workers, 3);
  assert_int_equal(load(&c, "[im]\r\nREST_PORT = x\r\n", &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "t.conf:2:13: option REST_PORT: expected an integer from 1 to "
                             "65535, got 'x'");
  imc_config_cleanup(&c);
}

static void test_config_load_skips_a_byte_order_mark(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "\xEF\xBB\xBF[im]\nREST_PORT = 5\n", &e), 0);
  assert_int_equal(c.rest_port, 5);
  assert_int_equal(load(&c, "\xEF\xBB\xBFREST_PORT = 5\n", &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "t.conf:1:1: expected a [section] header before the first option");
  assert_int_equal(load(&c, "\xEF\xBB\xBF[\xFF", &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "t.conf:1:2: not valid UTF-8 text");
  imc_config_cleanup(&c);
}

static void test_config_load_section_header_ends_at_last_bracket(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  /* ConfigParser's \[(.+)\]: what follows the last ']' is dropped. */
  assert_int_equal(load(&c, "[im] ; the options\nREST_PORT = 5\n", &e), 0);
  assert_int_equal(c.rest_port, 5);
  imc_config_cleanup(&c);
}

/* --- interpolation -------------------------------------------------------------------- */

static void test_config_load_interpolates_references(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[DEFAULT]\nport = 81\n[im]\ndir = /v\nREST_PORT = %(PORT)s\n"
                        "LOG_FILE = %(dir)s/%(remote_conf_dir)s/100%%\n"
                        "REMOTE_CONF_DIR = x\n",
                        &e),
                   0);
  assert_int_equal(c.rest_port, 81);
  assert_string_equal(c.log_file, "/v/x/100%");
  imc_config_cleanup(&c);
}

static void test_config_load_rejects_a_lone_percent(void **state)
{
  (void)state;
  load_fails("[im]\nCORS_ORIGIN = 100%\n",
             "t.conf:2:15: option CORS_ORIGIN: '%' must be followed by '%' or '('");
}

static void test_config_load_rejects_a_bad_reference(void **state)
{
  (void)state;
  load_fails("[im]\nCORS_ORIGIN = %(a)x\n",
             "t.conf:2:15: option CORS_ORIGIN: '%(' must start a %(name)s reference");
}

static void test_config_load_rejects_a_reference_to_nothing(void **state)
{
  (void)state;
  load_fails("[im]\nCORS_ORIGIN = %(nothing)s\n[other]\nnothing = 1\n",
             "t.conf:2:15: option CORS_ORIGIN: %(nothing)s names no option of [im] or [DEFAULT]");
}

static void test_config_load_rejects_a_reference_loop(void **state)
{
  (void)state;
  load_fails("[im]\na = %(b)s\nb = %(a)s\nCORS_ORIGIN = %(a)s\n",
             "t.conf:4:15: option CORS_ORIGIN: %(name)s references nest deeper than 10 levels");
}

static void test_config_load_bounds_references_that_fan_out(void **state)
{
  struct imc_config c;
  struct imc_err e;
  struct imc_buf t;

  (void)state;
  /* Each level doubles: 2^9 copies of a 1000-byte value pass the 64 KiB limit. */
  imc_buf_init(&t, 1 << 20);
  imc_buf_adds(&t, "[im]\nCORS_ORIGIN = %(a0)s\n");
  for (int i = 0; i < 8; i++)
    imc_buf_addf(&t, "a%d = %%(a%d)s%%(a%d)s\n", i, i + 1, i + 1);
  imc_buf_adds(&t, "a8 = ");
  for (int i = 0; i < 1000; i++)
    imc_buf_addc(&t, 'x');
  imc_buf_addc(&t, '\n');
  init(&c);
  assert_int_equal(load(&c, imc_buf_cstr(&t), &e), IMC_E_TOOBIG);
  assert_string_equal(e.msg, "t.conf:2:15: option CORS_ORIGIN: its %(name)s references expand "
                             "past 65536 bytes");
  imc_config_cleanup(&c);
  imc_buf_free(&t);
}

static void test_config_load_bounds_references_to_empty_values(void **state)
{
  struct imc_config c;
  struct imc_err e;
  struct imc_buf t;

  (void)state;
  /* Nothing is ever written, but 100^9 references would take forever: the work is bounded. */
  imc_buf_init(&t, 1 << 20);
  imc_buf_adds(&t, "[im]\nCORS_ORIGIN = %(a0)s\n");
  for (int i = 0; i < 9; i++) {
    imc_buf_addf(&t, "a%d = ", i);
    for (int j = 0; j < 100; j++)
      imc_buf_addf(&t, "%%(a%d)s", i + 1);
    imc_buf_addc(&t, '\n');
  }
  imc_buf_adds(&t, "a9 =\n");
  init(&c);
  assert_int_equal(load(&c, imc_buf_cstr(&t), &e), IMC_E_TOOBIG);
  imc_config_cleanup(&c);
  imc_buf_free(&t);
}

/* --- value types ---------------------------------------------------------------------- */

static void test_config_bool_accepts_configparser_words(void **state)
{
  static const char *const yes[] = {"1", "yes", "true", "on", "YES", "True", "oN"};
  static const char *const no[] = {"0", "no", "false", "off", "NO", "False", "OFF"};
  struct imc_config c;
  struct imc_err e;
  char text[64];

  (void)state;
  init(&c);
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    snprintf(text, sizeof text, "[im]\nENABLE_CORS = %s\n", yes[i]);
    assert_int_equal(load(&c, text, &e), 0);
    assert_true(c.enable_cors);
    snprintf(text, sizeof text, "[im]\nENABLE_CORS = %s\n", no[i]);
    assert_int_equal(load(&c, text, &e), 0);
    assert_false(c.enable_cors);
  }
  imc_config_cleanup(&c);
}

static void test_config_bool_rejects_other_words(void **state)
{
  (void)state;
  load_fails("[im]\n\nENABLE_CORS = si\n",
             "t.conf:3:15: option ENABLE_CORS: expected a boolean (true, false, yes, no, on, "
             "off, 1 or 0), got 'si'");
  load_fails("[im]\nENABLE_CORS =\n",
             "t.conf:2:14: option ENABLE_CORS: expected a boolean (true, false, yes, no, on, "
             "off, 1 or 0), got ''");
}

static void test_config_int_reads_python_integers(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nREST_PORT = +8_080\nINF_CACHE_TIME = 007\n", &e), 0);
  assert_int_equal(c.rest_port, 8080);
  assert_int_equal(c.inf_cache_time, 7);
  imc_config_cleanup(&c);
}

static void test_config_int_rejects_non_integers(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = 80.5\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '80.5'");
  load_fails("[im]\nREST_PORT = 8__0\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '8__0'");
  load_fails("[im]\nREST_PORT = _80\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '_80'");
  load_fails("[im]\nREST_PORT = 0x50\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '0x50'");
}

static void test_config_int_rejects_out_of_range(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = 65536\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '65536'");
  load_fails("[im]\nBOOT_MODE = -1\n",
             "t.conf:2:13: option BOOT_MODE: expected an integer from 0 to 2, got '-1'");
  load_fails("[im]\nWORKERS = 99999999999999999999999\n",
             "t.conf:2:11: option WORKERS: expected an integer from 1 to 1024, got "
             "'99999999999999999999999'");
}

static void test_config_list_splits_and_strips_items(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nPRIVATE_NET_MASKS = 10.0.0.0/8 ,192.168.1.1, fd00::/8\n", &e),
                   0);
  assert_int_equal(c.private_net_masks.n, 3);
  assert_string_equal(c.private_net_masks.items[0], "10.0.0.0/8");
  assert_string_equal(c.private_net_masks.items[1], "192.168.1.1");
  assert_string_equal(c.private_net_masks.items[2], "fd00::/8");
  assert_int_equal(load(&c, "[im]\nPRIVATE_NET_MASKS =\n", &e), 0);
  assert_int_equal(c.private_net_masks.n, 0);
  imc_config_cleanup(&c);
}

static void test_config_list_errors_point_at_the_item(void **state)
{
  (void)state;
  load_fails("[im]\nPRIVATE_NET_MASKS = 10.0.0.0/8,, 1.2.3.4/8\n",
             "t.conf:2:32: option PRIVATE_NET_MASKS: empty item in the list");
  load_fails("[im]\nPRIVATE_NET_MASKS = 10.0.0.0/8,  10.0.0.0/33\n",
             "t.conf:2:34: option PRIVATE_NET_MASKS: expected a network as ADDRESS/PREFIX "
             "(10.0.0.0/8, fd00::/8), got '10.0.0.0/33'");
  load_fails("[im]\nPRIVATE_NET_MASKS = 10.0.0.0/8,é\n",
             "t.conf:2:32: option PRIVATE_NET_MASKS: expected a network as ADDRESS/PREFIX "
             "(10.0.0.0/8, fd00::/8), got 'é'");
}

static void test_config_users_accepts_an_object_or_a_list(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nADMIN_USER = {\"username\": \"a\", \"password\": \"b\"}\n", &e),
                   0);
  assert_string_equal(c.admin_user, "[{\"username\":\"a\",\"password\":\"b\"}]");
  assert_int_equal(load(&c, "[im]\nADMIN_USER = {}\n", &e), 0);
  assert_string_equal(c.admin_user, "[]");
  assert_int_equal(load(&c,
                        "[im]\nADMIN_USER = [{\"username\": \"__OPENID__u\", \"password\": "
                        "\"https://issuer/sub\", \"token\": \"\"}]\n",
                        &e),
                   0);
  assert_string_equal(c.admin_user, "[{\"username\":\"__OPENID__u\",\"password\":"
                                    "\"https://issuer/sub\",\"token\":\"\"}]");
  assert_int_equal(load(&c, "[im]\nADMIN_USER =\n", &e), 0);
  assert_string_equal(c.admin_user, "[]");
  imc_config_cleanup(&c);
}

static void test_config_users_errors_never_show_the_value(void **state)
{
  (void)state;
  load_fails("[im]\nADMIN_USER = {\"username\": \"a\", \"password\": \"hunter2\"\n",
             "t.conf:2:14: option ADMIN_USER: expected a JSON object or list of objects with "
             "string members username and password; invalid JSON at line 1, column 39");
  load_fails("[im]\nADMIN_USER = [{\"username\": \"a\", \"password\": \"hunter2\"}, "
             "{\"username\": \"b\"}]\n",
             "t.conf:2:14: option ADMIN_USER: expected a JSON object or list of objects with "
             "string members username and password; item 2 is not");
  load_fails("[im]\nADMIN_USER = \"hunter2\"\n",
             "t.conf:2:14: option ADMIN_USER: expected a JSON object or list of objects with "
             "string members username and password");
}

static void test_config_string_checks_their_values(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[im]\nLOG_LEVEL = warning\nDEFAULT_VM_MEMORY_UNIT = gb\n"
                        "DEFAULT_VM_CPU_ARCH = X86_64\nREST_ADDRESS = im.example.org\n",
                        &e),
                   0);
  assert_int_equal(imc_config_log_level(&c), IMC_LOG_WARN);
  imc_config_cleanup(&c);
  load_fails("[im]\nLOG_LEVEL = verbose\n",
             "t.conf:2:13: option LOG_LEVEL: expected a log level (DEBUG, INFO, WARN, WARNING, "
             "ERROR, FATAL or CRITICAL), got 'verbose'");
  load_fails("[im]\nDEFAULT_VM_MEMORY_UNIT = parsecs\n",
             "t.conf:2:26: option DEFAULT_VM_MEMORY_UNIT: expected a memory unit (B, K, M, G, T, "
             "Ki, Mi, Gi, Ti), got 'parsecs'");
  load_fails("[im]\nDEFAULT_VM_CPU_ARCH = arm64\n",
             "t.conf:2:23: option DEFAULT_VM_CPU_ARCH: expected x86_64 or i386, got 'arm64'");
  load_fails("[im]\nREST_ADDRESS = 0.0.0.0:8800\n",
             "t.conf:2:16: option REST_ADDRESS: expected an IP address or a host name, got "
             "'0.0.0.0:8800'");
}

static void test_config_log_level_maps_ims_names(void **state)
{
  static const struct {
    const char *name;
    enum imc_log_level level;
  } cases[] = {{"DEBUG", IMC_LOG_DEBUG}, {"info", IMC_LOG_INFO},   {"WARN", IMC_LOG_WARN},
               {"ERROR", IMC_LOG_ERROR}, {"FATAL", IMC_LOG_ERROR}, {"critical", IMC_LOG_ERROR}};
  struct imc_config c;
  struct imc_err e;
  char text[64];

  (void)state;
  init(&c);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text, "[im]\nLOG_LEVEL = %s\n", cases[i].name);
    assert_int_equal(load(&c, text, &e), 0);
    assert_int_equal(imc_config_log_level(&c), cases[i].level);
  }
  imc_config_cleanup(&c);
}

static void test_config_columns_count_code_points(void **state)
{
  (void)state;
  load_fails("[im]\nCORS_ORIGIN = \u00e9\u00e8\xC3\x28\n", "t.conf:2:17: not valid UTF-8 text");
}

static void test_config_error_values_are_cut_and_cleaned(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = a\tbcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got "
             "'a?bcdefghijklmnopqrstuvwxyzabcdefghijklm...'");
}

/* --- syntax errors -------------------------------------------------------------------- */

static void test_config_load_rejects_an_option_before_any_section(void **state)
{
  (void)state;
  load_fails("# hello\n\nREST_PORT = 1\n[im]\n",
             "t.conf:3:1: expected a [section] header before the first option");
}

static void test_config_load_rejects_a_line_without_separator(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT 8800\n",
             "t.conf:2:1: expected 'name = value', 'name: value' or a [section] header");
  load_fails("[im]\n[]\n",
             "t.conf:2:1: expected 'name = value', 'name: value' or a [section] header");
}

static void test_config_load_rejects_an_empty_name(void **state)
{
  (void)state;
  load_fails("[im]\n  = 8800\n", "t.conf:2:3: an option name must come before '='");
  load_fails("[im]\n: 8800\n", "t.conf:2:1: an option name must come before ':'");
}

static void test_config_load_rejects_a_duplicate_option(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = 1\nXMLRCP_PORT = 3\nrest_port = 2\n",
             "t.conf:4:1: option 'rest_port' appears twice in [im] (first at line 2)");
  /* ConfigParser checks every section, not only [im]. */
  load_fails("[other]\na = 1\n  b\nA = 2\n[im]\n",
             "t.conf:4:1: option 'A' appears twice in [other] (first at line 2)");
}

static void test_config_load_rejects_a_duplicate_section(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = 1\n[other]\n[im]\nXMLRCP_PORT = 2\n",
             "t.conf:4:1: section [im] appears twice (first at line 1)");
}

static void test_config_load_rejects_nul_and_bad_utf8(void **state)
{
  static const char nul[] = "[im]\nA = b\0c\n";
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load(&c, "t.conf", nul, sizeof nul - 1, &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "t.conf:2:6: a NUL byte");
  assert_int_equal(load(&c, "[im]\nCORS_ORIGIN = \xC3\x28\n", &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "t.conf:2:15: not valid UTF-8 text");
  assert_int_equal(load(&c, "[im]\r\nCORS_ORIGIN = \xED\xA0\x80\n", &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "t.conf:2:15: not valid UTF-8 text");
  imc_config_cleanup(&c);
}

static void test_config_load_rejects_too_much_text(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_load(&c, "t.conf", "", IMC_MAX_CONFIG + 1, &e), IMC_E_TOOBIG);
  assert_string_equal(e.msg, "t.conf: larger than the limit of 1048576 bytes");
  imc_config_cleanup(&c);
}

static void test_config_failed_load_changes_nothing(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nREST_PORT = 1\nCORS_ORIGIN = x\nNOPE = 1\n", &e), 0);
  assert_int_equal(c.warnings.n, 1);
  assert_int_equal(load(&c,
                        "[im]\nREST_PORT = 2\nCORS_ORIGIN = y\nALSO_NOPE = 1\n"
                        "XMLRCP_PORT = bad\n",
                        &e),
                   IMC_E_INVAL);
  assert_int_equal(c.rest_port, 1);
  assert_string_equal(c.cors_origin, "x");
  assert_int_equal(c.xmlrcp_port, 8899);
  assert_int_equal(c.warnings.n, 1);
  imc_config_cleanup(&c);
}

/* --- warnings ------------------------------------------------------------------------- */

static void test_config_unknown_options_are_collected_and_logged(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nREST_PORT = 1\nFOO = 1\nzzz: 2\n", &e), 0);
  assert_int_equal(c.warnings.n, 2);
  assert_string_equal(c.warnings.items[0], "t.conf:3:1: unknown option 'FOO' in [im]; ignored");
  assert_string_equal(c.warnings.items[1], "t.conf:4:1: unknown option 'zzz' in [im]; ignored");
  assert_non_null(
    strstr(imc_buf_cstr(&logged), "1 t.conf:3:1: unknown option 'FOO' in [im]; ignored\n"));
  imc_config_cleanup(&c);
}

static void test_config_continued_value_is_one_value(void **state)
{
  (void)state;
  load_fails("[im]\nREST_PORT = 1\n  FOO = 1\n",
             "t.conf:2:13: option REST_PORT: expected an integer from 1 to 65535, got '1?FOO = "
             "1'");
}

static void test_config_unknown_options_get_suggestions(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[im]\nXMLRPC_PORT = 1\nVERIFY_SSL = yes\n"
                        "wait_ssh_access_timeout = 3\n",
                        &e),
                   0);
  assert_int_equal(c.warnings.n, 3);
  assert_string_equal(c.warnings.items[0], "t.conf:2:1: unknown option 'XMLRPC_PORT' in [im]; "
                                           "ignored (did you mean XMLRCP_PORT?)");
  assert_string_equal(c.warnings.items[1], "t.conf:3:1: unknown option 'VERIFY_SSL' in [im]; "
                                           "ignored (did you mean VERIFI_SSL?)");
  assert_string_equal(c.warnings.items[2], "t.conf:4:1: unknown option "
                                           "'wait_ssh_access_timeout' in [im]; ignored (did you "
                                           "mean WAIT_SSH_ACCCESS_TIMEOUT?)");
  assert_int_equal(c.xmlrcp_port, 8899);
  imc_config_cleanup(&c);
}

static void test_config_ims_unsupported_options_are_named(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nUSER_DB = /etc/im/users.json\nOIDC_ISSUERS =\n", &e), 0);
  /* An empty one asks for nothing: IM's own sample has `USER_DB =`. */
  assert_int_equal(c.warnings.n, 1);
  assert_string_equal(c.warnings.items[0],
                      "t.conf:2:1: IM option USER_DB is not supported by imc; ignored");
  imc_config_cleanup(&c);
}

static void test_config_warnings_are_capped(void **state)
{
  struct imc_config c;
  struct imc_err e;
  struct imc_buf t;

  (void)state;
  imc_buf_init(&t, 1 << 20);
  imc_buf_adds(&t, "[im]\n");
  for (int i = 0; i < IMC_CONFIG_MAX_WARNINGS + 10; i++)
    imc_buf_addf(&t, "unknown_%d = 1\n", i);
  init(&c);
  assert_int_equal(load(&c, imc_buf_cstr(&t), &e), 0);
  assert_int_equal(c.warnings.n, IMC_CONFIG_MAX_WARNINGS);
  assert_int_equal(c.warnings_dropped, 10);
  assert_non_null(strstr(imc_buf_cstr(&logged), "10 more configuration warnings not shown"));
  imc_config_cleanup(&c);
  imc_buf_free(&t);
}

/* --- the environment ------------------------------------------------------------------ */

static void test_config_env_overrides_the_file(void **state)
{
  char *env[] = {"PATH=/bin",
                 "IMC_REST_PORT=9000",
                 "IMC_ENABLE_CORS= yes ",
                 "IMC_PRIVATE_NET_MASKS=10.0.0.0/8,fd00::/8",
                 "IMC_LOG_LEVEL=debug",
                 NULL};
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nREST_PORT = 1\nXMLRCP_PORT = 2\n", &e), 0);
  assert_int_equal(imc_config_env(&c, env, &e), 0);
  assert_int_equal(c.rest_port, 9000);
  assert_int_equal(c.xmlrcp_port, 2);
  assert_true(c.enable_cors);
  assert_int_equal(c.private_net_masks.n, 2);
  assert_string_equal(c.log_level, "debug");
  imc_config_cleanup(&c);
}

static void test_config_env_error_names_the_variable(void **state)
{
  char *env[] = {"IMC_XMLRCP_PORT=0", NULL};
  char *secret[] = {"IMC_ADMIN_USER=[{\"username\": \"a\", \"password\": \"hunter2\"}", NULL};
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_env(&c, env, &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "environment variable IMC_XMLRCP_PORT: expected an integer from 1 "
                             "to 65535, got '0'");
  imc_err_clear(&e);
  assert_int_equal(imc_config_env(&c, secret, &e), IMC_E_INVAL);
  assert_null(strstr(e.msg, "hunter2"));
  assert_int_equal(c.xmlrcp_port, 8899);
  imc_config_cleanup(&c);
}

static void test_config_env_names_keep_their_case(void **state)
{
  char *env[] = {"IMC_rest_port=9000",
                 "imc_REST_PORT=9001",
                 "IMC_XMLRPC_PORT=1",
                 "IMC_URL=http://x",
                 "IMC_=1",
                 "IMC_REST_PORT",
                 NULL};
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_env(&c, env, &e), 0);
  assert_int_equal(c.rest_port, 8800);
  assert_int_equal(c.xmlrcp_port, 8899);
  assert_int_equal(c.warnings.n, 2);
  assert_string_equal(c.warnings.items[0], "environment variable IMC_rest_port is not an option; "
                                           "ignored (did you mean IMC_REST_PORT?)");
  assert_string_equal(c.warnings.items[1], "environment variable IMC_XMLRPC_PORT is not an "
                                           "option; ignored (did you mean IMC_XMLRCP_PORT?)");
  imc_config_cleanup(&c);
}

static void test_config_env_reads_ims_data_db_below_imcs(void **state)
{
  char *im_only[] = {"IM_DATA_DB=/a.db", NULL};
  char *both[] = {"IM_DATA_DB=/a.db", "IMC_DATA_DB=/b.db", "IM_DATA_DB=/c.db", NULL};
  char *twice[] = {"IMC_DATA_DB=/d.db", "IMC_DATA_DB=/e.db", NULL};
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_env(&c, im_only, &e), 0);
  assert_string_equal(c.data_db, "/a.db");
  assert_int_equal(imc_config_env(&c, both, &e), 0);
  assert_string_equal(c.data_db, "/b.db");
  assert_int_equal(imc_config_env(&c, twice, &e), 0);
  assert_string_equal(c.data_db, "/d.db");
  assert_int_equal(imc_config_env(&c, NULL, &e), 0);
  assert_string_equal(c.data_db, "/d.db");
  imc_config_cleanup(&c);
}

static void test_config_env_values_are_not_interpolated(void **state)
{
  char *env[] = {"IMC_CORS_ORIGIN=100%", NULL};
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  imc_err_clear(&e);
  assert_int_equal(imc_config_env(&c, env, &e), 0);
  assert_string_equal(c.cors_origin, "100%");
  imc_config_cleanup(&c);
}

/* --- checks across options ------------------------------------------------------------ */

static void test_config_check_wants_grace_above_frequency(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c,
                        "[im]\nVM_INFO_UPDATE_FREQUENCY = 60\n"
                        "VM_INFO_UPDATE_ERROR_GRACE_PERIOD = 60\n",
                        &e),
                   0);
  assert_int_equal(imc_config_check(&c, &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "VM_INFO_UPDATE_ERROR_GRACE_PERIOD (60) must be greater than "
                             "VM_INFO_UPDATE_FREQUENCY (60)");
  imc_config_cleanup(&c);
}

static void test_config_check_wants_tls_files(void **state)
{
  struct imc_config c;
  struct imc_err e;

  (void)state;
  init(&c);
  assert_int_equal(load(&c, "[im]\nREST_SSL = yes\nREST_SSL_CERTFILE =\n", &e), 0);
  assert_int_equal(imc_config_check(&c, &e), IMC_E_INVAL);
  assert_string_equal(e.msg, "REST_SSL is on but REST_SSL_KEYFILE or REST_SSL_CERTFILE is empty");
  imc_config_cleanup(&c);
}

/* --- documentation -------------------------------------------------------------------- */

static void test_config_doc_matches_the_committed_file(void **state)
{
  struct imc_buf want, have;
  struct imc_err e;
  char cwd[512];
  FILE *f;

  (void)state;
  imc_buf_init(&want, 1 << 20);
  imc_buf_init(&have, 1 << 20);
  imc_err_clear(&e);
  assert_int_equal(imc_config_write_doc(&want, &e), 0);
  if (imc_read_file(DOC_PATH, &have, &e) != 0 || want.len != have.len ||
      memcmp(want.data, have.data, want.len) != 0) {
    /* Leave the expected text where a developer can copy it from. */
    f = fopen("configuration.md.expected", "w");
    if (f) {
      fwrite(want.data, 1, want.len, f);
      fclose(f);
    }
    fail_msg("doc/configuration.md is out of date: copy %s/configuration.md.expected over it",
             getcwd(cwd, sizeof cwd) ? cwd : ".");
  }
  imc_buf_free(&want);
  imc_buf_free(&have);
}

static void test_config_doc_lists_every_option(void **state)
{
#define OPTION_NAME(NAME, ...) "| `" #NAME "`",
  static const char *const names[] = {IMC_CONFIG_OPTIONS(OPTION_NAME)};
#undef OPTION_NAME
  struct imc_buf doc;
  struct imc_err e;

  (void)state;
  imc_buf_init(&doc, 1 << 20);
  imc_err_clear(&e);
  assert_int_equal(imc_config_write_doc(&doc, &e), 0);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    assert_non_null(strstr(imc_buf_cstr(&doc), names[i]));
  assert_non_null(strstr(imc_buf_cstr(&doc), "| `XMLRCP_ADDRESS` | string | `127.0.0.1` (*IM:* "
                                             "`0.0.0.0`) |"));
  assert_non_null(strstr(imc_buf_cstr(&doc), "| `WORKERS` *imc* | integer, 1 to 1024 | `8` |"));
  imc_buf_free(&doc);
}

static void test_config_doc_reports_a_full_buffer(void **state)
{
  struct imc_buf doc;
  struct imc_err e;

  (void)state;
  imc_buf_init(&doc, 100);
  imc_err_clear(&e);
  assert_int_equal(imc_config_write_doc(&doc, &e), IMC_E_TOOBIG);
  imc_buf_free(&doc);
}

/* --- allocation failures -------------------------------------------------------------- */

static const char torture_text[] =
  "[DEFAULT]\nbase = /srv\n[im]\nDATA_DB = %(base)s/x.db\nREST_PORT = 81\nNOPE = 1\n"
  "PRIVATE_NET_MASKS = 10.0.0.0/8, 192.168.0.0/16\n"
  "ADMIN_USER = [{\"username\": \"a\", \"password\": \"b\"},\n  {\"username\": \"c\", "
  "\"password\": \"d\"}]\n"
  "DEFAULT_VM_NAME = a\n\n  b\n[other]\nx = 1\n";

static void test_config_allocation_failures_are_clean(void **state)
{
  char *env[] = {"IMC_XMLRCP_PORT=82", "IMC_XMLRPC_PORT=1", "IMC_LOG_FILE=/l", NULL};
  int r;

  (void)state;
  for (unsigned long n = 1;; n++) {
    struct imc_config c;
    struct imc_err e;

    imc_err_clear(&e);
    imc_alloc_fail_at(n);
    r = imc_config_init(&c, &e);
    if (r == 0)
      r = imc_config_load(&c, "t.conf", torture_text, sizeof torture_text - 1, &e);
    if (r == 0)
      r = imc_config_env(&c, env, &e);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_string_equal(c.data_db, "/srv/x.db");
      assert_int_equal(c.xmlrcp_port, 82);
      assert_int_equal(c.warnings.n, 3) /* base, NOPE, IMC_XMLRPC_PORT */;
    }
    imc_config_cleanup(&c);
    if (r == 0)
      break;
    assert_int_equal(r, IMC_E_NOMEM);
    assert_int_equal(e.code, IMC_E_NOMEM);
  }
}

static void test_config_doc_allocation_failures_are_clean(void **state)
{
  (void)state;
  for (unsigned long n = 1;; n++) {
    struct imc_buf doc;
    struct imc_err e;
    int r;

    imc_buf_init(&doc, 1 << 20);
    imc_err_clear(&e);
    imc_alloc_fail_at(n);
    r = imc_config_write_doc(&doc, &e);
    imc_alloc_fail_at(0);
    imc_buf_free(&doc);
    if (r == 0)
      break;
    assert_int_equal(r, IMC_E_NOMEM);
  }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T(test_config_init_sets_ims_defaults),
    T(test_config_init_uses_imcs_own_defaults_where_decided),
    T(test_config_defaults_pass_the_checks),
    T(test_config_file_sets_every_option),
    T(test_config_file_follows_configparser),
    T(test_config_file_error_names_the_file),
    T(test_config_file_missing_is_an_error),
    T(test_config_optional_file_may_be_missing),
    T(test_config_load_accepts_both_separators),
    T(test_config_load_names_ignore_case),
    T(test_config_load_section_names_keep_case),
    T(test_config_load_skips_comment_lines),
    T(test_config_load_keeps_a_hash_after_a_value),
    T(test_config_load_ignores_other_sections),
    T(test_config_load_default_section_applies_below_im),
    T(test_config_load_without_im_ignores_default),
    T(test_config_load_joins_continuation_lines),
    T(test_config_load_continuation_needs_deeper_indent),
    T(test_config_load_reads_crlf_and_cr_lines),
    T(test_config_load_skips_a_byte_order_mark),
    T(test_config_load_section_header_ends_at_last_bracket),
    T(test_config_load_interpolates_references),
    T(test_config_load_rejects_a_lone_percent),
    T(test_config_load_rejects_a_bad_reference),
    T(test_config_load_rejects_a_reference_to_nothing),
    T(test_config_load_rejects_a_reference_loop),
    T(test_config_load_bounds_references_that_fan_out),
    T(test_config_load_bounds_references_to_empty_values),
    T(test_config_bool_accepts_configparser_words),
    T(test_config_bool_rejects_other_words),
    T(test_config_int_reads_python_integers),
    T(test_config_int_rejects_non_integers),
    T(test_config_int_rejects_out_of_range),
    T(test_config_list_splits_and_strips_items),
    T(test_config_list_errors_point_at_the_item),
    T(test_config_users_accepts_an_object_or_a_list),
    T(test_config_users_errors_never_show_the_value),
    T(test_config_string_checks_their_values),
    T(test_config_log_level_maps_ims_names),
    T(test_config_columns_count_code_points),
    T(test_config_error_values_are_cut_and_cleaned),
    T(test_config_load_rejects_an_option_before_any_section),
    T(test_config_load_rejects_a_line_without_separator),
    T(test_config_load_rejects_an_empty_name),
    T(test_config_load_rejects_a_duplicate_option),
    T(test_config_load_rejects_a_duplicate_section),
    T(test_config_load_rejects_nul_and_bad_utf8),
    T(test_config_load_rejects_too_much_text),
    T(test_config_failed_load_changes_nothing),
    T(test_config_unknown_options_are_collected_and_logged),
    T(test_config_continued_value_is_one_value),
    T(test_config_unknown_options_get_suggestions),
    T(test_config_ims_unsupported_options_are_named),
    T(test_config_warnings_are_capped),
    T(test_config_env_overrides_the_file),
    T(test_config_env_error_names_the_variable),
    T(test_config_env_names_keep_their_case),
    T(test_config_env_reads_ims_data_db_below_imcs),
    T(test_config_env_values_are_not_interpolated),
    T(test_config_check_wants_grace_above_frequency),
    T(test_config_check_wants_tls_files),
    T(test_config_doc_matches_the_committed_file),
    T(test_config_doc_lists_every_option),
    T(test_config_doc_reports_a_full_buffer),
    T(test_config_allocation_failures_are_clean),
    T(test_config_doc_allocation_failures_are_clean),
  };
#undef T

  return cmocka_run_group_tests(tests, NULL, NULL);
}
