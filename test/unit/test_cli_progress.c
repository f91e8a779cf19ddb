/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The progress display of `imc create --wait` and `imc wait` (cli/progress.c): the exact
 * bytes it writes on a terminal and to a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "progress.h"

/* A display writing into memory (open_memstream's buffer is the C library's: free()). */
struct screen {
  char *text;
  size_t len;
  FILE *f;
  struct cli_progress p;
};

static void screen_open(struct screen *s, bool tty, unsigned width, bool color)
{
  if (color)
    assert_int_equal(unsetenv("NO_COLOR"), 0);
  else
    assert_int_equal(setenv("NO_COLOR", "1", 1), 0);
  s->text = NULL;
  s->len = 0;
  assert_non_null(s->f = open_memstream(&s->text, &s->len));
  cli_progress_init(&s->p, s->f, tty, width);
}

/* What the display wrote since the last call, as a string; the stream starts again empty. */
static const char *screen_take(struct screen *s)
{
  static char last[8192];

  assert_int_equal(fflush(s->f), 0);
  assert_true(s->len < sizeof(last));
  memcpy(last, s->text, s->len);
  last[s->len] = '\0';
  assert_int_equal(fseek(s->f, 0, SEEK_SET), 0);
  assert_int_equal(fflush(s->f), 0);
  s->len = 0;
  return last;
}

static void screen_close(struct screen *s)
{
  cli_progress_free(&s->p);
  assert_int_equal(fclose(s->f), 0);
  free(s->text);
}

static void show(struct screen *s, const char *id, enum imc_vm_state st,
                 const struct cli_progress_vm *vms, size_t n, unsigned elapsed)
{
  struct imc_err err = {0};

  assert_int_equal(cli_progress_show(&s->p, id, st, vms, n, elapsed, &err), 0);
}

static const struct cli_progress_vm three[] = {
  {0, IMC_VM_RUNNING, "TASK [nginx : install]"},
  {1, IMC_VM_PENDING, NULL},
  {2, IMC_VM_CONFIGURED, NULL},
};

static void test_progress_tty_first_draw_is_header_and_aligned_vm_lines(void **state)
{
  struct screen s;

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "inf-1", IMC_VM_RUNNING, three, 3, 65);
  assert_string_equal(screen_take(&s), "Infrastructure inf-1: running (1m05s)\n"
                                       "  VM 0   running      TASK [nginx : install]\n"
                                       "  VM 1   pending\n"
                                       "  VM 2   configured\n");
  screen_close(&s);
}

static void test_progress_tty_redraw_moves_up_and_clears_each_line(void **state)
{
  struct screen s;
  const struct cli_progress_vm later[] = {{0, IMC_VM_CONFIGURED, NULL}};

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "inf-1", IMC_VM_PENDING, later, 1, 0);
  screen_take(&s);
  show(&s, "inf-1", IMC_VM_CONFIGURED, later, 1, 7);
  assert_string_equal(screen_take(&s), "\r\033[2A"
                                       "\033[2KInfrastructure inf-1: configured (7s)\n"
                                       "\033[2K  VM 0   configured\n");
  screen_close(&s);
}

static void test_progress_tty_redraw_with_fewer_vms_clears_leftover_lines(void **state)
{
  struct screen s;

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "inf-1", IMC_VM_RUNNING, three, 3, 1);
  screen_take(&s);
  show(&s, "inf-1", IMC_VM_RUNNING, three + 2, 1, 2);
  assert_string_equal(screen_take(&s), "\r\033[4A"
                                       "\033[2KInfrastructure inf-1: running (2s)\n"
                                       "\033[2K  VM 2   configured\n"
                                       "\033[J");
  /* The next frame climbs over the two lines now drawn, not the four of before. */
  show(&s, "inf-1", IMC_VM_RUNNING, three + 2, 1, 3);
  assert_non_null(strstr(screen_take(&s), "\r\033[2A"));
  screen_close(&s);
}

static void test_progress_tty_redraw_with_more_vms_adds_lines_and_realigns(void **state)
{
  struct screen s;
  const struct cli_progress_vm more[] = {
    {9, IMC_VM_RUNNING, NULL},
    {10, IMC_VM_UNCONFIGURED, "TASK [x]"},
  };

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "inf-1", IMC_VM_PENDING, NULL, 0, 0);
  assert_string_equal(screen_take(&s), "Infrastructure inf-1: pending (0s)\n");
  show(&s, "inf-1", IMC_VM_RUNNING, more, 2, 3600 + 120 + 9);
  assert_string_equal(screen_take(&s), "\r\033[1A"
                                       "\033[2KInfrastructure inf-1: running (1h02m09s)\n"
                                       "\033[2K  VM 9    running\n"
                                       "\033[2K  VM 10   unconfigured TASK [x]\n");
  screen_close(&s);
}

static void test_progress_tty_cuts_multibyte_text_on_character_boundary(void **state)
{
  struct screen s;
  /* "  VM 0   running      " is 22 columns; then 5 columns of 2-byte letters. */
  const struct cli_progress_vm vm[] = {{0, IMC_VM_RUNNING, "\xc3\xa9\xc3\xa8\xc3\xaa\xc3\xab"}};

  (void)state;
  screen_open(&s, true, 25, false);
  show(&s, "inf-1", IMC_VM_RUNNING, vm, 1, 0);
  assert_string_equal(screen_take(&s), "Infrastructure inf-1: run\n"
                                       "  VM 0   running      \xc3\xa9\xc3\xa8\xc3\xaa\n");
  screen_close(&s);
}

static void test_progress_tty_wide_character_never_crosses_the_edge(void **state)
{
  struct screen s;
  /* Two CJK characters of two columns each: with 3 columns left only one fits. */
  const struct cli_progress_vm vm[] = {{0, IMC_VM_RUNNING, "\xe5\xae\x89\xe8\xa3\x85"}};

  (void)state;
  screen_open(&s, true, 25, false);
  show(&s, "inf-1", IMC_VM_RUNNING, vm, 1, 0);
  assert_string_equal(screen_take(&s), "Infrastructure inf-1: run\n"
                                       "  VM 0   running      \xe5\xae\x89\n");
  screen_close(&s);
}

static void test_progress_tty_strips_escapes_from_id_and_steps(void **state)
{
  struct screen s;
  const struct cli_progress_vm vm[] = {{0, IMC_VM_RUNNING, "\033[2J\033[HTASK\r\n [a]\033]0;t\a"}};

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "in\033[1Af\x7f-1", IMC_VM_RUNNING, vm, 1, 0);
  assert_string_equal(screen_take(&s), "Infrastructure inf-1: running (0s)\n"
                                       "  VM 0   running      TASK [a]\n");
  screen_close(&s);
}

static void test_progress_strips_c1_and_bidi_controls(void **state)
{
  struct screen s;
  /* U+009B is a CSI to some terminals; U+202E reverses what follows; U+009D opens an OSC
   * that U+009C ends. */
  const struct cli_progress_vm vm[] = {{0, IMC_VM_RUNNING,
                                        "a\xc2\x9b"
                                        "31mb\xe2\x80\xae"
                                        "c\xc2\x9d"
                                        "0;x\xc2\x9c"
                                        "d\xc2\x85"}};

  (void)state;
  screen_open(&s, false, 80, false);
  show(&s, "inf-1", IMC_VM_RUNNING, vm, 1, 0);
  assert_string_equal(screen_take(&s), "The infrastructure is in state: running. Wait ...\n"
                                       "VM 0 is in state: running (abcd)\n");
  screen_close(&s);
}

static void test_progress_replaces_invalid_utf8_and_drops_empty_steps(void **state)
{
  struct screen s;
  const struct cli_progress_vm vm[] = {
    {0, IMC_VM_RUNNING,
     "a\xff"
     "b\xc3"},
    {1, IMC_VM_RUNNING, "\033[0m\t"},
  };

  (void)state;
  screen_open(&s, false, 80, false);
  show(&s, "inf-1", IMC_VM_PENDING, vm, 2, 0);
  assert_string_equal(screen_take(&s), "The infrastructure is in state: pending. Wait ...\n"
                                       "VM 0 is in state: running (a\xef\xbf\xbd"
                                       "b\xef\xbf\xbd)\n"
                                       "VM 1 is in state: running\n");
  screen_close(&s);
}

static void test_progress_plain_prints_only_what_changed(void **state)
{
  struct screen s;
  struct cli_progress_vm vms[] = {
    {0, IMC_VM_RUNNING, "TASK [a]"},
    {1, IMC_VM_PENDING, NULL},
  };

  (void)state;
  screen_open(&s, false, 80, false);
  show(&s, "inf-1", IMC_VM_PENDING, vms, 2, 0);
  assert_string_equal(screen_take(&s), "The infrastructure is in state: pending. Wait ...\n"
                                       "VM 0 is in state: running (TASK [a])\n"
                                       "VM 1 is in state: pending\n");
  show(&s, "inf-1", IMC_VM_PENDING, vms, 2, 30);
  assert_string_equal(screen_take(&s), "");
  vms[0].step = "TASK [b]";
  show(&s, "inf-1", IMC_VM_RUNNING, vms, 2, 60);
  assert_string_equal(screen_take(&s), "The infrastructure is in state: running. Wait ...\n"
                                       "VM 0 is in state: running (TASK [b])\n");
  vms[1].state = IMC_VM_RUNNING;
  show(&s, "inf-1", IMC_VM_RUNNING, vms + 1, 1, 90);
  assert_string_equal(screen_take(&s), "VM 1 is in state: running\n");
  screen_close(&s);
}

static void test_progress_plain_final_state_is_left_to_the_caller(void **state)
{
  struct screen s;
  const struct cli_progress_vm vm[] = {{0, IMC_VM_CONFIGURED, NULL}};

  (void)state;
  screen_open(&s, false, 80, true); /* colour is for terminals only, NO_COLOR or not */
  show(&s, "inf-1", IMC_VM_RUNNING, NULL, 0, 0);
  screen_take(&s);
  show(&s, "inf-1", IMC_VM_CONFIGURED, vm, 1, 30);
  assert_string_equal(screen_take(&s), "VM 0 is in state: configured\n");
  screen_close(&s);
}

static void test_progress_plain_cuts_long_steps_on_character_boundary(void **state)
{
  struct screen s;
  char step[CLI_PROGRESS_TEXT_MAX + 8];
  const char *out;
  struct cli_progress_vm vm[] = {{0, IMC_VM_RUNNING, step}};

  (void)state;
  memset(step, 'a', CLI_PROGRESS_TEXT_MAX - 1);
  memcpy(step + CLI_PROGRESS_TEXT_MAX - 1, "\xc3\xa9zz", 5); /* é would end past the limit */
  screen_open(&s, false, 80, false);
  show(&s, "inf-1", IMC_VM_CONFIGURED, vm, 1, 0);
  out = screen_take(&s);
  assert_int_equal(strlen(out),
                   strlen("VM 0 is in state: running ()\n") + CLI_PROGRESS_TEXT_MAX - 1);
  assert_string_equal(out + strlen(out) - 3, "a)\n");
  screen_close(&s);
}

static void test_progress_tty_colours_state_words_unless_no_color(void **state)
{
  struct screen s;
  const struct cli_progress_vm vms[] = {
    {0, IMC_VM_CONFIGURED, NULL},
    {1, IMC_VM_FAILED, NULL},
    {2, IMC_VM_RUNNING, NULL},
  };

  (void)state;
  screen_open(&s, true, 80, true);
  show(&s, "i", IMC_VM_UNCONFIGURED, vms, 3, 0);
  assert_string_equal(screen_take(&s), "Infrastructure i: \033[31munconfigured\033[0m (0s)\n"
                                       "  VM 0   \033[32mconfigured\033[0m\n"
                                       "  VM 1   \033[31mfailed\033[0m\n"
                                       "  VM 2   running\n");
  screen_close(&s);
}

static void test_progress_tty_colour_cut_at_width_is_still_reset(void **state)
{
  struct screen s;

  (void)state;
  screen_open(&s, true, 20, true);
  show(&s, "i", IMC_VM_CONFIGURED, NULL, 0, 0);
  assert_string_equal(screen_take(&s), "Infrastructure i: \033[32mco\033[0m\n");
  screen_close(&s);
  /* No room for the word's first letter: no colour switched on for nothing. */
  screen_open(&s, true, 18, true);
  show(&s, "i", IMC_VM_CONFIGURED, NULL, 0, 0);
  assert_string_equal(screen_take(&s), "Infrastructure i: \n");
  screen_close(&s);
}

static void test_progress_end_leaves_display_and_next_show_starts_below(void **state)
{
  struct screen s;

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "inf-1", IMC_VM_RUNNING, three, 1, 0);
  screen_take(&s);
  cli_progress_end(&s.p);
  assert_string_equal(screen_take(&s), "");
  show(&s, "inf-2", IMC_VM_RUNNING, NULL, 0, 0);
  assert_string_equal(screen_take(&s), "Infrastructure inf-2: running (0s)\n");
  screen_close(&s);
}

static void test_progress_allocation_failures_leave_display_unchanged(void **state)
{
  struct screen s;
  unsigned long n;

  (void)state;
  screen_open(&s, true, 80, false);
  show(&s, "inf-1", IMC_VM_RUNNING, three, 3, 0);
  screen_take(&s);
  for (n = 1;; n++) {
    struct imc_err err = {0};
    int r;

    imc_alloc_fail_at(n);
    r = cli_progress_show(&s.p, "inf-1", IMC_VM_RUNNING, three + 2, 1, 1, &err);
    imc_alloc_fail_at(0);
    if (r == 0)
      break;
    assert_int_equal(r, IMC_E_NOMEM);
    assert_string_equal(err.msg, "out of memory for the progress display");
    assert_string_equal(screen_take(&s), "");
  }
  assert_true(n > 1);
  /* The frame that finally went through climbed over all four lines drawn before. */
  assert_non_null(strstr(screen_take(&s), "\r\033[4A"));
  screen_close(&s);
}

static void test_progress_write_failure_is_io_error(void **state)
{
  struct cli_progress p;
  struct imc_err err = {0};
  FILE *f = fopen("/dev/null", "r");

  (void)state;
  assert_non_null(f);
  cli_progress_init(&p, f, false, 80);
  assert_int_equal(cli_progress_show(&p, "inf-1", IMC_VM_RUNNING, three, 1, 0, &err), IMC_E_IO);
  assert_non_null(strstr(err.msg, "cannot write the progress display"));
  cli_progress_free(&p);
  assert_int_equal(fclose(f), 0);
}

static void test_progress_width_zero_means_eighty_columns(void **state)
{
  struct screen s;
  char id[100];
  const char *out;

  (void)state;
  memset(id, 'x', sizeof(id) - 1);
  id[sizeof(id) - 1] = '\0';
  screen_open(&s, true, 0, false);
  show(&s, id, IMC_VM_RUNNING, NULL, 0, 0);
  out = screen_take(&s);
  assert_int_equal(strlen(out), 81);
  assert_string_equal(out + 79, "x\n");
  screen_close(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_progress_tty_first_draw_is_header_and_aligned_vm_lines),
    cmocka_unit_test(test_progress_tty_redraw_moves_up_and_clears_each_line),
    cmocka_unit_test(test_progress_tty_redraw_with_fewer_vms_clears_leftover_lines),
    cmocka_unit_test(test_progress_tty_redraw_with_more_vms_adds_lines_and_realigns),
    cmocka_unit_test(test_progress_tty_cuts_multibyte_text_on_character_boundary),
    cmocka_unit_test(test_progress_tty_wide_character_never_crosses_the_edge),
    cmocka_unit_test(test_progress_tty_strips_escapes_from_id_and_steps),
    cmocka_unit_test(test_progress_strips_c1_and_bidi_controls),
    cmocka_unit_test(test_progress_replaces_invalid_utf8_and_drops_empty_steps),
    cmocka_unit_test(test_progress_plain_prints_only_what_changed),
    cmocka_unit_test(test_progress_plain_final_state_is_left_to_the_caller),
    cmocka_unit_test(test_progress_plain_cuts_long_steps_on_character_boundary),
    cmocka_unit_test(test_progress_tty_colours_state_words_unless_no_color),
    cmocka_unit_test(test_progress_tty_colour_cut_at_width_is_still_reset),
    cmocka_unit_test(test_progress_end_leaves_display_and_next_show_starts_below),
    cmocka_unit_test(test_progress_allocation_failures_leave_display_unchanged),
    cmocka_unit_test(test_progress_write_failure_is_io_error),
    cmocka_unit_test(test_progress_width_zero_means_eighty_columns),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
