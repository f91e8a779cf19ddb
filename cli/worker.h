/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Long operations in local mode: Ctrl-C that never cuts a write in half, and --detach's
 * background worker.  The engine runs in this process, so leaving it mid-step would leave work
 * half done; instead the first interrupt asks the operation to end at its next safe point and
 * the second leaves at once (the store is then as after any crash: consistent). */
#ifndef IMC_CLI_WORKER_H
#define IMC_CLI_WORKER_H

#include <stdbool.h>

/* Takes SIGINT, SIGTERM and SIGHUP for the rest of the process. */
void cli_interrupt_arm(void);
/* Whether an interrupt came since cli_interrupt_arm. */
bool cli_interrupted(void);

/* --detach: forks a worker that goes on alone (its own session, its output in log_path once it
 * has answered).  In the worker, returns -1 and *verdict_fd is the pipe cli_detach_answer
 * writes to.  In the caller, waits for the worker's answer and returns the exit status to end
 * with (1 when no worker could start, or it died before answering). */
int cli_detach(const char *log_path, int *verdict_fd);
/* In the worker: hands status to the waiting caller, then sends this process's standard
 * streams to the log (stdin from /dev/null) so that closing the terminal changes nothing. */
void cli_detach_answer(int verdict_fd, int status, const char *log_path);

#endif
