/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc, the command line: what the dispatcher (main.c) and the command files share. */
#ifndef IMC_CLI_H
#define IMC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "imc/buf.h"
#include "imc/err.h"

/* Exit statuses of every imc command. */
enum cli_status {
  CLI_OK = 0,    /* the operation succeeded */
  CLI_FAIL = 1,  /* the operation failed; the reason is on stderr */
  CLI_USAGE = 2, /* the command line was wrong; message and short usage on stderr */
};

/* One top-level command.  run gets the arguments from the command's name on (argv[0] is the
 * name) and returns an enum cli_status.  help writes the command's full help to f. */
struct cli_cmd {
  const char *name;
  int (*run)(int argc, char **argv);
  void (*help)(FILE *f);
  const char *summary;
};

/* Prints "imc: message" on stderr followed by usage (a short usage text, may be NULL) and
 * returns CLI_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) IMC_PRINTF(2, 3);

/* Reports what getopt_long returned for a bad option (c is '?' or ':', with opterr = 0 and
 * ':' leading the short options) as a usage error. */
int cli_option_error(const char *usage, int c, char **argv);

/* Writes n bytes to stdout.  A write error is reported once, at exit (main.c checks stdout). */
void cli_out(const char *p, size_t n);

/* Reads the whole of path ("-" means standard input) into b, appending.  Errors name the
 * file ("<stdin>" for standard input): IMC_E_IO, IMC_E_TOOBIG past b->max, IMC_E_NOMEM. */
int cli_read_input(const char *path, struct imc_buf *b, struct imc_err *err);

/* Replaces the contents of the existing regular file path (or of the file a symlink there
 * points at) with len bytes of data, atomically: a temporary file in the same directory is
 * written, synced and renamed over it, keeping the file's mode.  On any error the file is
 * left as it was and no temporary file remains. */
int cli_write_atomic(const char *path, const char *data, size_t len, struct imc_err *err);

/* im-client's options, given before the operation (main.c sets them). */
struct cli_global {
  const char *auth_file;          /* -a */
  bool quiet, force, yes, verify; /* -q, -f, -y, -v */
  const char *rest_url;           /* -r: an IM server's REST API */
  const char *xmlrpc_url;         /* -u: an IM server's XML-RPC API */
};
extern struct cli_global cli_global;

/* im-client's operations (ops.c): argv[0] is the operation. */
int cli_local_run(int argc, char **argv);
void cli_local_help(FILE *f);
bool cli_local_has(const char *name);

/* `imc radl ...`: check, fmt, json, fromjson, inputs (radl_cmd.c). */
int cli_radl_run(int argc, char **argv);
void cli_radl_help(FILE *f);

#endif
