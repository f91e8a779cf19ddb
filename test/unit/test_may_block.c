/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Which requests imcd sends to its blocking lane (rest_may_block in server/rest.c,
 * xmlrpc_may_block in server/xmlrpc.c): everything that may wait on a cloud, and nothing
 * answered from memory or the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imcd.h"

static void test_rest_reads_from_memory_do_not_block(void **state)
{
  static const char *const paths[] = {
    "/", "/version", "/openapi.json", "/metrics", "/stats", "/infrastructures",
    "/infrastructures/x", "/infrastructures/x/radl", "/infrastructures/x/contmsg",
    "/infrastructures/x/outputs", "/infrastructures/x/authorization",
    "/infrastructures/x/vms/0/contmsg",
  };

  (void)state;
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    assert_false(rest_may_block("GET", paths[i]));
    assert_false(rest_may_block("HEAD", paths[i]));
  }
}

static void test_rest_reads_that_ask_a_cloud_block(void **state)
{
  static const char *const paths[] = {
    "/infrastructures/x/state", "/infrastructures/x/vms/0", "/infrastructures/x/vms/0/cpu.count",
    "/clouds/c/images", "/clouds/c/quotas", "/infrastructures/x/data",
  };

  (void)state;
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
    assert_true(rest_may_block("GET", paths[i]));
}

static void test_rest_changes_block(void **state)
{
  (void)state;
  assert_true(rest_may_block("POST", "/infrastructures"));
  assert_true(rest_may_block("DELETE", "/infrastructures/x"));
  assert_true(rest_may_block("PUT", "/infrastructures/x/start"));
  assert_true(rest_may_block("PUT", "/infrastructures/x/vms/1/disks/0/snapshot"));
}

static void test_rest_unmatched_and_options_do_not_block(void **state)
{
  char long_path[2048];

  (void)state;
  memset(long_path, 'a', sizeof long_path - 1);
  long_path[0] = '/';
  long_path[sizeof long_path - 1] = '\0';
  assert_false(rest_may_block("OPTIONS", "/infrastructures"));
  assert_false(rest_may_block("GET", "/no/such/path"));
  assert_false(rest_may_block("POST", "/version")); /* 405 */
  assert_false(rest_may_block("GET", long_path));
}

static bool xr_blocks(const char *method)
{
  char body[256];

  snprintf(body, sizeof body,
           "<?xml version=\"1.0\"?><methodCall><methodName>%s</methodName><params/>"
           "</methodCall>", method);
  return xmlrpc_may_block(body, strlen(body));
}

static void test_xmlrpc_reads_from_memory_do_not_block(void **state)
{
  (void)state;
  assert_false(xr_blocks("GetVersion"));
  assert_false(xr_blocks("GetInfrastructureList"));
  assert_false(xr_blocks("GetInfrastructureInfo"));
  assert_false(xr_blocks("GetInfrastructureRADL"));
  assert_false(xr_blocks("GetInfrastructureContMsg"));
}

static void test_xmlrpc_cloud_calls_block(void **state)
{
  (void)state;
  assert_true(xr_blocks("CreateInfrastructure"));
  assert_true(xr_blocks("DestroyInfrastructure"));
  assert_true(xr_blocks("GetInfrastructureState"));
  assert_true(xr_blocks("GetVMInfo"));
  assert_true(xr_blocks("ExportInfrastructure"));
}

static void test_xmlrpc_unsure_blocks_and_non_calls_do_not(void **state)
{
  static const char not_a_call[] = "<methodCall><params/></methodCall>";
  static const char cut[] = "<methodCall><methodName>GetVersion";

  (void)state;
  assert_true(xr_blocks("NoSuchMethod"));
  assert_true(xr_blocks(" GetVersion "));
  assert_false(xmlrpc_may_block(not_a_call, strlen(not_a_call)));
  assert_false(xmlrpc_may_block(cut, strlen(cut)));
  assert_false(xmlrpc_may_block(NULL, 0));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rest_reads_from_memory_do_not_block),
    cmocka_unit_test(test_rest_reads_that_ask_a_cloud_block),
    cmocka_unit_test(test_rest_changes_block),
    cmocka_unit_test(test_rest_unmatched_and_options_do_not_block),
    cmocka_unit_test(test_xmlrpc_reads_from_memory_do_not_block),
    cmocka_unit_test(test_xmlrpc_cloud_calls_block),
    cmocka_unit_test(test_xmlrpc_unsure_blocks_and_non_calls_do_not),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
