/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc's global options: im-client's (-a -u -r -v -f -q -n -s -y, allowed before and after the
 * operation as optparse allows them) and imc's own, then what the environment and the
 * configuration file (im_client.cfg's keys) fill in. */
#include "cli.h"

#include <getopt.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imc/alloc.h"
#include "imc/config.h"

enum { OPT_JSON = 256, OPT_LOCAL, OPT_WAIT, OPT_DETACH };

static const struct option long_options[] = {
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, 'V'},
  {"auth_file", required_argument, NULL, 'a'},
  {"quiet", no_argument, NULL, 'q'},
  {"force", no_argument, NULL, 'f'},
  {"yes", no_argument, NULL, 'y'},
  {"name", no_argument, NULL, 'n'},
  {"system_name", required_argument, NULL, 's'},
  {"xmlrpc-url", required_argument, NULL, 'u'},
  {"rest-url", required_argument, NULL, 'r'},
  {"verify-ssl", no_argument, NULL, 'v'},
  {"config", required_argument, NULL, 'c'},
  {"json", no_argument, NULL, OPT_JSON},
  {"local", no_argument, NULL, OPT_LOCAL},
  {"wait", no_argument, NULL, OPT_WAIT},
  {"detach", no_argument, NULL, OPT_DETACH},
  {NULL, 0, NULL, 0},
};

static const char short_options[] = ":hVa:qfyns:u:r:vc:";

static const char options_usage[] =
  "Usage: imc [OPTIONS] COMMAND [ARGS...]   (imc --help lists them)\n";

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

/* Where each option goes in struct cli_global: a flag set to true, or a text (the option's
 * value). */
static const struct {
  int c;
  size_t at;
  bool text;
} fields[] = {
  {'a', offsetof(struct cli_global, auth_file), true},
  {'q', offsetof(struct cli_global, quiet), false},
  {'f', offsetof(struct cli_global, force), false},
  {'y', offsetof(struct cli_global, yes), false},
  {'n', offsetof(struct cli_global, name), false},
  {'s', offsetof(struct cli_global, system_name), true},
  {'u', offsetof(struct cli_global, xmlrpc_url), true},
  {'r', offsetof(struct cli_global, rest_url), true},
  {'v', offsetof(struct cli_global, verify), false},
  {'c', offsetof(struct cli_global, config), true},
  {OPT_JSON, offsetof(struct cli_global, json), false},
  {OPT_LOCAL, offsetof(struct cli_global, local), false},
  {OPT_WAIT, offsetof(struct cli_global, wait), false},
  {OPT_DETACH, offsetof(struct cli_global, detach), false},
};

/* One option into g; false for a character that is not one of ours. */
static bool apply(struct cli_global *g, int c, const char *arg)
{
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (fields[i].c != c)
      continue;
    if (fields[i].text)
      memcpy((char *)g + fields[i].at, &arg, sizeof arg);
    else
      *((bool *)((char *)g + fields[i].at)) = true;
    return true;
  }
  return false;
}

/* getopt_long over argv with the option string mode + short_options; what and the first
 * operand's index come back. */
static int parse(int argc, char **argv, const char *mode, struct cli_global *g,
                 enum cli_parsed *what)
{
  char shorts[sizeof short_options + 2];
  int c;

  snprintf(shorts, sizeof shorts, "%s%s", mode, short_options);
  opterr = 0;
  optind = 0; /* glibc: 0 starts a fresh scan, so the parser can run more than once */
  *what = CLI_PARSED_RUN;
  while ((c = getopt_long(argc, argv, shorts, long_options, NULL)) != -1) {
    if (c == 'h')
      *what = CLI_PARSED_HELP;
    else if (c == 'V')
      *what = CLI_PARSED_VERSION;
    else if (!apply(g, c, optarg))
      return cli_option_error(options_usage, c, argv);
  }
  return CLI_OK;
}

int cli_options_parse(int argc, char **argv, struct cli_global *g, enum cli_parsed *what,
                      int *command)
{
  /* '+': stop at the command's name, so that a command's own options are left to it. */
  int r = parse(argc, argv, "+", g, what);

  *command = optind;
  return r;
}

int cli_options_parse_op(int argc, char **argv, struct cli_global *g, int *nargs)
{
  enum cli_parsed what;
  int r = parse(argc, argv, "", g, &what); /* GNU getopt moves the operands to the end */

  if (r != CLI_OK)
    return r;
  if (what != CLI_PARSED_RUN)
    return cli_usage_error(options_usage, "--help and --version go before the operation");
  *nargs = argc - optind;
  memmove(argv + 1, argv + optind, (size_t)*nargs * sizeof *argv);
  return CLI_OK;
}

/* --- the environment and the configuration file ------------------------------------------ */

static char *owned[3]; /* what the configuration file gave: freed by cli_options_free */

static const char *env(const char *name)
{
  const char *v = getenv(name);

  return v && *v ? v : NULL;
}

static bool exists(const char *path)
{
  struct stat st;

  return stat(path, &st) == 0;
}

/* The configuration file's auth_file, xmlrpc_url, restapi_url into owned[]. */
static int read_config(const char *path, bool must_exist, struct imc_err *err)
{
  static const char *const keys[] = {"auth_file", "xmlrpc_url", "restapi_url", NULL};

  if (!exists(path))
    return must_exist ? imc_fail(err, IMC_E_NOTFOUND, "%s: no such configuration file", path) : 0;
  return imc_ini_values(path, "im_client", keys, owned, err);
}

int cli_options_defaults(struct cli_global *g, struct imc_err *err)
{
  const char *config = g->config ? g->config : env("IMC_CONFIG"), *home = env("HOME");
  char path[4096];
  int r = 0;

  if (config)
    r = read_config(config, true, err);
  else if (home && (size_t)snprintf(path, sizeof path, "%s/.imc/imc.cfg", home) < sizeof path)
    r = read_config(path, false, err);
  if (r)
    return r;
  if (!g->auth_file)
    g->auth_file = env("IMC_AUTH_FILE") ? env("IMC_AUTH_FILE") : owned[0];
  if (g->xmlrpc_url || g->rest_url)
    return 0; /* a server named on the command line hides the others */
  if ((g->xmlrpc_url = env("IMC_XMLRPC_URL")) || (g->rest_url = env("IMC_REST_URL")))
    return 0;
  if (!(g->xmlrpc_url = owned[1]))
    g->rest_url = owned[2];
  return 0;
}

void cli_options_free(void)
{
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    imc_free(owned[i]);
    owned[i] = NULL;
  }
}

void cli_options_help(FILE *f)
{
  fputs("Options (im-client's may also follow the operation):\n"
        "  -h, --help             show this help and exit\n"
        "  -V, --version          print imc's version and exit\n"
        "  -a, --auth_file FILE   IM's auth file\n"
        "  -u, --xmlrpc-url URL   an IM server's XML-RPC API instead of the local store\n"
        "  -r, --rest-url URL     an IM server's REST API instead of the local store\n"
        "  -v, --verify-ssl       check the server's TLS certificate\n"
        "  -q, --quiet            im-client's quiet output\n"
        "  -f, --force            destroy even when a cloud deletion fails\n"
        "  -y, --yes              destroy without asking\n"
        "  -n, --name             the infrastructure argument is its description's name\n"
        "  -s, --system_name NAME getinfo: only the VMs of that system\n"
        "  -c, --config FILE      im_client.cfg-style file (default ~/.imc/imc.cfg)\n"
        "      --json             machine-readable output\n"
        "      --local            the local store even when a server is configured\n"
        "      --wait             create: wait until configured, showing progress\n"
        "      --detach           local mode: run create/addresource/destroy in a worker\n"
        "Environment: IMC_AUTH_FILE, IMC_XMLRPC_URL, IMC_REST_URL, IMC_CONFIG, IMC_DATA_DIR.\n",
        f);
}
