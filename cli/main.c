/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc: the dispatcher.  Global options first (imc's own and im-client's), then one command
 * looked up in a table, or one of im-client's operations (local.c); each command parses the
 * rest of the line itself. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef IMC_VERSION
#error "IMC_VERSION is meson's project version; cli/meson.build defines it"
#endif

static int help_run(int argc, char **argv);
static void help_help(FILE *f);

static const struct cli_cmd commands[] = {
  {"radl", cli_radl_run, cli_radl_help, "check, format and convert RADL documents"},
  {"help", help_run, help_help, "show the help of imc or of one command"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char global_usage[] =
  "Usage: imc [--help] [--version] [-a FILE] [-u|-r URL] [-q] [-f] [-y] COMMAND [ARGS...]\n";

static const struct cli_cmd *find_cmd(const char *name)
{
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static void main_help(FILE *f)
{
  fputs(global_usage, f);
  fputs("\nimc is an Infrastructure-as-Code engine that speaks the language of GRyCAP's\n"
        "Infrastructure Manager (RADL).\n\nCommands:\n",
        f);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fputc('\n', f);
  cli_local_help(f);
  fputs("\nGlobal options:\n"
        "  -h, --help     show this help and exit\n"
        "  -V, --version  print imc's version and exit\n"
        "  -a, --auth_file FILE  IM's auth file\n"
        "  -q, --quiet    im-client's quiet output\n"
        "  -f, --force    destroy even when a cloud deletion fails\n"
        "  -y, --yes      destroy without asking\n"
        "  -r, --rest-url URL  an IM server's REST API instead of the local store\n"
        "  -v, --verify-ssl    check the server's TLS certificate\n"
        "  -u, --xmlrpc-url URL  an IM server's XML-RPC API instead of the local store\n"
        "\nRun 'imc help COMMAND' for the options of one command.\n"
        "Exit status: 0 success, 1 the operation failed, 2 usage error.\n",
        f);
}

static void help_help(FILE *f)
{
  fputs("Usage: imc help [COMMAND]\n\n"
        "Without COMMAND, lists imc's commands; with it, shows that command's help.\n",
        f);
}

static int help_run(int argc, char **argv)
{
  const struct cli_cmd *cmd;

  if (argc == 1) {
    main_help(stdout);
    return CLI_OK;
  }
  if (argc > 2)
    return cli_usage_error("Usage: imc help [COMMAND]\n", "help takes at most one command");
  cmd = find_cmd(argv[1]);
  if (!cmd)
    return cli_usage_error(global_usage, "unknown command '%s' (try 'imc help')", argv[1]);
  cmd->help(stdout);
  return CLI_OK;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
  va_list ap;

  fputs("imc: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  if (usage)
    fputs(usage, stderr);
  return CLI_USAGE;
}

int cli_option_error(const char *usage, int c, char **argv)
{
  /* getopt_long has already moved optind past the offending word.  For a long option optopt
   * holds its key, not a character the user typed, so the word itself is shown. */
  const char *word = optind > 0 ? argv[optind - 1] : "?";
  bool is_long = strncmp(word, "--", 2) == 0;

  if (c == ':')
    return cli_usage_error(usage, "option '%s' needs a value", word);
  if (is_long && optopt)
    return cli_usage_error(usage, "option '%s' takes no value", word);
  if (!is_long && optopt > 0 && optopt < 256)
    return cli_usage_error(usage, "unknown option '-%c'", optopt);
  return cli_usage_error(usage, "unknown option '%s'", word);
}

void cli_out(const char *p, size_t n)
{
  if (n)
    fwrite(p, 1, n, stdout);
}

/* A command's output is only complete once it reached its destination: a full disk or a
 * closed pipe must turn success into failure rather than leave a silently cut file. */
static int finish(int status)
{
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "imc: cannot write the output: %s\n", strerror(errno));
    if (status == CLI_OK)
      status = CLI_FAIL;
  }
  return status;
}

int main(int argc, char **argv)
{
  static const struct option options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"auth_file", required_argument, NULL, 'a'},
    {"quiet", no_argument, NULL, 'q'},
    {"force", no_argument, NULL, 'f'},
    {"yes", no_argument, NULL, 'y'},
    {"xmlrpc-url", required_argument, NULL, 'u'},
    {"rest-url", required_argument, NULL, 'r'},
    {"verify-ssl", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
  };
  const struct cli_cmd *cmd;
  int c;

  opterr = 0;
  /* '+': stop at the command's name, so that its options are left for it to parse. */
  while ((c = getopt_long(argc, argv, "+:hVa:qfyu:r:v", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      cli_global.auth_file = optarg;
      break;
    case 'q':
      cli_global.quiet = true;
      break;
    case 'f':
      cli_global.force = true;
      break;
    case 'y':
      cli_global.yes = true;
      break;
    case 'u':
      cli_global.xmlrpc_url = optarg;
      break;
    case 'r':
      cli_global.rest_url = optarg;
      break;
    case 'v':
      cli_global.verify = true;
      break;
    case 'h':
      main_help(stdout);
      return finish(CLI_OK);
    case 'V':
      fputs("imc " IMC_VERSION "\n", stdout);
      return finish(CLI_OK);
    default:
      return cli_option_error(global_usage, c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error(global_usage, "no command given (try 'imc --help')");
  if (cli_local_has(argv[optind]))
    return finish(cli_local_run(argc - optind, argv + optind));
  cmd = find_cmd(argv[optind]);
  if (!cmd)
    return cli_usage_error(global_usage, "unknown command '%s' (try 'imc --help')", argv[optind]);
  return finish(cmd->run(argc - optind, argv + optind));
}
