/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc: the dispatcher.  Global options first (imc's own and im-client's), then one command
 * looked up in a table, or one of im-client's operations (ops.c); each command parses the
 * rest of the line itself. */
#include "cli.h"

#include <errno.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef IMC_VERSION
#error "IMC_VERSION is meson's project version; cli/meson.build defines it"
#endif

static int help_run(int argc, char **argv);
static void help_help(FILE *f);

static const struct cli_cmd commands[] = {
  {"plan", cli_plan_run, cli_plan_help, "show what a document would create, change or remove"},
  {"radl", cli_radl_run, cli_radl_help, "check, format and convert RADL documents"},
  {"help", help_run, help_help, "show the help of imc or of one command"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char global_usage[] = "Usage: imc [OPTIONS] COMMAND [ARGS...]\n";

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
  fputc('\n', f);
  cli_options_help(f);
  fputs("\nRun 'imc help COMMAND' for the options of one command.\n"
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
  const struct cli_cmd *cmd;
  enum cli_parsed what;
  int at, r;

  if ((r = cli_options_parse(argc, argv, &cli_global, &what, &at)) != CLI_OK)
    return r;
  if (what == CLI_PARSED_HELP) {
    main_help(stdout);
    return finish(CLI_OK);
  }
  if (what == CLI_PARSED_VERSION) {
    fputs("imc " IMC_VERSION "\n", stdout);
    return finish(CLI_OK);
  }
  if (at >= argc)
    return cli_usage_error(global_usage, "no command given (try 'imc --help')");
  if (cli_local_has(argv[at]))
    r = cli_local_run(argc - at, argv + at);
  else if ((cmd = find_cmd(argv[at])))
    r = cmd->run(argc - at, argv + at);
  else
    return cli_usage_error(global_usage, "unknown command '%s' (try 'imc --help')", argv[at]);
  cli_options_free();
  return finish(r);
}
