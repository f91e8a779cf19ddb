/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The RADL lexer: IM's token rules, precedence and positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "lex.h"

struct warnings {
  int count;
  char last[IMC_ERR_MSG_MAX];
};

static void collect(void *ctx, const char *msg)
{
  struct warnings *w = ctx;

  w->count++;
  snprintf(w->last, sizeof w->last, "%s", msg);
}

/* Lexes text fully; stores up to max token types in types; returns the count (-1 on error). */
static int lex_all(const char *text, const struct radl_parse_opts *opts, enum radl_tok *types,
                   int max, struct imc_err *err)
{
  struct radl_lexer lx;
  struct radl_token t;
  int n = 0;

  radl_lex_init(&lx, "t.radl", text, strlen(text), NULL, 0, opts);
  for (;;) {
    if (radl_lex_next(&lx, &t, err))
      return -1;
    imc_free(t.str);
    if (t.type == RADL_T_EOF)
      return n;
    if (n < max)
      types[n] = t.type;
    n++;
  }
}

/* Lexes the first token of text. */
static void first_token(const char *text, struct radl_lexer *lx, struct radl_token *t)
{
  struct imc_err err = {0};

  radl_lex_init(lx, "t.radl", text, strlen(text), NULL, 0, NULL);
  assert_int_equal(radl_lex_next(lx, t, &err), 0);
}

static void test_lex_identifier_keeps_dots_and_digits(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;

  (void)state;
  first_token("disk.0.os.credentials.username = 'x'", &lx, &t);
  assert_int_equal(t.type, RADL_T_VAR);
  assert_int_equal(t.n, strlen("disk.0.os.credentials.username"));
}

static void test_lex_reserved_words_are_case_sensitive(void **state)
{
  enum radl_tok types[4];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("system System soft and", NULL, types, 4, &err), 4);
  assert_int_equal(types[0], RADL_T_SYSTEM);
  assert_int_equal(types[1], RADL_T_VAR);
  assert_int_equal(types[2], RADL_T_SOFT);
  assert_int_equal(types[3], RADL_T_AND);
  assert_int_equal(radl_keyword("contextualize", 13), RADL_T_CONTEXTUALIZE);
  assert_int_equal(radl_keyword("systems", 7), RADL_T_VAR);
}

static void test_lex_number_then_unit(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;
  struct imc_err err = {0};

  (void)state;
  first_token("512M", &lx, &t);
  assert_int_equal(t.type, RADL_T_NUMBER);
  assert_false(t.num.is_float);
  assert_int_equal(t.num.i, 512);
  assert_int_equal(radl_lex_next(&lx, &t, &err), 0);
  assert_int_equal(t.type, RADL_T_VAR);
  assert_int_equal(t.n, 1);
}

static void test_lex_number_with_dot_is_float(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;

  (void)state;
  first_token("1.5G", &lx, &t);
  assert_true(t.num.is_float);
  assert_true(t.num.f == 1.5);
  first_token("3.", &lx, &t);
  assert_true(t.num.is_float);
  assert_true(t.num.f == 3.0);
}

static void test_lex_number_too_large_fails(void **state)
{
  enum radl_tok types[2];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("99999999999999999999", NULL, types, 2, &err), -1);
  assert_int_equal(err.code, IMC_E_PARSE);
  assert_string_equal(err.msg, "t.radl:1:1: number 99999999999999999999 is too large");
}

static void test_lex_float_past_double_range_fails(void **state)
{
  char text[400];
  enum radl_tok types[1];
  struct imc_err err = {0};

  (void)state;
  memset(text, '9', 330);
  memcpy(text + 330, ".0", 3);
  assert_int_equal(lex_all(text, NULL, types, 1, &err), -1);
  assert_int_equal(err.code, IMC_E_PARSE);
  assert_non_null(strstr(err.msg, "t.radl:1:1: number 9999"));
  assert_non_null(strstr(err.msg, "... is too large"));
}

static void test_lex_single_quote_unescapes_only_quote(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;

  (void)state;
  first_token("'it\\'s a\\nb\\\\c'", &lx, &t);
  assert_int_equal(t.type, RADL_T_STRING);
  assert_string_equal(t.str, "it's a\\nb\\\\c");
  imc_free(t.str);
}

static void test_lex_string_spans_lines_and_counts_them(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;
  struct imc_err err = {0};

  (void)state;
  first_token("'a\nb\nc' x", &lx, &t);
  assert_string_equal(t.str, "a\nb\nc");
  imc_free(t.str);
  assert_int_equal(radl_lex_next(&lx, &t, &err), 0);
  assert_int_equal(t.pos.line, 3);
  assert_int_equal(t.pos.col, 4);
}

static void test_lex_double_quotes_inside_parentheses(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;
  struct imc_err err = {0};

  (void)state;
  first_token("( \"say \\\"hi\\\" it's\" )", &lx, &t);
  assert_int_equal(t.type, RADL_T_LPAREN);
  assert_int_equal(radl_lex_next(&lx, &t, &err), 0);
  assert_int_equal(t.type, RADL_T_STRING);
  assert_string_equal(t.str, "say \"hi\" it's");
  imc_free(t.str);
}

static void test_lex_stray_double_quote_outside_is_skipped_with_warning(void **state)
{
  struct warnings w = {0};
  struct radl_parse_opts opts = {.warn = collect, .warn_ctx = &w};
  enum radl_tok types[4];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("\"\nnetwork \"x\"", &opts, types, 4, &err), 2);
  assert_int_equal(types[0], RADL_T_NETWORK);
  assert_int_equal(types[1], RADL_T_VAR);
  assert_int_equal(w.count, 3);
  assert_string_equal(w.last, "t.radl:2:11: warning: skipped character '\"'");
}

static void test_lex_strict_makes_skipped_character_an_error(void **state)
{
  struct radl_parse_opts opts = {.strict = true};
  enum radl_tok types[4];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("network $x", &opts, types, 4, &err), -1);
  assert_string_equal(err.msg, "t.radl:1:9: unexpected character '$'");
}

static void test_lex_unclosed_quote_is_skipped_like_im(void **state)
{
  struct warnings w = {0};
  struct radl_parse_opts opts = {.warn = collect, .warn_ctx = &w};
  enum radl_tok types[4];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("deploy a 1 '", &opts, types, 4, &err), 3);
  assert_int_equal(w.count, 1);
  assert_string_equal(w.last, "t.radl:1:12: warning: skipped character ''' (a string with no "
                              "closing quote)");
}

static void test_lex_comparators_only_inside_parentheses(void **state)
{
  struct warnings w = {0};
  struct radl_parse_opts opts = {.warn = collect, .warn_ctx = &w};
  enum radl_tok types[8];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("= ( a <= 1 and b >= 2 and c < 3 and d > 4 and e = 5 )", &opts, types,
                           8, &err),
                   21);
  assert_int_equal(w.count, 1); /* the first '=' */
  assert_int_equal(types[2], RADL_T_LE);
  assert_int_equal(types[6], RADL_T_GE);
}

static void test_lex_comment_runs_to_end_of_line(void **state)
{
  enum radl_tok types[4];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("# system x\nnetwork # ( ' \nn", NULL, types, 4, &err), 2);
  assert_int_equal(types[0], RADL_T_NETWORK);
  assert_int_equal(types[1], RADL_T_VAR);
}

static void test_lex_random_makes_requested_length(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;

  (void)state;
  first_token("'random(12)'", &lx, &t);
  assert_int_equal(t.type, RADL_T_STRING);
  assert_int_equal(strlen(t.str), 12);
  for (size_t i = 0; i < 12; i++)
    assert_true((t.str[i] >= 'a' && t.str[i] <= 'z') || (t.str[i] >= 'A' && t.str[i] <= 'Z') ||
                (t.str[i] >= '0' && t.str[i] <= '9'));
  imc_free(t.str);
  first_token("'random(x)'", &lx, &t);
  assert_string_equal(t.str, "random(x)");
  imc_free(t.str);
}

static void test_lex_random_beyond_bound_fails(void **state)
{
  enum radl_tok types[1];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("'random(99999999999999999999999)'", NULL, types, 1, &err), -1);
  assert_string_equal(err.msg, "t.radl:1:1: random(N) takes N up to 4096");
}

static void test_lex_recipe_drops_blank_begin_rest_and_last_newline(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;
  struct imc_err err = {0};

  (void)state;
  first_token("(\n@begin  \n---\n- hosts: all\n@end\n)", &lx, &t);
  assert_int_equal(radl_lex_next(&lx, &t, &err), 0);
  assert_int_equal(t.type, RADL_T_RECIPE);
  assert_string_equal(t.str, "---\n- hosts: all");
  assert_int_equal(t.str_pos.line, 3);
  assert_int_equal(t.str_pos.col, 1);
  imc_free(t.str);
  assert_int_equal(radl_lex_next(&lx, &t, &err), 0);
  assert_int_equal(t.type, RADL_T_RPAREN);
  assert_int_equal(t.pos.line, 6);
}

static void test_lex_recipe_end_only_at_line_start(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;

  (void)state;
  first_token("@begin x\n  @end\n# not a comment\n@end", &lx, &t);
  assert_int_equal(t.type, RADL_T_RECIPE);
  assert_string_equal(t.str, " x\n  @end\n# not a comment");
  assert_int_equal(t.str_pos.col, 7);
  imc_free(t.str);
}

static void test_lex_recipe_without_end_fails_at_begin(void **state)
{
  enum radl_tok types[2];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("\n  @begin\nfoo\n", NULL, types, 2, &err), -1);
  assert_string_equal(err.msg, "t.radl:2:3: @begin without a line starting with @end");
}

static void test_lex_columns_count_code_points(void **state)
{
  enum radl_tok types[4];
  struct imc_err err = {0};
  struct radl_parse_opts opts = {.strict = true};

  (void)state;
  assert_int_equal(lex_all("( x = 'héllo' ! )", &opts, types, 4, &err), -1);
  assert_string_equal(err.msg, "t.radl:1:15: unexpected character '!'");
}

static void test_lex_crlf_is_blank(void **state)
{
  struct radl_parse_opts opts = {.strict = true};
  enum radl_tok types[4];
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(lex_all("network a\r\nsystem b\r\n", &opts, types, 4, &err), 4);
}

static void test_lex_identifier_check(void **state)
{
  (void)state;
  assert_true(radl_is_identifier("disk.0.size", 11));
  assert_true(radl_is_identifier(".x-y_z", 6));
  assert_false(radl_is_identifier("0abc", 4));
  assert_false(radl_is_identifier("a b", 3));
  assert_false(radl_is_identifier("", 0));
}

static void test_lex_describe_tokens(void **state)
{
  struct radl_lexer lx;
  struct radl_token t;
  char buf[96];

  (void)state;
  first_token("front", &lx, &t);
  radl_tok_describe(&t, buf, sizeof buf);
  assert_string_equal(buf, "identifier 'front'");
  first_token("", &lx, &t);
  radl_tok_describe(&t, buf, sizeof buf);
  assert_string_equal(buf, "end of input");
  first_token("deploy", &lx, &t);
  radl_tok_describe(&t, buf, sizeof buf);
  assert_string_equal(buf, "keyword 'deploy'");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_lex_identifier_keeps_dots_and_digits),
    cmocka_unit_test(test_lex_reserved_words_are_case_sensitive),
    cmocka_unit_test(test_lex_number_then_unit),
    cmocka_unit_test(test_lex_number_with_dot_is_float),
    cmocka_unit_test(test_lex_number_too_large_fails),
    cmocka_unit_test(test_lex_float_past_double_range_fails),
    cmocka_unit_test(test_lex_single_quote_unescapes_only_quote),
    cmocka_unit_test(test_lex_string_spans_lines_and_counts_them),
    cmocka_unit_test(test_lex_double_quotes_inside_parentheses),
    cmocka_unit_test(test_lex_stray_double_quote_outside_is_skipped_with_warning),
    cmocka_unit_test(test_lex_strict_makes_skipped_character_an_error),
    cmocka_unit_test(test_lex_unclosed_quote_is_skipped_like_im),
    cmocka_unit_test(test_lex_comparators_only_inside_parentheses),
    cmocka_unit_test(test_lex_comment_runs_to_end_of_line),
    cmocka_unit_test(test_lex_random_makes_requested_length),
    cmocka_unit_test(test_lex_random_beyond_bound_fails),
    cmocka_unit_test(test_lex_recipe_drops_blank_begin_rest_and_last_newline),
    cmocka_unit_test(test_lex_recipe_end_only_at_line_start),
    cmocka_unit_test(test_lex_recipe_without_end_fails_at_begin),
    cmocka_unit_test(test_lex_columns_count_code_points),
    cmocka_unit_test(test_lex_crlf_is_blank),
    cmocka_unit_test(test_lex_identifier_check),
    cmocka_unit_test(test_lex_describe_tokens),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
