/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The progress display of `imc create --wait` and `imc wait` (see progress.h).  Each call
 * builds its whole frame in one buffer and writes it at once: a failure leaves the screen and
 * the display's memory as they were, and a terminal never shows half a frame. */
#include "progress.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/utf8.h"

#define DEFAULT_WIDTH 80
#define ESC           0x1B
#define BEL           0x07

/* Colour of a state word on a terminal: the end states the user waits for. */
static const char *const state_color[IMC_VM_NSTATES] = {
  [IMC_VM_CONFIGURED] = "\033[32m",
  [IMC_VM_UNCONFIGURED] = "\033[31m",
  [IMC_VM_FAILED] = "\033[31m",
};
#define COLOR_RESET "\033[0m"

/* The states im-client's wait loop keeps waiting in, and prints "Wait ..." for. */
static const bool state_waits[IMC_VM_NSTATES] = {
  [IMC_VM_PENDING] = true,
  [IMC_VM_RUNNING] = true,
  [IMC_VM_UNKNOWN] = true,
};

struct cp_range {
  uint32_t lo, hi;
};

/* Code points a terminal shows two columns wide (East Asian Wide and Fullwidth, emoji).  The
 * ranges err on the wide side: a line cut a column early is harmless, one that wraps breaks
 * the redraw.  For the same reason every other character counts one column, combining marks
 * included. */
static const struct cp_range wide[] = {
  {0x1100, 0x115F}, {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23F3},   {0x25FD, 0x25FE},
  {0x2600, 0x27BF}, {0x2B1B, 0x2B55},   {0x2E80, 0x303E},   {0x3041, 0xA4CF},   {0xA960, 0xA97F},
  {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},
  {0xFFE0, 0xFFE6}, {0x16FE0, 0x1B2FF}, {0x1F000, 0x1FAFF}, {0x20000, 0x3FFFD},
};

/* Invisible controls that reorder what follows (bidirectional overrides, isolates, marks):
 * text from a server could use them to make a line read differently from what it says. */
static const struct cp_range bidi[] = {
  {0x061C, 0x061C},
  {0x200E, 0x200F},
  {0x202A, 0x202E},
  {0x2066, 0x2069},
};

static bool in_ranges(const struct cp_range *t, size_t n, uint32_t cp)
{
  for (size_t i = 0; i < n; i++)
    if (cp >= t[i].lo && cp <= t[i].hi)
      return true;
  return false;
}

static unsigned cp_cols(uint32_t cp)
{
  return in_ranges(wide, sizeof(wide) / sizeof(wide[0]), cp) ? 2 : 1;
}

static bool cp_is_bidi(uint32_t cp)
{
  return in_ranges(bidi, sizeof(bidi) / sizeof(bidi[0]), cp);
}

/* Bytes of the body of an escape sequence introduced by ESC intro (or by the C1 control
 * intro + 0x40), which start at p: a terminal would swallow them, so they are not text. */
static size_t seq_body(const unsigned char *p, size_t n, unsigned char intro)
{
  size_t i = 0;

  if (intro == '[') { /* CSI: parameters and intermediates, then one final byte */
    while (i < n && p[i] >= 0x20 && p[i] <= 0x3F)
      i++;
    return i < n && p[i] >= 0x40 && p[i] <= 0x7E ? i + 1 : i;
  }
  if (!memchr("]PX^_", intro, 5)) /* OSC, DCS, SOS, PM, APC run to a terminator */
    return 0;
  /* BEL ends it; an ESC (ESC \ is the terminator) or a C1 control (U+009C is) is left to
   * the caller, which drops it as it drops any other. */
  for (; i < n; i++) {
    if (p[i] == BEL)
      return i + 1;
    if (p[i] == ESC || (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F))
      return i;
  }
  return n;
}

/* Bytes of the escape sequence after an ESC at p[-1]. */
static size_t esc_body(const unsigned char *p, size_t n)
{
  size_t i = 1;

  if (n == 0)
    return 0;
  if (p[0] >= 0x40 && p[0] <= 0x5F) /* the 7-bit form of a C1 control */
    return 1 + seq_body(p + 1, n - 1, p[0]);
  if (p[0] >= 0x20 && p[0] <= 0x2F) { /* intermediates, then a final byte */
    while (i < n && p[i] >= 0x20 && p[i] <= 0x2F)
      i++;
    return i < n && p[i] >= 0x30 && p[i] <= 0x7E ? i + 1 : i;
  }
  return p[0] >= 0x30 && p[0] <= 0x7E ? 1 : 0;
}

/* One printable character of untrusted text. */
struct text_char {
  const char *p;
  size_t len;
  uint32_t cp;
};

static uint32_t utf8_decode(const unsigned char *p, size_t len)
{
  uint32_t cp = len == 1 ? p[0] : p[0] & (0x7Fu >> len);

  for (size_t k = 1; k < len; k++)
    cp = (cp << 6) | (p[k] & 0x3Fu);
  return cp;
}

/* The next printable character of s[*i..n), skipping control characters, escape sequences
 * and bidirectional controls; a byte that is not UTF-8 becomes U+FFFD.  False at the end. */
static bool next_char(const char *s, size_t n, size_t *i, struct text_char *c)
{
  const unsigned char *u = (const unsigned char *)s;

  while (*i < n) {
    size_t len = imc_utf8_seq(u + *i, n - *i);
    uint32_t cp;

    if (len == 0) {
      *c = (struct text_char){"\xEF\xBF\xBD", 3, 0xFFFD};
      *i += 1;
      return true;
    }
    cp = utf8_decode(u + *i, len);
    if (cp == ESC)
      *i += 1 + esc_body(u + *i + 1, n - *i - 1);
    else if (cp >= 0x80 && cp <= 0x9F) /* C1 controls: U+009B is a CSI to some terminals */
      *i += len + seq_body(u + *i + len, n - *i - len, (unsigned char)(cp - 0x40));
    else if (cp < 0x20 || cp == 0x7F || cp_is_bidi(cp))
      *i += len;
    else {
      *c = (struct text_char){s + *i, len, cp};
      *i += len;
      return true;
    }
  }
  return false;
}

/* A clean copy of untrusted text s, cut at CLI_PROGRESS_TEXT_MAX bytes on a character
 * boundary; *out NULL when s is NULL or nothing printable is left. */
static int clean_dup(const char *s, char **out)
{
  struct imc_buf b;
  struct text_char c;
  size_t n, i = 0;
  int r;

  *out = NULL;
  if (!s)
    return 0;
  imc_buf_init(&b, CLI_PROGRESS_TEXT_MAX);
  n = strlen(s);
  while (next_char(s, n, &i, &c) && b.len + c.len <= CLI_PROGRESS_TEXT_MAX)
    imc_buf_add(&b, c.p, c.len);
  if ((r = imc_buf_err(&b)) == 0 && b.len > 0 && !(*out = imc_buf_take(&b, NULL)))
    r = IMC_E_NOMEM;
  imc_buf_free(&b);
  return r;
}

static void seen_free(struct cli_progress_seen *seen, size_t n)
{
  if (!seen)
    return;
  for (size_t i = 0; i < n; i++)
    imc_free(seen[i].step);
  imc_free(seen);
}

/* The display's record of this call's VMs (steps cleaned).  *out NULL when n is 0. */
static int seen_new(const struct cli_progress_vm *vms, size_t n, struct cli_progress_seen **out,
                    struct imc_err *err)
{
  struct cli_progress_seen *seen = NULL;
  int r = 0;

  *out = NULL;
  if (n == 0)
    return 0;
  if (!(seen = imc_calloc(n, sizeof(*seen))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory for the progress display");
  for (size_t i = 0; i < n; i++) {
    seen[i].id = vms[i].id;
    seen[i].state = vms[i].state;
    if ((r = clean_dup(vms[i].step, &seen[i].step)) != 0) {
      r = imc_fail(err, r, "out of memory for the progress display");
      goto out;
    }
  }
  *out = seen;
  seen = NULL;
out:
  seen_free(seen, n);
  return r;
}

static const struct cli_progress_seen *seen_find(const struct cli_progress *p, unsigned id)
{
  for (size_t i = 0; i < p->nseen; i++)
    if (p->seen[i].id == id)
      return &p->seen[i];
  return NULL;
}

static bool same_text(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* One terminal line being built: text is added while it fits in width columns. */
struct line {
  struct imc_buf *b;
  unsigned cols, width;
  bool full;
};

static void line_put(struct line *l, const char *s)
{
  struct text_char c;
  size_t n = strlen(s), i = 0;

  while (!l->full && next_char(s, n, &i, &c)) {
    unsigned w = cp_cols(c.cp);

    if (w > l->width - l->cols) {
      l->full = true; /* never half a character, never past the edge */
      break;
    }
    imc_buf_add(l->b, c.p, c.len);
    l->cols += w;
  }
}

static void line_pad(struct line *l, unsigned col)
{
  while (!l->full && l->cols < col)
    line_put(l, " ");
}

/* A state word, in its colour when colour is on and the word's first letter fits (so that a
 * colour is never switched on for nothing). */
static void line_state(struct line *l, enum imc_vm_state s, bool color)
{
  const char *code = (unsigned)s < IMC_VM_NSTATES ? state_color[s] : NULL;
  bool on = color && code && !l->full && l->cols < l->width;

  if (on)
    imc_buf_adds(l->b, code);
  line_put(l, imc_vm_state_name(s));
  if (on)
    imc_buf_adds(l->b, COLOR_RESET);
}

static void line_end(struct line *l)
{
  imc_buf_addc(l->b, '\n');
}

/* The widest state name: the column where steps start. */
static unsigned state_cols(void)
{
  size_t w = 0;

  for (int s = 0; s < IMC_VM_NSTATES; s++) {
    size_t len = strlen(imc_vm_state_name((enum imc_vm_state)s));

    w = len > w ? len : w;
  }
  return (unsigned)w;
}

static unsigned id_cols(const struct cli_progress_seen *vms, size_t n)
{
  unsigned max = 0, cols = 1;

  for (size_t i = 0; i < n; i++)
    max = vms[i].id > max ? vms[i].id : max;
  for (; max >= 10; max /= 10)
    cols++;
  return cols;
}

/* "5s", "1m05s", "2h03m09s". */
static void format_elapsed(char *out, size_t size, unsigned s)
{
  if (s < 60)
    snprintf(out, size, "%us", s);
  else if (s < 3600)
    snprintf(out, size, "%um%02us", s / 60, s % 60);
  else
    snprintf(out, size, "%uh%02um%02us", s / 3600, s / 60 % 60, s % 60);
}

static void draw_header(struct cli_progress *p, struct imc_buf *f, const char *infra_id,
                        enum imc_vm_state state, unsigned elapsed)
{
  struct line l = {.b = f, .width = p->width};
  char text[40];

  line_put(&l, "Infrastructure ");
  line_put(&l, infra_id ? infra_id : "");
  line_put(&l, ": ");
  line_state(&l, state, p->color);
  format_elapsed(text, sizeof(text), elapsed);
  line_put(&l, " (");
  line_put(&l, text);
  line_put(&l, ")");
  line_end(&l);
}

/* "  VM 0   running      TASK [nginx : install]": ids, states and steps each in a column. */
static void draw_vm(struct cli_progress *p, struct imc_buf *f, const struct cli_progress_seen *vm,
                    unsigned idw, unsigned statew)
{
  struct line l = {.b = f, .width = p->width};
  char id[16];

  snprintf(id, sizeof(id), "%u", vm->id);
  line_put(&l, "  VM ");
  line_put(&l, id);
  line_pad(&l, 5 + idw);
  line_put(&l, "   ");
  line_state(&l, vm->state, p->color);
  if (vm->step) {
    line_pad(&l, 5 + idw + 3 + statew);
    line_put(&l, " ");
    line_put(&l, vm->step);
  }
  line_end(&l);
}

static void draw_tty(struct cli_progress *p, struct imc_buf *f, const char *infra_id,
                     enum imc_vm_state state, const struct cli_progress_seen *vms, size_t n,
                     unsigned elapsed)
{
  unsigned idw = id_cols(vms, n), statew = state_cols();
  const char *clear = p->lines > 0 ? "\033[2K" : "";

  /* Back to the first line drawn; each line is cleared before it is written again, since
   * the new text may be shorter. */
  if (p->lines > 0)
    imc_buf_addf(f, "\r\033[%zuA", p->lines);
  imc_buf_adds(f, clear);
  draw_header(p, f, infra_id, state, elapsed);
  for (size_t i = 0; i < n; i++) {
    imc_buf_adds(f, clear);
    draw_vm(p, f, &vms[i], idw, statew);
  }
  /* Fewer lines than last time: the cursor is on the first line left over; clear it and the
   * rest of the screen below it. */
  if (p->lines > n + 1)
    imc_buf_adds(f, "\033[J");
}

static void draw_plain(struct cli_progress *p, struct imc_buf *f, enum imc_vm_state state,
                       const struct cli_progress_seen *vms, size_t n)
{
  if ((int)state != p->state && (unsigned)state < IMC_VM_NSTATES && state_waits[state])
    imc_buf_addf(f, "The infrastructure is in state: %s. Wait ...\n", imc_vm_state_name(state));
  for (size_t i = 0; i < n; i++) {
    const struct cli_progress_seen *old = seen_find(p, vms[i].id);

    if (old && old->state == vms[i].state && same_text(old->step, vms[i].step))
      continue;
    imc_buf_addf(f, "VM %u is in state: %s", vms[i].id, imc_vm_state_name(vms[i].state));
    if (vms[i].step)
      imc_buf_addf(f, " (%s)", vms[i].step);
    imc_buf_addc(f, '\n');
  }
}

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, unsigned width)
{
  const char *no_color = getenv("NO_COLOR");

  *p = (struct cli_progress){
    .out = out,
    .tty = tty,
    .color = tty && !(no_color && *no_color),
    .width = width ? width : DEFAULT_WIDTH,
    .state = -1,
  };
}

int cli_progress_show(struct cli_progress *p, const char *infra_id, enum imc_vm_state state,
                      const struct cli_progress_vm *vms, size_t n, unsigned elapsed,
                      struct imc_err *err)
{
  struct cli_progress_seen *seen = NULL;
  struct imc_buf frame;
  int r;

  imc_buf_init(&frame, CLI_PROGRESS_FRAME_MAX);
  if ((r = seen_new(vms, n, &seen, err)) != 0)
    goto out;
  if (p->tty)
    draw_tty(p, &frame, infra_id, state, seen, n, elapsed);
  else
    draw_plain(p, &frame, state, seen, n);
  if ((r = imc_buf_err(&frame)) == IMC_E_NOMEM) {
    r = imc_fail(err, r, "out of memory for the progress display");
    goto out;
  }
  if (r != 0) {
    r = imc_fail(err, r, "the progress display of %zu VMs is too large", n);
    goto out;
  }
  seen_free(p->seen, p->nseen);
  p->seen = seen;
  p->nseen = n;
  seen = NULL; /* transferred */
  p->state = (int)state;
  p->lines = p->tty ? n + 1 : 0;
  if (frame.len > 0 &&
      (fwrite(frame.data, 1, frame.len, p->out) != frame.len || fflush(p->out) != 0))
    r = imc_fail(err, IMC_E_IO, "cannot write the progress display: %s", strerror(errno));
out:
  seen_free(seen, n);
  imc_buf_free(&frame);
  return r;
}

void cli_progress_end(struct cli_progress *p)
{
  /* Every frame ends with a newline, so the cursor is already below the display: only
   * forget the lines, so that the next frame does not climb over them. */
  p->lines = 0;
  if (p->out)
    fflush(p->out);
}

void cli_progress_free(struct cli_progress *p)
{
  if (!p)
    return;
  seen_free(p->seen, p->nseen);
  p->seen = NULL;
  p->nseen = 0;
}
