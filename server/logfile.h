/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's log file (logfile.c): lines appended, the file rotated at LOG_FILE_MAX_SIZE to .1,
 * .2 and .3, as IM's RotatingFileHandler (backupCount 3). */
#ifndef IMCD_LOGFILE_H
#define IMCD_LOGFILE_H

#include "imc/err.h"

#define LOGFILE_BACKUPS 3

struct logfile;

/* Opens path for appending; max_size 0 never rotates.  IMC_E_IO when it cannot be opened. */
int logfile_open(const char *path, long max_size, struct logfile **out, struct imc_err *err);
/* Appends line and a newline, rotating first when the file would reach max_size (never an
 * empty file).  Safe from any thread. */
void logfile_write(struct logfile *lf, const char *line);
void logfile_close(struct logfile *lf);

#endif
