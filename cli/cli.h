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

/* The options every operation sees (options.c reads them).  Strings are borrowed from argv
 * or owned by options.c (from the configuration file and environment). */
struct cli_global {
  const char *auth_file;          /* -a */
  bool quiet, force, yes, verify; /* -q, -f, -y, -v */
  bool name;                      /* -n: the infrastructure argument is its description's name */
  const char *system_name;        /* -s: getinfo shows only this system's VMs */
  bool json;                      /* --json: machine-readable output */
  bool local;                     /* --local: the local store even when a server is set */
  bool wait;                      /* --wait: create waits until configured */
  bool detach;                    /* --detach: local mode runs the operation in a worker */
  const char *config;             /* -c: im_client.cfg-style file */
  const char *rest_url;           /* -r: an IM server's REST API */
  const char *xmlrpc_url;         /* -u: an IM server's XML-RPC API */
};
extern struct cli_global cli_global;

/* What options.c's parser did: help or version asked, or where the command starts. */
enum cli_parsed { CLI_PARSED_RUN, CLI_PARSED_HELP, CLI_PARSED_VERSION };

/* Parses global options in argv[1..] up to the first word that is not an option (the
 * command); *command receives its index (argc when none).  Options given twice: the last
 * wins.  Returns CLI_OK, or CLI_USAGE after printing the error. */
int cli_options_parse(int argc, char **argv, struct cli_global *g, enum cli_parsed *what,
                      int *command);
/* im-client's options may also follow the operation's name (optparse mixes them with the
 * arguments): parses argv[1..] (argv[0] is the operation), moving the operands to
 * argv[1..*nargs]. */
int cli_options_parse_op(int argc, char **argv, struct cli_global *g, int *nargs);
/* Fills what the command line left unset from the environment (IMC_AUTH_FILE,
 * IMC_XMLRPC_URL, IMC_REST_URL, IMC_CONFIG) and the configuration file (-c, else
 * ~/.imc/imc.cfg; section [im_client]: auth_file, xmlrpc_url, restapi_url).  A server named on
 * the command line hides the others; within one source XML-RPC wins, as in im-client. */
int cli_options_defaults(struct cli_global *g, struct imc_err *err);
/* Frees what cli_options_defaults copied. */
void cli_options_free(void);
/* The global option table's help text. */
void cli_options_help(FILE *f);

/* im-client's operations (ops.c): argv[0] is the operation. */
int cli_local_run(int argc, char **argv);
void cli_local_help(FILE *f);
bool cli_local_has(const char *name);

/* `imc plan [--json] FILE` and `imc plan [--json] INF_ID FILE` (plan_cmd.c). */
int cli_plan_run(int argc, char **argv);
void cli_plan_help(FILE *f);

/* `imc radl ...`: check, fmt, json, fromjson, inputs (radl_cmd.c). */
int cli_radl_run(int argc, char **argv);
void cli_radl_help(FILE *f);

#endif
