/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/rest_route.c: IM's Flask rules as one table, matched first-wins, with HEAD for GET,
 * 405 and its Allow header, and 404 for everything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rest_int.h"

/* One match: the path is copied (the matcher splits it in place) and kept for the params. */
struct match {
  char path[256];
  const struct rest_route *route;
  const char *params[REST_MAX_PARAMS];
  char allow[64];
  int status;
};

static void run(struct match *m, const char *method, const char *path)
{
  memset(m, 0, sizeof *m);
  assert_true(strlen(path) < sizeof m->path);
  memcpy(m->path, path, strlen(path) + 1);
  m->status = rest_route_match(method, m->path, &m->route, m->params, m->allow, sizeof m->allow);
}

/* A request and what it must reach: the route and its {Name} values (NULL past the last). */
struct expect {
  const char *method, *path;
  enum rest_route_id id;
  const char *p[3];
};

static const struct expect every_route[] = {
  {"GET", "/", REST_R_INDEX, {NULL}},
  {"GET", "/openapi.json", REST_R_OPENAPI, {NULL}},
  {"GET", "/version", REST_R_VERSION, {NULL}},
  {"GET", "/metrics", REST_R_METRICS, {NULL}},
  {"GET", "/stats", REST_R_STATS, {NULL}},
  {"GET", "/clouds/one/images", REST_R_CLOUD_IMAGES, {"one"}},
  {"GET", "/clouds/one/quotas", REST_R_CLOUD_QUOTAS, {"one"}},
  {"GET", "/clouds/one/flavors", REST_R_CLOUD_OTHER, {"one", "flavors"}},
  {"GET", "/infrastructures", REST_R_INF_LIST, {NULL}},
  {"POST", "/infrastructures", REST_R_INF_CREATE, {NULL}},
  {"PUT", "/infrastructures", REST_R_INF_IMPORT, {NULL}},
  {"GET", "/infrastructures/inf-1", REST_R_INF_INFO, {"inf-1"}},
  {"POST", "/infrastructures/inf-1", REST_R_INF_ADD, {"inf-1"}},
  {"DELETE", "/infrastructures/inf-1", REST_R_INF_DESTROY, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/contmsg", REST_R_INF_CONTMSG, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/radl", REST_R_INF_RADL, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/state", REST_R_INF_STATE, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/outputs", REST_R_INF_OUTPUTS, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/tosca", REST_R_INF_TOSCA, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/data", REST_R_INF_DATA, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/authorization", REST_R_INF_OWNERS, {"inf-1"}},
  {"POST", "/infrastructures/inf-1/authorization", REST_R_INF_CHAUTH, {"inf-1"}},
  {"GET", "/infrastructures/inf-1/nothing", REST_R_INF_PROP_OTHER, {"inf-1", "nothing"}},
  {"PUT", "/infrastructures/inf-1/reconfigure", REST_R_INF_RECONFIGURE, {"inf-1"}},
  {"PUT", "/infrastructures/inf-1/start", REST_R_INF_START, {"inf-1"}},
  {"PUT", "/infrastructures/inf-1/stop", REST_R_INF_STOP, {"inf-1"}},
  {"PUT", "/infrastructures/inf-1/reboot", REST_R_INF_REBOOT, {"inf-1"}},
  {"PUT", "/infrastructures/inf-1/pause", REST_R_INF_OP_OTHER, {"inf-1", "pause"}},
  {"GET", "/infrastructures/inf-1/vms/3", REST_R_VM_INFO, {"inf-1", "3"}},
  {"PUT", "/infrastructures/inf-1/vms/3", REST_R_VM_ALTER, {"inf-1", "3"}},
  {"DELETE", "/infrastructures/inf-1/vms/3", REST_R_VM_REMOVE, {"inf-1", "3"}},
  {"GET", "/infrastructures/inf-1/vms/3/contmsg", REST_R_VM_CONTMSG, {"inf-1", "3"}},
  {"GET", "/infrastructures/inf-1/vms/3/command", REST_R_VM_COMMAND, {"inf-1", "3"}},
  {"GET",
   "/infrastructures/inf-1/vms/3/net_interface.0.ip",
   REST_R_VM_PROP,
   {"inf-1", "3", "net_interface.0.ip"}},
  {"PUT", "/infrastructures/inf-1/vms/3/start", REST_R_VM_START, {"inf-1", "3"}},
  {"PUT", "/infrastructures/inf-1/vms/3/stop", REST_R_VM_STOP, {"inf-1", "3"}},
  {"PUT", "/infrastructures/inf-1/vms/3/reboot", REST_R_VM_REBOOT, {"inf-1", "3"}},
  {"PUT", "/infrastructures/inf-1/vms/3/resize", REST_R_VM_OP_OTHER, {"inf-1", "3", "resize"}},
  {"PUT", "/infrastructures/inf-1/vms/3/disks/0/snapshot", REST_R_VM_SNAPSHOT, {"inf-1", "3", "0"}},
};

#define N_EVERY (sizeof every_route / sizeof every_route[0])

static void test_route_table_example_for_every_route(void **state)
{
  for (size_t id = 0; id < REST_NROUTES; id++) {
    bool seen = false;

    for (size_t i = 0; i < N_EVERY; i++)
      seen = seen || every_route[i].id == (enum rest_route_id)id;
    if (!seen)
      fail_msg("no example for route %s %s", rest_routes[id].method, rest_routes[id].pattern);
  }
}

static void test_route_every_route_matches_with_params(void **state)
{
  struct match m;

  for (size_t i = 0; i < N_EVERY; i++) {
    const struct expect *e = &every_route[i];

    run(&m, e->method, e->path);
    if (m.status != 0 || !m.route || m.route->id != e->id)
      fail_msg("%s %s: status %d, route %s", e->method, e->path, m.status,
               m.route ? m.route->pattern : "(none)");
    assert_string_equal(m.route->method, e->method);
    for (size_t k = 0; k < 3; k++) {
      if (e->p[k])
        assert_string_equal(m.params[k], e->p[k]);
      else
        assert_null(m.params[k]);
    }
    assert_null(m.params[3]);
  }
}

static void test_route_table_ids_match_positions(void **state)
{
  for (size_t i = 0; i < REST_NROUTES; i++) {
    assert_int_equal(rest_routes[i].id, i);
    assert_int_equal(rest_routes[i].pattern[0], '/');
  }
}

static void test_route_literal_state_beats_prop_param(void **state)
{
  struct match m;

  run(&m, "GET", "/infrastructures/X/state");
  assert_int_equal(m.status, 0);
  assert_int_equal(m.route->id, REST_R_INF_STATE);
  assert_string_equal(m.params[0], "X");
  assert_null(m.params[1]);
}

static void test_route_literal_vm_start_beats_op_param(void **state)
{
  struct match m;

  run(&m, "PUT", "/infrastructures/X/vms/0/start");
  assert_int_equal(m.status, 0);
  assert_int_equal(m.route->id, REST_R_VM_START);
}

static void test_route_literal_vm_command_beats_property_param(void **state)
{
  struct match m;

  run(&m, "GET", "/infrastructures/X/vms/0/command");
  assert_int_equal(m.route->id, REST_R_VM_COMMAND);
  assert_null(m.params[2]);
}

static void test_route_literal_cloud_images_beats_param(void **state)
{
  struct match m;

  run(&m, "GET", "/clouds/c/images");
  assert_int_equal(m.route->id, REST_R_CLOUD_IMAGES);
  assert_null(m.params[1]);
}

static void test_route_head_matches_get(void **state)
{
  struct match m;

  run(&m, "HEAD", "/version");
  assert_int_equal(m.status, 0);
  assert_int_equal(m.route->id, REST_R_VERSION);
  run(&m, "HEAD", "/infrastructures/abc/vms/7");
  assert_int_equal(m.status, 0);
  assert_int_equal(m.route->id, REST_R_VM_INFO);
  assert_string_equal(m.params[1], "7");
}

static void test_route_head_on_put_only_path_is_405(void **state)
{
  struct match m;

  run(&m, "HEAD", "/infrastructures/X/vms/1/disks/0/snapshot");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow, "OPTIONS, PUT");
}

static void test_route_wrong_method_on_infra_is_405_with_allow(void **state)
{
  struct match m;

  run(&m, "PUT", "/infrastructures/X");
  assert_int_equal(m.status, 405);
  assert_null(m.route);
  assert_string_equal(m.allow, "DELETE, GET, HEAD, OPTIONS, POST");
}

static void test_route_wrong_method_on_list_is_405_with_allow(void **state)
{
  struct match m;

  run(&m, "DELETE", "/infrastructures");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow, "GET, HEAD, OPTIONS, POST, PUT");
}

static void test_route_post_on_version_is_405_get_only(void **state)
{
  struct match m;

  run(&m, "POST", "/version");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow, "GET, HEAD, OPTIONS");
}

static void test_route_405_allow_joins_literal_and_param_routes(void **state)
{
  struct match m;

  /* state (GET), {Prop} (GET) and {Op} (PUT) all match the path. */
  run(&m, "POST", "/infrastructures/X/state");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow, "GET, HEAD, OPTIONS, PUT");
  run(&m, "DELETE", "/infrastructures/X/authorization");
  assert_string_equal(m.allow, "GET, HEAD, OPTIONS, POST, PUT");
}

static void test_route_unknown_method_is_405(void **state)
{
  struct match m;

  run(&m, "PATCH", "/infrastructures/X/vms/2");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow, "DELETE, GET, HEAD, OPTIONS, PUT");
}

static void test_route_unknown_path_is_404(void **state)
{
  struct match m;

  run(&m, "GET", "/nothing");
  assert_int_equal(m.status, 404);
  assert_null(m.route);
  assert_string_equal(m.allow, "");
  run(&m, "GET", "/clouds");
  assert_int_equal(m.status, 404);
  run(&m, "GET", "/infrastructures/X/vms/1/disks/0");
  assert_int_equal(m.status, 404);
}

static void test_route_literal_is_case_sensitive_404(void **state)
{
  struct match m;

  run(&m, "GET", "/Version");
  assert_int_equal(m.status, 404);
  run(&m, "GET", "/versions");
  assert_int_equal(m.status, 404);
}

static void test_route_path_without_slash_is_404(void **state)
{
  struct match m;

  run(&m, "GET", "version");
  assert_int_equal(m.status, 404);
  run(&m, "GET", "");
  assert_int_equal(m.status, 404);
  assert_null(m.route);
}

static void test_route_too_many_segments_is_404(void **state)
{
  struct match m;

  /* 9 segments: more than the splitter keeps. */
  run(&m, "PUT", "/infrastructures/X/vms/1/disks/0/snapshot/a/b");
  assert_int_equal(m.status, 404);
  /* 8 segments: kept, but no pattern has 8. */
  run(&m, "PUT", "/infrastructures/X/vms/1/disks/0/snapshot/a");
  assert_int_equal(m.status, 404);
}

static void test_route_empty_segments_are_404(void **state)
{
  static const char *const paths[] = {
    "/infrastructures/", "//",  "/infrastructures//state", "/version/", "/infrastructures/X/vms//",
    "/clouds//images",   "///",
  };
  struct match m;

  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    run(&m, "GET", paths[i]);
    if (m.status != 404)
      fail_msg("%s: status %d", paths[i], m.status);
    assert_null(m.route);
  }
}

static void test_route_failure_leaves_params_alone(void **state)
{
  char path[] = "/nothing/here";
  const struct rest_route *r = &rest_routes[0];
  const char *params[REST_MAX_PARAMS] = {"a", "b", "c", "d"};
  char allow[8];

  assert_int_equal(rest_route_match("GET", path, &r, params, allow, sizeof allow), 404);
  assert_null(r);
  assert_string_equal(params[0], "a");
  assert_string_equal(params[3], "d");
}

static void test_route_params_point_into_path(void **state)
{
  char path[] = "/infrastructures/abc/vms/12";
  const struct rest_route *r = NULL;
  const char *params[REST_MAX_PARAMS];

  assert_int_equal(rest_route_match("GET", path, &r, params, NULL, 0), 0);
  assert_ptr_equal(params[0], path + strlen("/infrastructures/"));
  assert_ptr_equal(params[1], path + strlen("/infrastructures/abc/vms/"));
}

static void test_route_allow_small_buffer_drops_whole_methods(void **state)
{
  char path[] = "/infrastructures/X";
  const struct rest_route *r;
  const char *params[REST_MAX_PARAMS];
  char allow[sizeof "DELETE, GET" - 1]; /* one byte short of the first two */

  memset(allow, 'x', sizeof allow);
  assert_int_equal(rest_route_match("PUT", path, &r, params, allow, sizeof allow), 405);
  assert_non_null(memchr(allow, '\0', sizeof allow));
  assert_string_equal(allow, "DELETE");
}

static void test_route_allow_exact_fit_is_complete(void **state)
{
  char path[] = "/infrastructures/X", allow[sizeof "DELETE, GET, HEAD, OPTIONS, POST"];
  const struct rest_route *r;
  const char *params[REST_MAX_PARAMS];

  assert_int_equal(rest_route_match("PUT", path, &r, params, allow, sizeof allow), 405);
  assert_string_equal(allow, "DELETE, GET, HEAD, OPTIONS, POST");
}

static void test_route_allow_one_short_stops_at_a_comma(void **state)
{
  char path[] = "/infrastructures/X", allow[sizeof "DELETE, GET, HEAD, OPTIONS, POST" - 1];
  const struct rest_route *r;
  const char *params[REST_MAX_PARAMS];

  assert_int_equal(rest_route_match("PUT", path, &r, params, allow, sizeof allow), 405);
  assert_string_equal(allow, "DELETE, GET, HEAD, OPTIONS");
}

static void test_route_allow_size_one_is_empty_string(void **state)
{
  char path[] = "/version", allow[1] = {'x'};
  const struct rest_route *r;
  const char *params[REST_MAX_PARAMS];

  assert_int_equal(rest_route_match("DELETE", path, &r, params, allow, sizeof allow), 405);
  assert_int_equal(allow[0], '\0');
}

static void test_route_allow_size_zero_is_not_written(void **state)
{
  char path[] = "/version", allow[4] = {'x', 'y', 'z', 'w'};
  const struct rest_route *r;
  const char *params[REST_MAX_PARAMS];

  assert_int_equal(rest_route_match("DELETE", path, &r, params, allow, 0), 405);
  assert_memory_equal(allow, "xyzw", 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_route_table_example_for_every_route),
    cmocka_unit_test(test_route_every_route_matches_with_params),
    cmocka_unit_test(test_route_table_ids_match_positions),
    cmocka_unit_test(test_route_literal_state_beats_prop_param),
    cmocka_unit_test(test_route_literal_vm_start_beats_op_param),
    cmocka_unit_test(test_route_literal_vm_command_beats_property_param),
    cmocka_unit_test(test_route_literal_cloud_images_beats_param),
    cmocka_unit_test(test_route_head_matches_get),
    cmocka_unit_test(test_route_head_on_put_only_path_is_405),
    cmocka_unit_test(test_route_wrong_method_on_infra_is_405_with_allow),
    cmocka_unit_test(test_route_wrong_method_on_list_is_405_with_allow),
    cmocka_unit_test(test_route_post_on_version_is_405_get_only),
    cmocka_unit_test(test_route_405_allow_joins_literal_and_param_routes),
    cmocka_unit_test(test_route_unknown_method_is_405),
    cmocka_unit_test(test_route_unknown_path_is_404),
    cmocka_unit_test(test_route_literal_is_case_sensitive_404),
    cmocka_unit_test(test_route_path_without_slash_is_404),
    cmocka_unit_test(test_route_too_many_segments_is_404),
    cmocka_unit_test(test_route_empty_segments_are_404),
    cmocka_unit_test(test_route_failure_leaves_params_alone),
    cmocka_unit_test(test_route_params_point_into_path),
    cmocka_unit_test(test_route_allow_small_buffer_drops_whole_methods),
    cmocka_unit_test(test_route_allow_exact_fit_is_complete),
    cmocka_unit_test(test_route_allow_one_short_stops_at_a_comma),
    cmocka_unit_test(test_route_allow_size_one_is_empty_string),
    cmocka_unit_test(test_route_allow_size_zero_is_not_written),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
