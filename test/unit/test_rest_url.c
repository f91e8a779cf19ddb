/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/rest_url.c: the REST API's root URL from X-Forwarded-*, Host, or the listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "rest_int.h"

static const char *root_of(const struct rest_forwarded *f, bool tls, const char *address,
                           long port)
{
  static char out[512];

  assert_true(rest_url_root(f, tls, address, port, out, sizeof out));
  return out;
}

static void test_url_no_headers_uses_listener(void **state)
{
  struct rest_forwarded f = {0};

  (void)state;
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "http://127.0.0.1:8800/");
  assert_string_equal(root_of(&f, true, "127.0.0.1", 8443), "https://127.0.0.1:8443/");
}

static void test_url_ipv6_listener_gets_brackets(void **state)
{
  struct rest_forwarded f = {0};

  (void)state;
  assert_string_equal(root_of(&f, false, "::1", 8800), "http://[::1]:8800/");
}

static void test_url_host_header_wins_over_listener(void **state)
{
  struct rest_forwarded f = {.host_header = "im.example.org:8800"};

  (void)state;
  assert_string_equal(root_of(&f, false, "0.0.0.0", 8800), "http://im.example.org:8800/");
}

static void test_url_forwarded_headers_win(void **state)
{
  struct rest_forwarded f = {.proto = "https",
                             .host = "api.example.org",
                             .prefix = "/im/",
                             .host_header = "127.0.0.1:8800"};

  (void)state;
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "https://api.example.org/im/");
}

static void test_url_forwarded_takes_last_value(void **state)
{
  struct rest_forwarded f = {.proto = "http, https", .host = "evil.example, proxy.example"};

  (void)state;
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "https://proxy.example/");
}

static void test_url_forwarded_port_replaces_port(void **state)
{
  struct rest_forwarded f = {.host_header = "h.example:8800", .port = "443"};
  struct rest_forwarded v6 = {.host_header = "[2001:db8::1]:8800", .port = "8443"};
  struct rest_forwarded bare = {.host_header = "[2001:db8::1]", .port = "8443"};

  (void)state;
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "http://h.example:443/");
  assert_string_equal(root_of(&v6, false, "127.0.0.1", 8800), "http://[2001:db8::1]:8443/");
  assert_string_equal(root_of(&bare, false, "127.0.0.1", 8800), "http://[2001:db8::1]:8443/");
}

static void test_url_bad_values_are_ignored(void **state)
{
  struct rest_forwarded f = {.proto = "javascript",
                             .host = "a.example/<script>",
                             .port = "80x",
                             .prefix = "no-slash",
                             .host_header = "b.example\r\nSet-Cookie: x"};

  (void)state;
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "http://127.0.0.1:8800/");
}

static void test_url_prefix_with_bad_characters_is_ignored(void **state)
{
  struct rest_forwarded f = {.host_header = "h.example", .prefix = "/a b\"c"};

  (void)state;
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "http://h.example/");
}

static void test_url_blank_and_long_values_are_ignored(void **state)
{
  char long_host[400];
  struct rest_forwarded f = {.host = " , ", .host_header = long_host};

  (void)state;
  memset(long_host, 'a', sizeof long_host - 1);
  long_host[sizeof long_host - 1] = '\0';
  assert_string_equal(root_of(&f, false, "127.0.0.1", 8800), "http://127.0.0.1:8800/");
}

static void test_url_too_small_output_fails(void **state)
{
  struct rest_forwarded f = {.host_header = "h.example"};
  char out[8];

  (void)state;
  assert_false(rest_url_root(&f, false, "127.0.0.1", 8800, out, sizeof out));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_url_no_headers_uses_listener),
    cmocka_unit_test(test_url_ipv6_listener_gets_brackets),
    cmocka_unit_test(test_url_host_header_wins_over_listener),
    cmocka_unit_test(test_url_forwarded_headers_win),
    cmocka_unit_test(test_url_forwarded_takes_last_value),
    cmocka_unit_test(test_url_forwarded_port_replaces_port),
    cmocka_unit_test(test_url_bad_values_are_ignored),
    cmocka_unit_test(test_url_prefix_with_bad_characters_is_ignored),
    cmocka_unit_test(test_url_blank_and_long_values_are_ignored),
    cmocka_unit_test(test_url_too_small_output_fails),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
