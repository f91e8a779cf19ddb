/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/options.c: imc's global options before and after the operation, and what the
 * environment and the configuration file (im_client.cfg's keys) fill in. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

struct cli_global cli_global; /* ops.c's, which this test does not link */

void cli_out(const char *p, size_t n)
{
  fwrite(p, 1, n, stdout);
}

static char dir[64];

static int setup(void **state)
{
  snprintf(dir, sizeof dir, "/tmp/imc-test-options-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  unsetenv("IMC_AUTH_FILE");
  unsetenv("IMC_XMLRPC_URL");
  unsetenv("IMC_REST_URL");
  unsetenv("IMC_CONFIG");
  setenv("HOME", dir, 1); /* no ~/.imc/imc.cfg unless a test writes one */
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static int teardown(void **state)
{
  cli_options_free();
  return nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes a file under dir; returns its path (static storage, one at a time). */
static const char *write_file(const char *name, const char *text)
{
  static char path[256];
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void test_parse_stops_at_the_command(void **state)
{
  char *argv[] = {"imc", "-a", "auth.dat", "-q", "--json", "list", "-x", NULL};
  struct cli_global g = {0};
  enum cli_parsed what;
  int at;

  assert_int_equal(cli_options_parse(7, argv, &g, &what, &at), CLI_OK);
  assert_int_equal(what, CLI_PARSED_RUN);
  assert_int_equal(at, 5);
  assert_string_equal(g.auth_file, "auth.dat");
  assert_true(g.quiet && g.json);
  assert_false(g.force);
}

static void test_parse_reads_every_option(void **state)
{
  char *argv[] = {"imc",      "--auth_file=a", "-f", "-y", "-n",    "-s",      "front",
                  "-u",       "http://x",      "-v", "-c", "c.cfg", "--local", "--wait",
                  "--detach", "getinfo",       NULL};
  struct cli_global g = {0};
  enum cli_parsed what;
  int at;

  assert_int_equal(cli_options_parse(16, argv, &g, &what, &at), CLI_OK);
  assert_int_equal(at, 15);
  assert_string_equal(g.auth_file, "a");
  assert_true(g.force && g.yes && g.name && g.verify && g.local && g.wait && g.detach);
  assert_string_equal(g.system_name, "front");
  assert_string_equal(g.xmlrpc_url, "http://x");
  assert_string_equal(g.config, "c.cfg");
}

static void test_parse_help_and_version(void **state)
{
  char *help[] = {"imc", "--help", NULL}, *version[] = {"imc", "-V", NULL};
  struct cli_global g = {0};
  enum cli_parsed what;
  int at;

  assert_int_equal(cli_options_parse(2, help, &g, &what, &at), CLI_OK);
  assert_int_equal(what, CLI_PARSED_HELP);
  assert_int_equal(cli_options_parse(2, version, &g, &what, &at), CLI_OK);
  assert_int_equal(what, CLI_PARSED_VERSION);
}

static void test_parse_unknown_option_is_usage(void **state)
{
  char *argv[] = {"imc", "--nosuch", "list", NULL};
  char *shortopt[] = {"imc", "-z", "list", NULL};
  struct cli_global g = {0};
  enum cli_parsed what;
  int at;

  assert_int_equal(cli_options_parse(3, argv, &g, &what, &at), CLI_USAGE);
  assert_int_equal(cli_options_parse(3, shortopt, &g, &what, &at), CLI_USAGE);
}

static void test_parse_missing_value_is_usage(void **state)
{
  char *argv[] = {"imc", "list", "-a", NULL};
  struct cli_global g = {0};
  int n;

  assert_int_equal(cli_options_parse_op(2, argv + 1, &g, &n), CLI_USAGE);
}

static void test_parse_op_moves_operands_first(void **state)
{
  char *argv[] = {"getinfo", "ID", "-q", "cpu.count", "--json", "-s", "front", NULL};
  struct cli_global g = {0};
  int n;

  assert_int_equal(cli_options_parse_op(7, argv, &g, &n), CLI_OK);
  assert_int_equal(n, 2);
  assert_string_equal(argv[1], "ID");
  assert_string_equal(argv[2], "cpu.count");
  assert_true(g.quiet && g.json);
  assert_string_equal(g.system_name, "front");
}

static void test_parse_op_double_dash_keeps_dashes(void **state)
{
  char *argv[] = {"sshvm", "ID", "0", "0", "--", "ls", "-l", NULL};
  struct cli_global g = {0};
  int n;

  assert_int_equal(cli_options_parse_op(7, argv, &g, &n), CLI_OK);
  assert_int_equal(n, 5);
  assert_string_equal(argv[4], "ls");
  assert_string_equal(argv[5], "-l");
}

static void test_parse_op_help_after_operation_is_usage(void **state)
{
  char *argv[] = {"list", "--help", NULL};
  struct cli_global g = {0};
  int n;

  assert_int_equal(cli_options_parse_op(2, argv, &g, &n), CLI_USAGE);
}

static void test_defaults_from_config_file(void **state)
{
  struct cli_global g = {0};
  struct imc_err err = {0};

  g.config = write_file("c.cfg", "[im_client]\nauth_file = /x/auth.dat\n"
                                 "restapi_url = http://rest:8800\nxmlrpc_url = http://xr:8899\n");
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  assert_string_equal(g.auth_file, "/x/auth.dat");
  assert_string_equal(g.xmlrpc_url, "http://xr:8899"); /* im-client: XML-RPC wins */
  assert_null(g.rest_url);
}

static void test_defaults_from_home_imc_cfg(void **state)
{
  struct cli_global g = {0};
  struct imc_err err = {0};
  char sub[300];

  snprintf(sub, sizeof sub, "%s/.imc", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  write_file(".imc/imc.cfg", "[DEFAULT]\nrestapi_url = http://r\n[im_client]\nAUTH_FILE = a\n");
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  assert_string_equal(g.auth_file, "a"); /* names ignore case, as ConfigParser's */
  assert_string_equal(g.rest_url, "http://r");
}

static void test_defaults_command_line_server_hides_the_rest(void **state)
{
  struct cli_global g = {.rest_url = "http://cmdline"};
  struct imc_err err = {0};

  g.config = write_file("c.cfg", "[im_client]\nxmlrpc_url = http://xr\n");
  setenv("IMC_XMLRPC_URL", "http://env", 1);
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  unsetenv("IMC_XMLRPC_URL");
  assert_string_equal(g.rest_url, "http://cmdline");
  assert_null(g.xmlrpc_url);
}

static void test_defaults_environment_beats_config_file(void **state)
{
  struct cli_global g = {0};
  struct imc_err err = {0};

  g.config = write_file("c.cfg", "[im_client]\nauth_file = file\nxmlrpc_url = http://xr\n");
  setenv("IMC_AUTH_FILE", "env", 1);
  setenv("IMC_REST_URL", "http://envrest", 1);
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  unsetenv("IMC_AUTH_FILE");
  unsetenv("IMC_REST_URL");
  assert_string_equal(g.auth_file, "env");
  assert_string_equal(g.rest_url, "http://envrest");
  assert_null(g.xmlrpc_url);
}

static void test_defaults_command_line_auth_file_wins(void **state)
{
  struct cli_global g = {.auth_file = "cmd"};
  struct imc_err err = {0};

  setenv("IMC_AUTH_FILE", "env", 1);
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  unsetenv("IMC_AUTH_FILE");
  assert_string_equal(g.auth_file, "cmd");
}

static void test_defaults_missing_named_config_fails(void **state)
{
  struct cli_global g = {.config = "/nonexistent/imc.cfg"};
  struct imc_err err = {0};

  assert_int_equal(cli_options_defaults(&g, &err), IMC_E_NOTFOUND);
  assert_non_null(strstr(err.msg, "/nonexistent/imc.cfg"));
}

static void test_defaults_config_from_environment(void **state)
{
  struct cli_global g = {0};
  struct imc_err err = {0};

  setenv("IMC_CONFIG", write_file("e.cfg", "[im_client]\nauth_file = viaenv\n"), 1);
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  unsetenv("IMC_CONFIG");
  assert_string_equal(g.auth_file, "viaenv");
}

static void test_defaults_bad_config_names_line(void **state)
{
  struct cli_global g = {0};
  struct imc_err err = {0};

  g.config = write_file("bad.cfg", "[im_client]\nauth_file = a\nno separator here\n");
  assert_int_equal(cli_options_defaults(&g, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "bad.cfg:3:"));
  assert_null(g.auth_file);
}

static void test_defaults_other_sections_ignored(void **state)
{
  struct cli_global g = {0};
  struct imc_err err = {0};

  g.config = write_file("o.cfg", "[other]\nauth_file = no\n");
  assert_int_equal(cli_options_defaults(&g, &err), 0);
  assert_null(g.auth_file);
  assert_null(g.rest_url);
  assert_null(g.xmlrpc_url);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_stops_at_the_command),
    cmocka_unit_test(test_parse_reads_every_option),
    cmocka_unit_test(test_parse_help_and_version),
    cmocka_unit_test(test_parse_unknown_option_is_usage),
    cmocka_unit_test(test_parse_missing_value_is_usage),
    cmocka_unit_test(test_parse_op_moves_operands_first),
    cmocka_unit_test(test_parse_op_double_dash_keeps_dashes),
    cmocka_unit_test(test_parse_op_help_after_operation_is_usage),
    cmocka_unit_test_setup_teardown(test_defaults_from_config_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_from_home_imc_cfg, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_command_line_server_hides_the_rest, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_defaults_environment_beats_config_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_command_line_auth_file_wins, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_missing_named_config_fails, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_config_from_environment, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_bad_config_names_line, setup, teardown),
    cmocka_unit_test_setup_teardown(test_defaults_other_sections_ignored, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
