/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_outports_parse: IM's outports syntax, our stricter bounds, and the exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"

/* Parses text, expecting success; returns the items (caller frees) and their count. */
static struct radl_outport *parse_ok(const char *text, size_t *n)
{
  struct imc_err err;
  struct radl_outport *v = NULL;

  imc_err_clear(&err);
  assert_int_equal(radl_outports_parse(text, &v, n, &err), 0);
  assert_int_equal(err.code, IMC_OK);
  assert_non_null(v);
  return v;
}

/* Parses text, expecting IMC_E_INVAL with exactly msg. */
static void parse_fails(const char *text, const char *msg)
{
  struct imc_err err;
  struct radl_outport *v = (struct radl_outport *)&err; /* must be reset to NULL */
  size_t n = 99;

  imc_err_clear(&err);
  assert_int_equal(radl_outports_parse(text, &v, &n, &err), IMC_E_INVAL);
  assert_int_equal(err.code, IMC_E_INVAL);
  assert_string_equal(err.msg, msg);
  assert_null(v);
  assert_int_equal(n, 0);
}

static void check_port(const struct radl_outport *o, unsigned init, unsigned end, bool range,
                       enum radl_proto proto, const char *cidr)
{
  assert_int_equal(o->port_init, init);
  assert_int_equal(o->port_end, end);
  assert_int_equal(o->is_range, range);
  assert_int_equal(o->proto, proto);
  assert_string_equal(o->cidr, cidr);
}

static void test_outports_single_port_is_tcp_to_itself(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("22", &n);

  (void)state;
  assert_int_equal(n, 1);
  check_port(&v[0], 22, 22, false, RADL_PROTO_TCP, "");
  imc_free(v);
}

static void test_outports_protocols_are_read(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("53/udp,80/tcp,1/icmp", &n);

  (void)state;
  assert_int_equal(n, 3);
  check_port(&v[0], 53, 53, false, RADL_PROTO_UDP, "");
  check_port(&v[1], 80, 80, false, RADL_PROTO_TCP, "");
  check_port(&v[2], 1, 1, false, RADL_PROTO_ICMP, "");
  imc_free(v);
}

static void test_outports_mapping_maps_remote_to_local(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("8080-80", &n);

  (void)state;
  assert_int_equal(n, 1);
  check_port(&v[0], 8080, 80, false, RADL_PROTO_TCP, "");
  imc_free(v);
}

static void test_outports_range_sets_is_range(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("9000:9100/udp", &n);

  (void)state;
  assert_int_equal(n, 1);
  check_port(&v[0], 9000, 9100, true, RADL_PROTO_UDP, "");
  imc_free(v);
}

static void test_outports_cidr_prefix_is_kept(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("10.0.1.0/24-22,0.0.0.0/0-8899/tcp-8899/tcp", &n);

  (void)state;
  assert_int_equal(n, 2);
  check_port(&v[0], 22, 22, false, RADL_PROTO_TCP, "10.0.1.0/24");
  check_port(&v[1], 8899, 8899, false, RADL_PROTO_TCP, "0.0.0.0/0");
  imc_free(v);
}

/* IM's own test (test/TestRADL.py test_outports). */
static void test_outports_im_example_gives_im_result(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("8899-8899,22-22,1:10,10.0.1.0/24-22,1/icmp", &n);

  (void)state;
  assert_int_equal(n, 5);
  check_port(&v[0], 8899, 8899, false, RADL_PROTO_TCP, "");
  check_port(&v[1], 22, 22, false, RADL_PROTO_TCP, "");
  check_port(&v[2], 1, 10, true, RADL_PROTO_TCP, "");
  check_port(&v[3], 22, 22, false, RADL_PROTO_TCP, "10.0.1.0/24");
  check_port(&v[4], 1, 1, false, RADL_PROTO_ICMP, "");
  imc_free(v);
}

/* Every format listed in IM's doc/source/radl.rst and in parseOutPorts' docstring. */
static void test_outports_documented_formats_are_accepted(void **state)
{
  static const char *const ok[] = {
    "0.0.0.0/24-8899/tcp-8899/tcp,22/tcp-22/tcp",
    "8899/tcp-8899/tcp,22/tcp-22/tcp",
    "8899/tcp-8899,22/tcp-22",
    "8899-8899,22-22",
    "8899/tcp,22/udp",
    "8899,22",
    "0.0.0.0/24-8899,0.0.0.0/24-22",
    "9000:9100/tcp",
    "9000:9100",
    "1:10/tcp,9:22/udp",
    "0.0.0.0/0-8899-8899,22-22",
  };

  (void)state;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    size_t n;
    struct radl_outport *v = parse_ok(ok[i], &n);

    assert_true(n >= 1);
    imc_free(v);
  }
}

static void test_outports_local_side_inherits_protocol(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("5353/udp-53", &n);

  (void)state;
  check_port(&v[0], 5353, 53, false, RADL_PROTO_UDP, "");
  imc_free(v);
}

static void test_outports_port_bounds_are_inclusive(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("0,65535,0:65535", &n);

  (void)state;
  assert_int_equal(n, 3);
  check_port(&v[0], 0, 0, false, RADL_PROTO_TCP, "");
  check_port(&v[1], 65535, 65535, false, RADL_PROTO_TCP, "");
  check_port(&v[2], 0, 65535, true, RADL_PROTO_TCP, "");
  imc_free(v);
}

static void test_outports_equal_range_bounds_are_accepted(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("7:7", &n);

  (void)state;
  check_port(&v[0], 7, 7, true, RADL_PROTO_TCP, "");
  imc_free(v);
}

static void test_outports_cidr_limits_are_accepted(void **state)
{
  size_t n;
  struct radl_outport *v = parse_ok("255.255.255.255/32-1,1.2.3.4/0-2", &n);

  (void)state;
  assert_string_equal(v[0].cidr, "255.255.255.255/32");
  assert_string_equal(v[1].cidr, "1.2.3.4/0");
  imc_free(v);
}

static void test_outports_letter_after_port_is_rejected(void **state)
{
  (void)state;
  /* IM's test: '8899a-8899,22-22' must fail the check. */
  parse_fails("8899a-8899,22-22",
              "invalid outports item '8899a-8899': unexpected 'a' after the port");
}

static void test_outports_letter_after_local_port_is_rejected(void **state)
{
  (void)state;
  parse_fails("22,80-8x", "invalid outports item '80-8x': unexpected 'x' after the local port");
}

static void test_outports_different_protocols_are_rejected(void **state)
{
  (void)state;
  parse_fails("80/udp-8080/tcp", "invalid outports item '80/udp-8080/tcp': different "
                                 "protocols used in local and remote outports");
}

/* As IM: the remote side defaults to tcp, so a udp local side alone is a mismatch. */
static void test_outports_udp_local_with_default_remote_is_rejected(void **state)
{
  (void)state;
  parse_fails("80-8080/udp", "invalid outports item '80-8080/udp': different protocols used "
                             "in local and remote outports");
}

/* IM's code silently drops the mapping here; its documentation forbids the form. */
static void test_outports_range_with_mapping_is_rejected(void **state)
{
  (void)state;
  parse_fails("1:10-20", "invalid outports item '1:10-20': port range (:) and port mapping (-) "
                         "cannot be combined");
}

static void test_outports_range_on_local_side_is_rejected(void **state)
{
  (void)state;
  parse_fails("20-1:10", "invalid outports item '20-1:10': port range (:) and port mapping (-) "
                         "cannot be combined");
}

/* IM's pattern has no room for blanks, so "22, 80" is invalid there too. */
static void test_outports_space_after_comma_is_rejected(void **state)
{
  (void)state;
  parse_fails("22, 80", "invalid outports item ' 80': expected a port number");
}

static void test_outports_trailing_space_is_rejected(void **state)
{
  (void)state;
  parse_fails("22 ", "invalid outports item '22 ': unexpected ' ' after the port");
}

static void test_outports_port_above_65535_is_rejected(void **state)
{
  (void)state;
  parse_fails("65536", "invalid outports item '65536': port 65536 is out of range (0-65535)");
}

static void test_outports_huge_port_is_rejected_without_wrapping(void **state)
{
  (void)state;
  parse_fails("18446744073709551617", "invalid outports item '18446744073709551617': port "
                                      "18446744073709551617 is out of range (0-65535)");
  parse_fails("123456789012345678901234", "invalid outports item '123456789012345678901234': "
                                          "port 12345678901234567890... is out of range "
                                          "(0-65535)");
}

static void test_outports_backwards_range_is_rejected(void **state)
{
  (void)state;
  parse_fails("10:1", "invalid outports item '10:1': port range 10:1 starts after it ends");
}

static void test_outports_cidr_octet_above_255_is_rejected(void **state)
{
  (void)state;
  parse_fails("10.0.256.0/24-22", "invalid outports item '10.0.256.0/24-22': invalid remote "
                                  "CIDR (expected a.b.c.d/n with octets 0-255 and n 0-32)");
}

static void test_outports_cidr_prefix_above_32_is_rejected(void **state)
{
  (void)state;
  parse_fails("10.0.0.0/33-22", "invalid outports item '10.0.0.0/33-22': invalid remote CIDR "
                                "(expected a.b.c.d/n with octets 0-255 and n 0-32)");
}

static void test_outports_cidr_with_long_octet_is_rejected(void **state)
{
  (void)state;
  /* IM's \d{1,3}: four digits are not an octet even when the value is small. */
  parse_fails("0010.0.0.0/8-22", "invalid outports item '0010.0.0.0/8-22': invalid remote CIDR "
                                 "(expected a.b.c.d/n with octets 0-255 and n 0-32)");
}

static void test_outports_cidr_without_port_is_rejected(void **state)
{
  (void)state;
  parse_fails("10.0.0.0/8", "invalid outports item '10.0.0.0/8': invalid remote CIDR (expected "
                            "a.b.c.d/n with octets 0-255 and n 0-32)");
  parse_fails("10.0.0.0/8-", "invalid outports item '10.0.0.0/8-': expected a port number");
}

static void test_outports_short_cidr_is_rejected(void **state)
{
  (void)state;
  parse_fails("10.0.0/8-22", "invalid outports item '10.0.0/8-22': invalid remote CIDR "
                             "(expected a.b.c.d/n with octets 0-255 and n 0-32)");
}

static void test_outports_upper_case_protocol_is_rejected(void **state)
{
  (void)state;
  parse_fails("22/TCP", "invalid outports item '22/TCP': unknown protocol 'TCP' (expected tcp, "
                        "udp or icmp)");
}

static void test_outports_unknown_protocol_is_rejected(void **state)
{
  (void)state;
  parse_fails("22/sctp-22", "invalid outports item '22/sctp-22': unknown protocol 'sctp' "
                            "(expected tcp, udp or icmp)");
  parse_fails("22/", "invalid outports item '22/': unknown protocol '' (expected tcp, udp or "
                     "icmp)");
}

static void test_outports_empty_string_is_rejected(void **state)
{
  (void)state;
  parse_fails("", "invalid outports item '': expected a port number");
}

static void test_outports_empty_item_is_rejected(void **state)
{
  (void)state;
  parse_fails("22,", "invalid outports item '': expected a port number");
  parse_fails("22,,80", "invalid outports item '': expected a port number");
}

static void test_outports_missing_local_port_is_rejected(void **state)
{
  (void)state;
  parse_fails("22-", "invalid outports item '22-': expected a port number");
  parse_fails("-22", "invalid outports item '-22': expected a port number");
}

static void test_outports_second_mapping_is_rejected(void **state)
{
  (void)state;
  parse_fails("1-2-3", "invalid outports item '1-2-3': unexpected '-' after the local port");
}

static void test_outports_trailing_newline_is_rejected(void **state)
{
  (void)state;
  parse_fails("22\n", "invalid outports item '22\n': unexpected '\n' after the port");
}

static void test_outports_long_item_is_cut_in_message(void **state)
{
  char text[200], msg[256];

  (void)state;
  memset(text, '1', 5);
  memset(text + 5, 'x', 95);
  text[100] = '\0';
  snprintf(msg, sizeof msg, "invalid outports item '%.64s...': unexpected 'x' after the port",
           text);
  parse_fails(text, msg);
}

static void test_outports_error_names_first_bad_item(void **state)
{
  (void)state;
  parse_fails("22,bad,alsobad", "invalid outports item 'bad': expected a port number");
}

static void test_outports_too_many_items_are_rejected(void **state)
{
  size_t len = 2 * 65537;
  char *text = imc_malloc(len);
  struct imc_err err;
  struct radl_outport *v = NULL;
  size_t n = 0;

  (void)state;
  assert_non_null(text);
  for (size_t i = 0; i < len - 1; i += 2) {
    text[i] = '1';
    text[i + 1] = ',';
  }
  text[len - 2] = '1';
  text[len - 1] = '\0'; /* 65537 items */
  imc_err_clear(&err);
  assert_int_equal(radl_outports_parse(text, &v, &n, &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "invalid outports: more than 65536 items");
  assert_null(v);
  text[len - 3] = '\0'; /* 65536 items: the limit itself is fine */
  imc_err_clear(&err);
  assert_int_equal(radl_outports_parse(text, &v, &n, &err), 0);
  assert_int_equal(n, 65536);
  imc_free(v);
  imc_free(text);
}

static void test_outports_allocation_failure_is_nomem(void **state)
{
  struct imc_err err;
  struct radl_outport *v = NULL;
  size_t n = 5;

  (void)state;
  imc_err_clear(&err);
  imc_alloc_fail_at(1);
  assert_int_equal(radl_outports_parse("22,80", &v, &n, &err), IMC_E_NOMEM);
  imc_alloc_fail_at(0);
  assert_string_equal(err.msg, "out of memory");
  assert_null(v);
  assert_int_equal(n, 0);
}

static void test_outports_null_err_is_allowed(void **state)
{
  struct radl_outport *v = NULL;
  size_t n;

  (void)state;
  assert_int_equal(radl_outports_parse("x", &v, &n, NULL), IMC_E_INVAL);
  assert_null(v);
}

static void test_proto_name_gives_lower_case_names(void **state)
{
  (void)state;
  assert_string_equal(radl_proto_name(RADL_PROTO_TCP), "tcp");
  assert_string_equal(radl_proto_name(RADL_PROTO_UDP), "udp");
  assert_string_equal(radl_proto_name(RADL_PROTO_ICMP), "icmp");
  assert_string_equal(radl_proto_name((enum radl_proto)42), "?");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_outports_single_port_is_tcp_to_itself),
    cmocka_unit_test(test_outports_protocols_are_read),
    cmocka_unit_test(test_outports_mapping_maps_remote_to_local),
    cmocka_unit_test(test_outports_range_sets_is_range),
    cmocka_unit_test(test_outports_cidr_prefix_is_kept),
    cmocka_unit_test(test_outports_im_example_gives_im_result),
    cmocka_unit_test(test_outports_documented_formats_are_accepted),
    cmocka_unit_test(test_outports_local_side_inherits_protocol),
    cmocka_unit_test(test_outports_port_bounds_are_inclusive),
    cmocka_unit_test(test_outports_equal_range_bounds_are_accepted),
    cmocka_unit_test(test_outports_cidr_limits_are_accepted),
    cmocka_unit_test(test_outports_letter_after_port_is_rejected),
    cmocka_unit_test(test_outports_letter_after_local_port_is_rejected),
    cmocka_unit_test(test_outports_different_protocols_are_rejected),
    cmocka_unit_test(test_outports_udp_local_with_default_remote_is_rejected),
    cmocka_unit_test(test_outports_range_with_mapping_is_rejected),
    cmocka_unit_test(test_outports_range_on_local_side_is_rejected),
    cmocka_unit_test(test_outports_space_after_comma_is_rejected),
    cmocka_unit_test(test_outports_trailing_space_is_rejected),
    cmocka_unit_test(test_outports_port_above_65535_is_rejected),
    cmocka_unit_test(test_outports_huge_port_is_rejected_without_wrapping),
    cmocka_unit_test(test_outports_backwards_range_is_rejected),
    cmocka_unit_test(test_outports_cidr_octet_above_255_is_rejected),
    cmocka_unit_test(test_outports_cidr_prefix_above_32_is_rejected),
    cmocka_unit_test(test_outports_cidr_with_long_octet_is_rejected),
    cmocka_unit_test(test_outports_cidr_without_port_is_rejected),
    cmocka_unit_test(test_outports_short_cidr_is_rejected),
    cmocka_unit_test(test_outports_upper_case_protocol_is_rejected),
    cmocka_unit_test(test_outports_unknown_protocol_is_rejected),
    cmocka_unit_test(test_outports_empty_string_is_rejected),
    cmocka_unit_test(test_outports_empty_item_is_rejected),
    cmocka_unit_test(test_outports_missing_local_port_is_rejected),
    cmocka_unit_test(test_outports_second_mapping_is_rejected),
    cmocka_unit_test(test_outports_trailing_newline_is_rejected),
    cmocka_unit_test(test_outports_long_item_is_cut_in_message),
    cmocka_unit_test(test_outports_error_names_first_bad_item),
    cmocka_unit_test(test_outports_too_many_items_are_rejected),
    cmocka_unit_test(test_outports_allocation_failure_is_nomem),
    cmocka_unit_test(test_outports_null_err_is_allowed),
    cmocka_unit_test(test_proto_name_gives_lower_case_names),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
