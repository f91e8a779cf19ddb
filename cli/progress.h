/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The live progress display of `imc create --wait` and `imc wait`: the infrastructure's state
 * and one line per VM, redrawn in place on a terminal, plain lines of what changed otherwise.
 * It writes only to the FILE it is given; the caller polls and sleeps. */
#ifndef IMC_CLI_PROGRESS_H
#define IMC_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "imc/err.h"
#include "imc/vm.h"

/* A server's steps and ids are cut to this many bytes (on a character boundary) before they
 * are shown: IM's step names are short, and a hostile server must not make lines unbounded. */
#define CLI_PROGRESS_TEXT_MAX 512
/* One frame (every line of one call) is built in a buffer of at most this size. */
#define CLI_PROGRESS_FRAME_MAX (16u * 1024 * 1024)

/* A VM as the caller sees it on one poll. */
struct cli_progress_vm {
  unsigned id;
  enum imc_vm_state state;
  const char *step; /* the VM's current contextualization step ("TASK [nginx : install]"),
                     * NULL when none; untrusted text, borrowed for the call only */
};

/* What the display showed last of one VM (the step cleaned, owned by the display). */
struct cli_progress_seen {
  unsigned id;
  enum imc_vm_state state;
  char *step; /* NULL when none */
};

/* Put it on the stack; cli_progress_init, then cli_progress_free. */
struct cli_progress {
  FILE *out;
  bool tty;                       /* redraw in place with escape sequences */
  bool color;                     /* tty and NO_COLOR unset or empty */
  unsigned width;                 /* terminal columns; every TTY line is cut to it */
  size_t lines;                   /* lines the last TTY frame left above the cursor */
  int state;                      /* infrastructure state shown last; -1 before the first */
  struct cli_progress_seen *seen; /* the VMs shown last, in the caller's order */
  size_t nseen;
};

/* Cannot fail and allocates nothing.  tty: out is a terminal (the caller asks isatty).
 * width: its columns (0 when unknown: 80 is used).  Colour is used on a TTY unless the
 * NO_COLOR environment variable is set to a non-empty value (no-color.org). */
void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, unsigned width);

/* Shows the infrastructure's state and its VMs' (vms: n entries, may be NULL when n is 0).
 * elapsed: seconds since the wait began.  infra_id, steps and states come from a server:
 * control characters, escape sequences, C1 and bidirectional controls are removed and bytes
 * that are not UTF-8 become U+FFFD before anything is printed.
 *
 * TTY: the first call draws a header line ("Infrastructure ID: running (1m05s)") and a line
 * per VM ("  VM 0   running      TASK [nginx : install]"), each cut to width columns; later
 * calls move the cursor back over the lines drawn and redraw them, clearing any left over.
 * Not a TTY: no escape sequence; a line only for what changed since the last call:
 * "The infrastructure is in state: running. Wait ..." when the state changed to one im-client
 * waits on (pending, running, unknown; a final state is the caller's result line, as
 * im-client's wait returns it), and "VM 0 is in state: running (TASK [nginx : install])" when
 * a VM is new or its state or step changed (a VM that went away prints nothing).
 *
 * Returns 0; IMC_E_NOMEM or IMC_E_TOOBIG (past CLI_PROGRESS_FRAME_MAX) with nothing written
 * and the display as it was; IMC_E_IO when out fails (the display then counts as drawn). */
int cli_progress_show(struct cli_progress *p, const char *infra_id, enum imc_vm_state state,
                      const struct cli_progress_vm *vms, size_t n, unsigned elapsed,
                      struct imc_err *err);

/* Ends the display: a TTY display is left on screen with the cursor below it, and a later
 * cli_progress_show starts a new one there.  Flushes out. */
void cli_progress_end(struct cli_progress *p);

/* Frees what the display keeps; p may then be initialised again.  NULL is a no-op. */
void cli_progress_free(struct cli_progress *p);

#endif
