/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/util: buffers, errors, allocation wrappers and their failure hook, file reading, logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/index.h"
#include "imc/buf.h"
#include "imc/err.h"
#include "imc/log.h"
#include "imc/utf8.h"

/* --- imc_buf ------------------------------------------------------------------------- */

static void test_buf_init_allocates_nothing(void **state)
{
  struct imc_buf b;
  unsigned long before = imc_alloc_count();

  (void)state;
  imc_buf_init(&b, 10);
  assert_int_equal(imc_alloc_count(), before);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.max, 10);
  assert_int_equal(imc_buf_err(&b), 0);
  assert_string_equal(imc_buf_cstr(&b), "");
  imc_buf_free(&b);
}

static void test_buf_add_appends_and_terminates(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 100);
  imc_buf_add(&b, "abcXYZ", 3);
  imc_buf_adds(&b, "def");
  imc_buf_addc(&b, '!');
  assert_int_equal(b.len, 7);
  assert_string_equal(imc_buf_cstr(&b), "abcdef!");
  assert_int_equal(b.data[b.len], '\0');
  assert_int_equal(imc_buf_err(&b), 0);
  imc_buf_free(&b);
}

static void test_buf_add_keeps_embedded_nul(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 100);
  imc_buf_add(&b, "a\0b", 3);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.data, "a\0b", 4);
  imc_buf_free(&b);
}

static void test_buf_grows_past_initial_capacity(void **state)
{
  struct imc_buf b;
  char chunk[100];

  (void)state;
  memset(chunk, 'q', sizeof chunk);
  imc_buf_init(&b, 1 << 20);
  for (int i = 0; i < 1000; i++)
    imc_buf_add(&b, chunk, sizeof chunk);
  assert_int_equal(imc_buf_err(&b), 0);
  assert_int_equal(b.len, 100000);
  assert_true(b.cap > b.len);
  for (size_t i = 0; i < b.len; i++)
    assert_int_equal(b.data[i], 'q');
  assert_int_equal(b.data[b.len], '\0');
  imc_buf_free(&b);
}

static void test_buf_accepts_exactly_max(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 5);
  imc_buf_adds(&b, "12345");
  assert_int_equal(imc_buf_err(&b), 0);
  assert_string_equal(imc_buf_cstr(&b), "12345");
  imc_buf_free(&b);
}

static void test_buf_rejects_past_max(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 5);
  imc_buf_adds(&b, "1234");
  imc_buf_adds(&b, "56");
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  /* The failing append changes nothing. */
  assert_int_equal(b.len, 4);
  assert_string_equal(imc_buf_cstr(&b), "1234");
  imc_buf_free(&b);
}

static void test_buf_error_is_sticky(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 5);
  imc_buf_adds(&b, "123456");
  imc_buf_addc(&b, 'x');
  imc_buf_addf(&b, "%d", 1);
  imc_buf_add(&b, "", 0);
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  assert_int_equal(b.len, 0);
  assert_string_equal(imc_buf_cstr(&b), "");
  imc_buf_free(&b);
}

static void test_buf_zero_max_takes_only_nothing(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 0);
  imc_buf_add(&b, "", 0);
  assert_int_equal(imc_buf_err(&b), 0);
  assert_string_equal(imc_buf_cstr(&b), "");
  imc_buf_addc(&b, 'a');
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  imc_buf_free(&b);
}

static void test_buf_huge_add_does_not_overflow(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, SIZE_MAX);
  imc_buf_adds(&b, "ab");
  /* len + SIZE_MAX wraps: must be TOOBIG, never a short allocation. */
  imc_buf_add(&b, "x", SIZE_MAX);
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  assert_int_equal(b.len, 2);
  imc_buf_free(&b);
}

static void test_buf_allocation_failure_is_sticky_nomem(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 100);
  imc_alloc_fail_at(1);
  imc_buf_adds(&b, "abc");
  imc_alloc_fail_at(0);
  assert_int_equal(imc_buf_err(&b), IMC_E_NOMEM);
  imc_buf_adds(&b, "abc"); /* memory is back, but the error sticks */
  assert_int_equal(imc_buf_err(&b), IMC_E_NOMEM);
  assert_int_equal(b.len, 0);
  imc_buf_free(&b);
}

static void test_buf_failed_growth_keeps_contents(void **state)
{
  struct imc_buf b;
  char big[200];

  (void)state;
  memset(big, 'b', sizeof big);
  imc_buf_init(&b, 1000);
  imc_buf_adds(&b, "keep");
  imc_alloc_fail_at(1);
  imc_buf_add(&b, big, sizeof big);
  imc_alloc_fail_at(0);
  assert_int_equal(imc_buf_err(&b), IMC_E_NOMEM);
  assert_string_equal(imc_buf_cstr(&b), "keep");
  imc_buf_free(&b);
}

static void test_buf_addf_formats(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 100);
  imc_buf_adds(&b, "n=");
  imc_buf_addf(&b, "%d %s %.2f", 42, "x", 1.5);
  assert_string_equal(imc_buf_cstr(&b), "n=42 x 1.50");
  assert_int_equal(b.len, strlen("n=42 x 1.50"));
  imc_buf_free(&b);
}

static void test_buf_addf_long_output(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 10000);
  imc_buf_addf(&b, "%5000d|", 7);
  assert_int_equal(imc_buf_err(&b), 0);
  assert_int_equal(b.len, 5001);
  assert_int_equal(b.data[4999], '7');
  assert_int_equal(b.data[5000], '|');
  imc_buf_free(&b);
}

static void test_buf_addf_past_max_is_toobig(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 8);
  imc_buf_addf(&b, "%s", "12345");
  imc_buf_addf(&b, "%s", "6789");
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  assert_string_equal(imc_buf_cstr(&b), "12345");
  imc_buf_free(&b);
}

static void test_buf_take_hands_over_and_resets(void **state)
{
  struct imc_buf b;
  size_t len = 0;
  char *s;

  (void)state;
  imc_buf_init(&b, 100);
  imc_buf_adds(&b, "hello");
  s = imc_buf_take(&b, &len);
  assert_string_equal(s, "hello");
  assert_int_equal(len, 5);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  assert_int_equal(b.max, 100);
  /* The buffer is usable again. */
  imc_buf_adds(&b, "again");
  assert_string_equal(imc_buf_cstr(&b), "again");
  imc_free(s);
  imc_buf_free(&b);
}

static void test_buf_take_of_empty_gives_empty_string(void **state)
{
  struct imc_buf b;
  size_t len = 99;
  char *s;

  (void)state;
  imc_buf_init(&b, 100);
  s = imc_buf_take(&b, &len);
  assert_non_null(s);
  assert_string_equal(s, "");
  assert_int_equal(len, 0);
  imc_free(s);
}

static void test_buf_take_of_empty_without_memory_is_null(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 100);
  imc_alloc_fail_at(1);
  assert_null(imc_buf_take(&b, NULL));
  imc_alloc_fail_at(0);
}

static void test_buf_take_clears_the_error(void **state)
{
  struct imc_buf b;
  char *s;

  (void)state;
  imc_buf_init(&b, 2);
  imc_buf_adds(&b, "ab");
  imc_buf_adds(&b, "c");
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  s = imc_buf_take(&b, NULL);
  assert_string_equal(s, "ab");
  assert_int_equal(imc_buf_err(&b), 0);
  imc_free(s);
}

static void test_buf_reset_keeps_capacity_and_clears_error(void **state)
{
  struct imc_buf b;
  size_t cap;

  (void)state;
  imc_buf_init(&b, 4);
  imc_buf_adds(&b, "abcd");
  imc_buf_adds(&b, "e");
  cap = b.cap;
  imc_buf_reset(&b);
  assert_int_equal(imc_buf_err(&b), 0);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, cap);
  assert_string_equal(imc_buf_cstr(&b), "");
  imc_buf_adds(&b, "xy");
  assert_string_equal(imc_buf_cstr(&b), "xy");
  imc_buf_free(&b);
}

static void test_buf_free_twice_is_safe(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 10);
  imc_buf_adds(&b, "x");
  imc_buf_free(&b);
  assert_null(b.data);
  imc_buf_free(&b);
}

/* --- imc_err ------------------------------------------------------------------------- */

static void test_fail_records_code_and_message(void **state)
{
  struct imc_err e;

  (void)state;
  imc_err_clear(&e);
  assert_int_equal(imc_fail(&e, IMC_E_PARSE, "bad %s at %d", "thing", 3), IMC_E_PARSE);
  assert_int_equal(e.code, IMC_E_PARSE);
  assert_string_equal(e.msg, "bad thing at 3");
  assert_false(e.retry);
}

static void test_fail_keeps_the_first_error(void **state)
{
  struct imc_err e;

  (void)state;
  imc_err_clear(&e);
  imc_fail(&e, IMC_E_IO, "first");
  /* The second call still returns its own code, for `return imc_fail(...)`. */
  assert_int_equal(imc_fail(&e, IMC_E_NOMEM, "second"), IMC_E_NOMEM);
  assert_int_equal(imc_fail_at(&e, IMC_E_PARSE, "f", 1, 2, "third"), IMC_E_PARSE);
  assert_int_equal(e.code, IMC_E_IO);
  assert_string_equal(e.msg, "first");
}

static void test_fail_with_null_err_returns_code(void **state)
{
  (void)state;
  assert_int_equal(imc_fail(NULL, IMC_E_AUTH, "x"), IMC_E_AUTH);
  assert_int_equal(imc_fail_at(NULL, IMC_E_INVAL, "f", 1, 1, "x"), IMC_E_INVAL);
}

static void test_fail_truncates_long_messages(void **state)
{
  struct imc_err e;
  char big[1000];

  (void)state;
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  imc_err_clear(&e);
  imc_fail(&e, IMC_E_INVAL, "%s", big);
  assert_int_equal(strlen(e.msg), IMC_ERR_MSG_MAX - 1);
  assert_int_equal(e.msg[0], 'm');
  assert_int_equal(e.msg[IMC_ERR_MSG_MAX - 2], 'm');
}

static void test_err_clear_resets_everything(void **state)
{
  struct imc_err e;

  (void)state;
  imc_err_clear(&e);
  imc_fail(&e, IMC_E_CLOUD, "x");
  e.retry = true;
  e.status = 503;
  imc_err_clear(&e);
  assert_int_equal(e.code, IMC_OK);
  assert_false(e.retry);
  assert_int_equal(e.status, 0);
  assert_string_equal(e.msg, "");
  imc_err_clear(NULL);
  /* After a clear, the next failure is recorded again. */
  imc_fail(&e, IMC_E_TIMEOUT, "later");
  assert_string_equal(e.msg, "later");
}

static void test_fail_at_prefixes_file_line_col(void **state)
{
  struct imc_err e;

  (void)state;
  imc_err_clear(&e);
  assert_int_equal(imc_fail_at(&e, IMC_E_PARSE, "recipe.radl", 12, 7, "expected '%c'", ')'),
                   IMC_E_PARSE);
  assert_string_equal(e.msg, "recipe.radl:12:7: expected ')'");
}

static void test_fail_at_without_file_prefixes_line_col(void **state)
{
  struct imc_err e;

  (void)state;
  imc_err_clear(&e);
  imc_fail_at(&e, IMC_E_INVAL, NULL, 3, 1, "oops");
  assert_string_equal(e.msg, "3:1: oops");
}

static void test_fail_at_cuts_long_file_names(void **state)
{
  struct imc_err e;
  char file[400], want[IMC_ERR_MSG_MAX];

  (void)state;
  memset(file, 'f', sizeof file - 1);
  file[sizeof file - 1] = '\0';
  imc_err_clear(&e);
  imc_fail_at(&e, IMC_E_PARSE, file, 1, 2, "message");
  snprintf(want, sizeof want, "%.150s:1:2: message", file);
  assert_string_equal(e.msg, want);
}

static void test_fail_at_truncates_long_messages(void **state)
{
  struct imc_err e;
  char big[600];

  (void)state;
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  imc_err_clear(&e);
  imc_fail_at(&e, IMC_E_PARSE, "a.radl", 1, 1, "%s", big);
  assert_int_equal(strlen(e.msg), IMC_ERR_MSG_MAX - 1);
  assert_memory_equal(e.msg, "a.radl:1:1: zzz", 15);
}

static void test_code_name_covers_every_code(void **state)
{
  static const struct {
    enum imc_code code;
    const char *name;
  } names[] = {
    {IMC_OK, "ok"},          {IMC_E_NOMEM, "nomem"},    {IMC_E_INVAL, "invalid"},
    {IMC_E_PARSE, "parse"},  {IMC_E_TOOBIG, "toobig"},  {IMC_E_AUTH, "auth"},
    {IMC_E_FORBIDDEN, "forbidden"}, {IMC_E_CONFLICT, "conflict"},
    {IMC_E_UNSUPPORTED, "unsupported"},
    {IMC_E_QUOTA, "quota"},  {IMC_E_NOTFOUND, "notfound"}, {IMC_E_CLOUD, "cloud"},
    {IMC_E_TIMEOUT, "timeout"}, {IMC_E_IO, "io"},       {IMC_E_INTERNAL, "internal"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    assert_string_equal(imc_code_name(names[i].code), names[i].name);
}

static void test_err_prefix_keeps_code_and_message(void **state)
{
  struct imc_err e = {0};

  (void)state;
  imc_fail(&e, IMC_E_CLOUD, "no capacity");
  assert_int_equal(imc_err_prefix(&e, "Error starting VM %d: ", 3), IMC_E_CLOUD);
  assert_string_equal(e.msg, "Error starting VM 3: no capacity");
  assert_int_equal(e.code, IMC_E_CLOUD);
}

static void test_utf8_follows_pythons_strict_decoder(void **state)
{
  static const struct {
    const char *s;
    bool ok;
  } cases[] = {
    {"plain", true},       {"caf\xc3\xa9", true},   {"\xe2\x82\xac", true},
    {"\xf0\x9f\x98\x80", true}, {"\xc0\xaf", false},  /* overlong */
    {"\xed\xa0\x80", false},   /* a surrogate */     {"\xf4\x90\x80\x80", false},
    {"\xe2\x82", false},        /* cut short */       {"\x80", false},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (imc_utf8_valid(cases[i].s) != cases[i].ok)
      fail_msg("case %zu", i);
  assert_int_equal(imc_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3), 3);
  assert_int_equal(imc_utf8_seq((const unsigned char *)"\xe2\x82\xac", 2), 0);
}

static void test_code_name_of_unknown_code(void **state)
{
  (void)state;
  assert_string_equal(imc_code_name((enum imc_code)(IMC_E_INTERNAL + 1)), "unknown");
  assert_string_equal(imc_code_name((enum imc_code)-1), "unknown");
}

/* --- allocation ---------------------------------------------------------------------- */

static void test_alloc_count_counts_every_wrapper(void **state)
{
  unsigned long before = imc_alloc_count();
  void *a = imc_malloc(8), *b = imc_calloc(2, 4);
  char *c = imc_strdup("x"), *d = imc_strndup("xyz", 1);

  (void)state;
  a = imc_realloc(a, 64);
  assert_int_equal(imc_alloc_count() - before, 5);
  imc_free(a);
  imc_free(b);
  imc_free(c);
  imc_free(d);
}

static void test_alloc_fail_at_fails_exactly_the_nth(void **state)
{
  void *p[5];

  (void)state;
  imc_alloc_fail_at(3);
  for (int i = 0; i < 5; i++)
    p[i] = imc_malloc(16);
  imc_alloc_fail_at(0);
  assert_non_null(p[0]);
  assert_non_null(p[1]);
  assert_null(p[2]);
  assert_non_null(p[3]); /* only one allocation fails */
  assert_non_null(p[4]);
  for (int i = 0; i < 5; i++)
    imc_free(p[i]);
}

static void test_alloc_fail_at_covers_all_wrappers(void **state)
{
  void *old = imc_malloc(4);

  (void)state;
  imc_alloc_fail_at(1);
  assert_null(imc_calloc(1, 1));
  imc_alloc_fail_at(1);
  assert_null(imc_strdup("abc"));
  imc_alloc_fail_at(1);
  assert_null(imc_strndup("abc", 2));
  imc_alloc_fail_at(1);
  assert_null(imc_realloc(old, 1000));
  imc_alloc_fail_at(0);
  /* A failed realloc leaves the old block alone. */
  imc_free(old);
}

static void test_alloc_fail_at_zero_disarms(void **state)
{
  void *p;

  (void)state;
  imc_alloc_fail_at(1);
  imc_alloc_fail_at(0);
  p = imc_malloc(1);
  assert_non_null(p);
  imc_free(p);
}

static void test_alloc_zero_bytes_gives_a_pointer(void **state)
{
  void *a = imc_malloc(0), *b = imc_calloc(0, 0), *c = imc_realloc(NULL, 0);

  (void)state;
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  imc_free(a);
  imc_free(b);
  imc_free(c);
}

static void test_strndup_copies_at_most_n(void **state)
{
  char *a = imc_strndup("abcdef", 3), *b = imc_strndup("ab", 10), *c = imc_strdup("");

  (void)state;
  assert_string_equal(a, "abc");
  assert_string_equal(b, "ab");
  assert_string_equal(c, "");
  imc_free(a);
  imc_free(b);
  imc_free(c);
}

static void test_strndup_reads_no_further_than_n(void **state)
{
  char raw[3] = {'x', 'y', 'z'}; /* no NUL: strndup must stop at n */
  char *s = imc_strndup(raw, sizeof raw);

  (void)state;
  assert_string_equal(s, "xyz");
  imc_free(s);
}

static void test_free_accepts_null(void **state)
{
  (void)state;
  imc_free(NULL);
  imc_free_secret(NULL);
}

static void test_free_secret_frees(void **state)
{
  char *s = imc_strdup("s3cret");

  (void)state;
  imc_free_secret(s); /* ASan reports a leak if this does not free */
}

static void test_grow_allocates_at_least_need(void **state)
{
  int *v = NULL;
  size_t cap = 0;

  (void)state;
  assert_int_equal(imc_grow((void **)&v, &cap, 1, sizeof *v), 0);
  assert_true(cap >= 1);
  assert_non_null(v);
  v[0] = 11;
  assert_int_equal(imc_grow((void **)&v, &cap, 100, sizeof *v), 0);
  assert_true(cap >= 100);
  v[99] = 22;
  assert_int_equal(v[0], 11);
  imc_free(v);
}

static void test_grow_within_capacity_allocates_nothing(void **state)
{
  int *v = NULL;
  size_t cap = 0;
  unsigned long before;

  (void)state;
  assert_int_equal(imc_grow((void **)&v, &cap, 3, sizeof *v), 0);
  before = imc_alloc_count();
  assert_int_equal(imc_grow((void **)&v, &cap, cap, sizeof *v), 0);
  assert_int_equal(imc_grow((void **)&v, &cap, 0, sizeof *v), 0);
  assert_int_equal(imc_alloc_count(), before);
  imc_free(v);
}

static void test_grow_overflow_is_nomem_and_keeps_array(void **state)
{
  int *v = NULL;
  size_t cap = 0, cap_before;
  int *before;

  (void)state;
  assert_int_equal(imc_grow((void **)&v, &cap, 4, sizeof *v), 0);
  before = v;
  cap_before = cap;
  assert_int_equal(imc_grow((void **)&v, &cap, SIZE_MAX, sizeof *v), IMC_E_NOMEM);
  assert_int_equal(imc_grow((void **)&v, &cap, SIZE_MAX / 2, 16), IMC_E_NOMEM);
  assert_ptr_equal(v, before);
  assert_int_equal(cap, cap_before);
  imc_free(v);
}

static void test_grow_allocation_failure_keeps_array(void **state)
{
  int *v = NULL;
  size_t cap = 0;

  (void)state;
  assert_int_equal(imc_grow((void **)&v, &cap, 4, sizeof *v), 0);
  v[3] = 5;
  imc_alloc_fail_at(1);
  assert_int_equal(imc_grow((void **)&v, &cap, 50, sizeof *v), IMC_E_NOMEM);
  imc_alloc_fail_at(0);
  assert_int_equal(cap, 4);
  assert_int_equal(v[3], 5);
  imc_free(v);
}

/* --- imc_read_file ------------------------------------------------------------------- */

/* Writes n bytes to a new temporary file; path receives its name. */
static void make_file(char *path, size_t pathsz, const char *data, size_t n)
{
  int fd;

  snprintf(path, pathsz, "/tmp/imc_test_util_XXXXXX");
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, n), (ssize_t)n);
  close(fd);
}

static void test_read_file_reads_everything(void **state)
{
  char path[64];
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  make_file(path, sizeof path, "line one\nline\0two\n", 18);
  imc_buf_init(&b, 1000);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file(path, &b, &e), 0);
  assert_int_equal(b.len, 18);
  assert_memory_equal(b.data, "line one\nline\0two\n", 18);
  imc_buf_free(&b);
  unlink(path);
}

static void test_read_file_appends(void **state)
{
  char path[64];
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  make_file(path, sizeof path, "tail", 4);
  imc_buf_init(&b, 1000);
  imc_buf_adds(&b, "head-");
  imc_err_clear(&e);
  assert_int_equal(imc_read_file(path, &b, &e), 0);
  assert_string_equal(imc_buf_cstr(&b), "head-tail");
  imc_buf_free(&b);
  unlink(path);
}

static void test_read_file_of_empty_file(void **state)
{
  char path[64];
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  make_file(path, sizeof path, "", 0);
  imc_buf_init(&b, 1000);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file(path, &b, &e), 0);
  assert_int_equal(b.len, 0);
  imc_buf_free(&b);
  unlink(path);
}

static void test_read_file_large_file_in_chunks(void **state)
{
  char path[64];
  size_t n = 200000;
  char *data = imc_malloc(n);
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  for (size_t i = 0; i < n; i++)
    data[i] = (char)('a' + i % 26);
  make_file(path, sizeof path, data, n);
  imc_buf_init(&b, n);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file(path, &b, &e), 0);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, data, n);
  imc_buf_free(&b);
  imc_free(data);
  unlink(path);
}

static void test_read_file_missing_is_io_error(void **state)
{
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  imc_buf_init(&b, 1000);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file("/nonexistent/imc/file.radl", &b, &e), IMC_E_IO);
  assert_int_equal(e.code, IMC_E_IO);
  assert_string_equal(e.msg, "/nonexistent/imc/file.radl: No such file or directory");
  imc_buf_free(&b);
}

static void test_read_file_directory_is_io_error(void **state)
{
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  imc_buf_init(&b, 1000);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file("/tmp", &b, &e), IMC_E_IO);
  assert_string_equal(e.msg, "/tmp: read error: Is a directory");
  imc_buf_free(&b);
}

static void test_read_file_past_max_is_toobig(void **state)
{
  char path[64], want[128];
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  make_file(path, sizeof path, "0123456789", 10);
  imc_buf_init(&b, 9);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file(path, &b, &e), IMC_E_TOOBIG);
  snprintf(want, sizeof want, "%s: larger than the limit of 9 bytes", path);
  assert_string_equal(e.msg, want);
  imc_buf_free(&b);
  unlink(path);
}

static void test_read_file_exactly_max_is_fine(void **state)
{
  char path[64];
  struct imc_buf b;
  struct imc_err e;

  (void)state;
  make_file(path, sizeof path, "0123456789", 10);
  imc_buf_init(&b, 10);
  imc_err_clear(&e);
  assert_int_equal(imc_read_file(path, &b, &e), 0);
  assert_string_equal(imc_buf_cstr(&b), "0123456789");
  imc_buf_free(&b);
  unlink(path);
}

static void test_read_file_without_memory_is_nomem(void **state)
{
  char path[64], want[128];
  struct imc_buf b;
  struct imc_err e;
  int r;

  (void)state;
  make_file(path, sizeof path, "data", 4);
  imc_buf_init(&b, 100);
  imc_err_clear(&e);
  /* fopen allocates through libc; the buffer's growth is our first allocation. */
  imc_alloc_fail_at(1);
  r = imc_read_file(path, &b, &e);
  imc_alloc_fail_at(0);
  assert_int_equal(r, IMC_E_NOMEM);
  snprintf(want, sizeof want, "%s: out of memory", path);
  assert_string_equal(e.msg, want);
  imc_buf_free(&b);
  unlink(path);
}

/* --- logging ------------------------------------------------------------------------- */

struct captured {
  int calls;
  enum imc_log_level level;
  const char *file;
  int line;
  char msg[2048];
  void *ctx;
};

static void capture_sink(enum imc_log_level level, const char *file, int line, const char *msg,
                         void *ctx)
{
  struct captured *c = ctx;

  c->calls++;
  c->level = level;
  c->file = file;
  c->line = line;
  c->ctx = ctx;
  snprintf(c->msg, sizeof c->msg, "%s", msg);
}

static int evaluations;

static int counted(int v)
{
  evaluations++;
  return v;
}

static void test_log_level_parse_knows_every_name(void **state)
{
  (void)state;
  assert_int_equal(imc_log_level_parse("error"), IMC_LOG_ERROR);
  assert_int_equal(imc_log_level_parse("warn"), IMC_LOG_WARN);
  assert_int_equal(imc_log_level_parse("warning"), IMC_LOG_WARN);
  assert_int_equal(imc_log_level_parse("info"), IMC_LOG_INFO);
  assert_int_equal(imc_log_level_parse("debug"), IMC_LOG_DEBUG);
  assert_int_equal(imc_log_level_parse("DEBUG"), IMC_LOG_DEBUG);
  assert_int_equal(imc_log_level_parse("Warn"), IMC_LOG_WARN);
}

static void test_log_level_parse_rejects_unknown(void **state)
{
  (void)state;
  assert_int_equal(imc_log_level_parse(""), -1);
  assert_int_equal(imc_log_level_parse("verbose"), -1);
  assert_int_equal(imc_log_level_parse("err"), -1);
  assert_int_equal(imc_log_level_parse("debug "), -1);
}

static void test_log_sink_receives_message_and_place(void **state)
{
  struct captured c = {0};
  int line;

  (void)state;
  imc_log_set_sink(capture_sink, &c);
  imc_log_set_level(IMC_LOG_INFO);
  line = __LINE__ + 1;
  imc_log(IMC_LOG_INFO, "vm %d is %s", 3, "running");
  imc_log_set_sink(NULL, NULL);
  imc_log_set_level(IMC_LOG_WARN);
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.level, IMC_LOG_INFO);
  assert_string_equal(c.msg, "vm 3 is running");
  assert_non_null(strstr(c.file, "test_util.c"));
  assert_int_equal(c.line, line);
  assert_ptr_equal(c.ctx, &c);
}

static void test_log_below_threshold_is_not_evaluated(void **state)
{
  struct captured c = {0};

  (void)state;
  imc_log_set_sink(capture_sink, &c);
  imc_log_set_level(IMC_LOG_WARN);
  evaluations = 0;
  imc_log(IMC_LOG_DEBUG, "%d", counted(1));
  imc_log(IMC_LOG_INFO, "%d", counted(2));
  assert_int_equal(evaluations, 0);
  assert_int_equal(c.calls, 0);
  imc_log(IMC_LOG_ERROR, "%d", counted(3));
  imc_log(IMC_LOG_WARN, "%d", counted(4));
  assert_int_equal(evaluations, 2);
  assert_int_equal(c.calls, 2);
  assert_string_equal(c.msg, "4");
  imc_log_set_sink(NULL, NULL);
}

static void test_log_set_level_changes_threshold(void **state)
{
  (void)state;
  imc_log_set_level(IMC_LOG_DEBUG);
  assert_int_equal(imc_log_threshold, IMC_LOG_DEBUG);
  imc_log_set_level(IMC_LOG_WARN);
  assert_int_equal(imc_log_threshold, IMC_LOG_WARN);
}

static void test_log_long_message_is_cut(void **state)
{
  struct captured c = {0};
  char big[3000];

  (void)state;
  memset(big, 'L', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  imc_log_set_sink(capture_sink, &c);
  imc_log_write(IMC_LOG_ERROR, "f.c", 1, "%s", big);
  imc_log_set_sink(NULL, NULL);
  assert_int_equal(strlen(c.msg), 1023);
}

static void test_log_null_sink_restores_default(void **state)
{
  struct captured c = {0};

  (void)state;
  imc_log_set_sink(capture_sink, &c);
  imc_log_set_sink(NULL, &c);
  /* Goes to stderr now, not to c. */
  imc_log_write(IMC_LOG_ERROR, "f.c", 1, "to stderr (expected in the test log)");
  assert_int_equal(c.calls, 0);
}


/* --- index ---------------------------------------------------------------------------- */

struct names {
  const char *v[300];
  size_t n;
  bool collide; /* every element hashes alike: probing must still find each one */
};

static bool names_eq(const void *ctx, size_t pos, const void *key)
{
  return strcmp(((const struct names *)ctx)->v[pos], key) == 0;
}

static uint64_t names_hash_of(const struct names *ns, const char *s)
{
  return ns->collide ? 7 : imc_hash_str(s);
}

static uint64_t names_hash(const void *ctx, size_t pos)
{
  const struct names *ns = ctx;

  return names_hash_of(ns, ns->v[pos]);
}

static void index_names(bool collide)
{
  static char store[300][8];
  struct names ns = {.collide = collide};
  struct imc_index ix;

  imc_index_init(&ix);
  assert_false(imc_index_built(&ix));
  assert_int_equal(imc_index_find(&ix, 1, "x", names_eq, &ns), SIZE_MAX);
  for (size_t i = 0; i < 300; i++) {
    snprintf(store[i], sizeof store[i], "n%zu", i);
    ns.v[ns.n++] = store[i];
    assert_int_equal(imc_index_add(&ix, names_hash_of(&ns, store[i]), i, names_hash, &ns), 0);
  }
  assert_true(imc_index_built(&ix));
  for (size_t i = 0; i < 300; i++)
    assert_int_equal(imc_index_find(&ix, names_hash_of(&ns, store[i]), store[i], names_eq, &ns),
                     i);
  assert_int_equal(imc_index_find(&ix, names_hash_of(&ns, "n300"), "n300", names_eq, &ns),
                   SIZE_MAX);
  imc_index_free(&ix);
  assert_int_equal(imc_index_build(&ix, 300, names_hash, &ns), 0);
  assert_int_equal(imc_index_find(&ix, names_hash_of(&ns, "n150"), "n150", names_eq, &ns), 150);
  imc_index_free(&ix);
}

static void test_index_finds_every_element_as_it_grows(void **state)
{
  (void)state;
  index_names(false);
}

static void test_index_finds_every_element_when_all_hashes_collide(void **state)
{
  (void)state;
  index_names(true);
}

static void test_index_growth_failure_drops_the_index(void **state)
{
  struct names ns = {.v = {"a", "b"}, .n = 2};
  struct imc_index ix;

  (void)state;
  imc_index_init(&ix);
  imc_alloc_fail_at(1);
  assert_int_equal(imc_index_add(&ix, imc_hash_str("a"), 0, names_hash, &ns), IMC_E_NOMEM);
  imc_alloc_fail_at(0);
  assert_false(imc_index_built(&ix));
  imc_index_free(&ix);
}

static void test_hash_str_distinguishes_and_handles_null(void **state)
{
  (void)state;
  assert_true(imc_hash_str("a") != imc_hash_str("b"));
  assert_true(imc_hash_str(NULL) == imc_hash_str(NULL));
  assert_true(imc_hash_str("") != imc_hash_str(NULL));
  assert_true(imc_hash_mix(1, 2) != imc_hash_mix(2, 1));
}

static void test_buf_add_whole_all_or_nothing(void **state)
{
  struct imc_buf b;

  (void)state;
  imc_buf_init(&b, 8);
  assert_int_equal(imc_buf_add_whole(&b, "abc", 3), 0);
  assert_int_equal(imc_buf_add_whole(&b, "0123456789", 10), IMC_E_TOOBIG);
  assert_string_equal(imc_buf_cstr(&b), "abc");
  assert_int_equal(imc_buf_err(&b), 0);
  assert_int_equal(imc_buf_add_whole(&b, "de", 2), 0);
  assert_string_equal(imc_buf_cstr(&b), "abcde");
  imc_buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_buf_init_allocates_nothing),
    cmocka_unit_test(test_buf_add_appends_and_terminates),
    cmocka_unit_test(test_buf_add_keeps_embedded_nul),
    cmocka_unit_test(test_buf_grows_past_initial_capacity),
    cmocka_unit_test(test_buf_accepts_exactly_max),
    cmocka_unit_test(test_buf_rejects_past_max),
    cmocka_unit_test(test_buf_error_is_sticky),
    cmocka_unit_test(test_buf_zero_max_takes_only_nothing),
    cmocka_unit_test(test_buf_huge_add_does_not_overflow),
    cmocka_unit_test(test_buf_allocation_failure_is_sticky_nomem),
    cmocka_unit_test(test_buf_failed_growth_keeps_contents),
    cmocka_unit_test(test_buf_addf_formats),
    cmocka_unit_test(test_buf_addf_long_output),
    cmocka_unit_test(test_buf_addf_past_max_is_toobig),
    cmocka_unit_test(test_buf_take_hands_over_and_resets),
    cmocka_unit_test(test_buf_take_of_empty_gives_empty_string),
    cmocka_unit_test(test_buf_take_of_empty_without_memory_is_null),
    cmocka_unit_test(test_buf_take_clears_the_error),
    cmocka_unit_test(test_buf_reset_keeps_capacity_and_clears_error),
    cmocka_unit_test(test_buf_free_twice_is_safe),
    cmocka_unit_test(test_fail_records_code_and_message),
    cmocka_unit_test(test_fail_keeps_the_first_error),
    cmocka_unit_test(test_fail_with_null_err_returns_code),
    cmocka_unit_test(test_fail_truncates_long_messages),
    cmocka_unit_test(test_err_clear_resets_everything),
    cmocka_unit_test(test_fail_at_prefixes_file_line_col),
    cmocka_unit_test(test_fail_at_without_file_prefixes_line_col),
    cmocka_unit_test(test_fail_at_cuts_long_file_names),
    cmocka_unit_test(test_fail_at_truncates_long_messages),
    cmocka_unit_test(test_code_name_covers_every_code),
    cmocka_unit_test(test_code_name_of_unknown_code),
    cmocka_unit_test(test_err_prefix_keeps_code_and_message),
    cmocka_unit_test(test_utf8_follows_pythons_strict_decoder),
    cmocka_unit_test(test_alloc_count_counts_every_wrapper),
    cmocka_unit_test(test_alloc_fail_at_fails_exactly_the_nth),
    cmocka_unit_test(test_alloc_fail_at_covers_all_wrappers),
    cmocka_unit_test(test_alloc_fail_at_zero_disarms),
    cmocka_unit_test(test_alloc_zero_bytes_gives_a_pointer),
    cmocka_unit_test(test_strndup_copies_at_most_n),
    cmocka_unit_test(test_strndup_reads_no_further_than_n),
    cmocka_unit_test(test_free_accepts_null),
    cmocka_unit_test(test_free_secret_frees),
    cmocka_unit_test(test_grow_allocates_at_least_need),
    cmocka_unit_test(test_grow_within_capacity_allocates_nothing),
    cmocka_unit_test(test_grow_overflow_is_nomem_and_keeps_array),
    cmocka_unit_test(test_grow_allocation_failure_keeps_array),
    cmocka_unit_test(test_read_file_reads_everything),
    cmocka_unit_test(test_read_file_appends),
    cmocka_unit_test(test_read_file_of_empty_file),
    cmocka_unit_test(test_read_file_large_file_in_chunks),
    cmocka_unit_test(test_read_file_missing_is_io_error),
    cmocka_unit_test(test_read_file_directory_is_io_error),
    cmocka_unit_test(test_read_file_past_max_is_toobig),
    cmocka_unit_test(test_read_file_exactly_max_is_fine),
    cmocka_unit_test(test_read_file_without_memory_is_nomem),
    cmocka_unit_test(test_log_level_parse_knows_every_name),
    cmocka_unit_test(test_log_level_parse_rejects_unknown),
    cmocka_unit_test(test_log_sink_receives_message_and_place),
    cmocka_unit_test(test_log_below_threshold_is_not_evaluated),
    cmocka_unit_test(test_log_set_level_changes_threshold),
    cmocka_unit_test(test_log_long_message_is_cut),
    cmocka_unit_test(test_log_null_sink_restores_default),
    cmocka_unit_test(test_index_finds_every_element_as_it_grows),
    cmocka_unit_test(test_index_finds_every_element_when_all_hashes_collide),
    cmocka_unit_test(test_index_growth_failure_drops_the_index),
    cmocka_unit_test(test_hash_str_distinguishes_and_handles_null),
    cmocka_unit_test(test_buf_add_whole_all_or_nothing),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
