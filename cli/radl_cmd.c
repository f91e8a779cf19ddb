/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `imc radl SUBCOMMAND`: the RADL toolchain on the command line.  One table lists the
 * subcommands with the options each accepts; one option parser serves them all. */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "imc/alloc.h"
#include "imc/radl.h"

/* Bound on what one command writes: canonical text can be longer than what was read. */
#define CLI_MAX_OUT (4u * IMC_MAX_DOC)

enum {
  OPT_STRICT = 1u << 0,
  OPT_INPUT = 1u << 1,
  OPT_WRITE = 1u << 2,
  OPT_PRETTY = 1u << 3,
  OPT_VERBOSE = 1u << 4,
};

/* getopt_long's key for --strict, which has no short form. */
#define KEY_STRICT 256

/* parse_args() answered --help: nothing left to run. */
#define ARGS_HELP (-1)

struct radl_args {
  bool strict, write, pretty, verbose;
  struct radl_input *inputs; /* names owned (imc_strndup), values borrowed from argv */
  size_t ninputs;
  char **files;
  int nfiles;
};

struct radl_sub {
  const char *name;
  int (*run)(const struct radl_args *a);
  unsigned opts;            /* OPT_* this subcommand accepts */
  int min_files, max_files; /* max_files < 0: no limit */
  const char *synopsis;
  const char *summary;
};

static int run_check(const struct radl_args *a);
static int run_fmt(const struct radl_args *a);
static int run_json(const struct radl_args *a);
static int run_fromjson(const struct radl_args *a);
static int run_inputs(const struct radl_args *a);

static const struct radl_sub subs[] = {
  {"check", run_check, OPT_STRICT | OPT_INPUT | OPT_VERBOSE, 1, -1,
   "check [--strict] [-v] [-i NAME=VALUE]... FILE...",
   "parse each FILE and apply IM's validity rules; report the first error of each"},
  {"fmt", run_fmt, OPT_STRICT | OPT_INPUT | OPT_WRITE, 1, 1,
   "fmt [--strict] [-i NAME=VALUE]... [-w] FILE",
   "print FILE as canonical RADL text; with -w, rewrite FILE in place if that differs"},
  {"json", run_json, OPT_STRICT | OPT_INPUT | OPT_PRETTY, 1, 1,
   "json [--pretty] [--strict] [-i NAME=VALUE]... FILE", "print FILE in IM's JSON form"},
  {"fromjson", run_fromjson, 0, 1, 1, "fromjson FILE",
   "read FILE in IM's JSON form and print it as canonical RADL text"},
  {"inputs", run_inputs, 0, 1, 1, "inputs FILE",
   "list every @input.NAME@ of FILE as NAME<TAB>FILE:LINE:COL"},
};

#define NSUBS (sizeof subs / sizeof subs[0])

static const struct {
  unsigned flag;
  const char *spelling;
  const char *help;
} option_help[] = {
  {OPT_STRICT, "    --strict", "characters IM's lexer skips are errors, not warnings"},
  {OPT_INPUT, "-i, --input NAME=VALUE",
   "value for @input.NAME@ (repeatable).  check always\n"
   "substitutes (a reference without a value is an error);\n"
   "fmt and json only when some -i is given"},
  {OPT_WRITE, "-w, --write", "fmt: rewrite FILE in place (atomically, only when it changes)"},
  {OPT_PRETTY, "-p, --pretty", "json: indent by two spaces, keys sorted"},
  {OPT_VERBOSE, "-v, --verbose", "check: print \"FILE: ok\" for each valid file"},
};

static const struct option long_options[] = {
  {"strict", no_argument, NULL, KEY_STRICT},
  {"input", required_argument, NULL, 'i'},
  {"write", no_argument, NULL, 'w'},
  {"pretty", no_argument, NULL, 'p'},
  {"verbose", no_argument, NULL, 'v'},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0},
};

static const char radl_usage[] = "Usage: imc radl check|fmt|json|fromjson|inputs [OPTIONS] FILE\n"
                                 "Run 'imc help radl' for the details.\n";

void cli_radl_help(FILE *f)
{
  fputs("Usage: imc radl SUBCOMMAND [OPTIONS] FILE...\n\nSubcommands:\n", f);
  for (size_t i = 0; i < NSUBS; i++)
    fprintf(f, "  imc radl %s\n      %s\n", subs[i].synopsis, subs[i].summary);
  fputs("\nOptions:\n", f);
  for (size_t i = 0; i < sizeof option_help / sizeof option_help[0]; i++) {
    fprintf(f, "  %-24s ", option_help[i].spelling);
    /* Continuation lines line up under the first line of the text. */
    for (const char *c = option_help[i].help; *c; c++) {
      if (*c == '\n')
        fprintf(f, "\n%27s", "");
      else
        fputc(*c, f);
    }
    fputc('\n', f);
  }
  fputs("\nFILE '-' reads standard input.  Files whose name ends in .json are read as IM's JSON\n"
        "form (no @input substitution there, as im-client).  Errors read FILE:LINE:COL: message.\n"
        "Exit status: 0 success, 1 a file failed, 2 usage error.\n",
        f);
}

/* "Usage: imc radl SYNOPSIS" for one subcommand's usage errors. */
static int sub_usage_error(const struct radl_sub *s, const char *what, const char *arg)
{
  char usage[256];

  snprintf(usage, sizeof usage, "Usage: imc radl %s\n", s->synopsis);
  return cli_usage_error(usage, "radl %s: %s%s", s->name, what, arg ? arg : "");
}

static unsigned option_flag(int key)
{
  static const struct {
    int key;
    unsigned flag;
  } keys[] = {{KEY_STRICT, OPT_STRICT},
              {'i', OPT_INPUT},
              {'w', OPT_WRITE},
              {'p', OPT_PRETTY},
              {'v', OPT_VERBOSE}};

  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (keys[i].key == key)
      return keys[i].flag;
  return 0;
}

static void args_cleanup(struct radl_args *a)
{
  for (size_t i = 0; i < a->ninputs; i++)
    imc_free((char *)a->inputs[i].name);
  imc_free(a->inputs);
  a->inputs = NULL;
  a->ninputs = 0;
}

/* Records `--input NAME=VALUE`; a later value for the same NAME replaces the earlier one. */
static int add_input(struct radl_args *a, const char *arg)
{
  const char *eq = strchr(arg, '=');
  char *name;

  if (!eq || eq == arg)
    return CLI_USAGE;
  name = imc_strndup(arg, (size_t)(eq - arg));
  if (!name) {
    fputs("imc: out of memory\n", stderr);
    return CLI_FAIL;
  }
  for (size_t i = 0; i < a->ninputs; i++) {
    if (strcmp(a->inputs[i].name, name) == 0) {
      imc_free(name);
      a->inputs[i].value = eq + 1;
      return CLI_OK;
    }
  }
  a->inputs[a->ninputs].name = name;
  a->inputs[a->ninputs].value = eq + 1;
  a->ninputs++;
  return CLI_OK;
}

/* Parses the options of subcommand s (argv[0] is its name) into *a.  Returns CLI_OK,
 * ARGS_HELP, or the status to exit with (the message is printed). */
static int parse_args(const struct radl_sub *s, int argc, char **argv, struct radl_args *a)
{
  unsigned flag;
  int c, r;

  /* Every --input needs at most one slot, so argc slots are always enough. */
  a->inputs = imc_calloc((size_t)argc, sizeof *a->inputs);
  if (!a->inputs) {
    fputs("imc: out of memory\n", stderr);
    return CLI_FAIL;
  }
  optind = 0; /* glibc: start over, the dispatcher's getopt state is not ours */
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":i:wpvh", long_options, NULL)) != -1) {
    if (c == 'h') {
      cli_radl_help(stdout);
      return ARGS_HELP;
    }
    if (c == '?' || c == ':') {
      char usage[256];

      snprintf(usage, sizeof usage, "Usage: imc radl %s\n", s->synopsis);
      return cli_option_error(usage, c, argv);
    }
    flag = option_flag(c);
    if (!(s->opts & flag))
      return sub_usage_error(s, "option does not apply here: ", argv[optind - 1]);
    a->strict |= flag == OPT_STRICT;
    a->write |= flag == OPT_WRITE;
    a->pretty |= flag == OPT_PRETTY;
    a->verbose |= flag == OPT_VERBOSE;
    if (flag == OPT_INPUT && (r = add_input(a, optarg)) != CLI_OK)
      return r == CLI_USAGE ? sub_usage_error(s, "--input takes NAME=VALUE, not ", optarg) : r;
  }
  a->files = argv + optind;
  a->nfiles = argc - optind;
  if (a->nfiles < s->min_files)
    return sub_usage_error(s, "no FILE given", NULL);
  if (s->max_files >= 0 && a->nfiles > s->max_files)
    return sub_usage_error(s, "too many files: ", a->files[s->max_files]);
  if (a->write && strcmp(a->files[0], "-") == 0)
    return sub_usage_error(s, "-w cannot rewrite standard input", NULL);
  return CLI_OK;
}

int cli_radl_run(int argc, char **argv)
{
  struct radl_args a = {0};
  const struct radl_sub *s = NULL;
  int r;

  if (argc < 2)
    return cli_usage_error(radl_usage, "radl: no subcommand given");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    cli_radl_help(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < NSUBS && !s; i++)
    if (strcmp(subs[i].name, argv[1]) == 0)
      s = &subs[i];
  if (!s)
    return cli_usage_error(radl_usage, "radl: unknown subcommand '%s'", argv[1]);
  r = parse_args(s, argc - 1, argv + 1, &a);
  if (r == CLI_OK)
    r = s->run(&a);
  else if (r == ARGS_HELP)
    r = CLI_OK;
  args_cleanup(&a);
  return r;
}

/* --- reading documents --------------------------------------------------------------- */

static bool is_json_name(const char *path)
{
  size_t n = strlen(path);

  return n > 5 && strcasecmp(path + n - 5, ".json") == 0;
}

static const char *source_name(const char *path)
{
  return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static void warn_to_stderr(void *ctx, const char *msg)
{
  unsigned *count = ctx;

  (*count)++;
  fprintf(stderr, "%s\n", msg);
}

/* One input document: its bytes and what they parsed to. */
struct radl_src {
  const char *path;
  struct imc_buf text;
  struct imc_doc *doc;
  unsigned warnings;
};

/* Reads and parses src->path.  as_json forces the JSON reader; otherwise a .json name picks
 * it.  inputs says whether `@input.NAME@` references are substituted from a->inputs. */
static int load(const struct radl_args *a, struct radl_src *src, bool as_json, bool inputs,
                struct imc_err *err)
{
  struct radl_parse_opts po = {
    .strict = a->strict,
    .inputs = inputs,
    .values = a->inputs,
    .nvalues = a->ninputs,
    .warn = warn_to_stderr,
    .warn_ctx = &src->warnings,
  };
  const char *name = source_name(src->path);
  int r;

  imc_buf_init(&src->text, IMC_MAX_DOC);
  if ((r = cli_read_input(src->path, &src->text, err)) != 0)
    return r;
  if (as_json || is_json_name(src->path))
    return radl_json_parse(name, imc_buf_cstr(&src->text), src->text.len, &src->doc, err);
  return radl_parse(name, imc_buf_cstr(&src->text), src->text.len, &po, &src->doc, err);
}

static void src_cleanup(struct radl_src *src)
{
  imc_doc_free(src->doc);
  src->doc = NULL;
  imc_buf_free(&src->text);
}

static int report(const struct imc_err *err)
{
  fprintf(stderr, "%s\n", err->msg);
  return CLI_FAIL;
}

/* --- subcommands --------------------------------------------------------------------- */

static int run_check(const struct radl_args *a)
{
  int status = CLI_OK;

  for (int i = 0; i < a->nfiles; i++) {
    struct radl_src src = {.path = a->files[i]};
    struct imc_err err;

    imc_err_clear(&err);
    if (load(a, &src, false, true, &err) != 0 || radl_check(src.doc, &err) != 0)
      status = report(&err);
    else if (a->verbose)
      printf("%s: ok\n", source_name(src.path));
    src_cleanup(&src);
  }
  return status;
}

/* Prints src's document as canonical text, or writes it back to its file (-w). */
static int run_fmt(const struct radl_args *a)
{
  struct radl_src src = {.path = a->files[0]};
  struct imc_buf out;
  struct imc_err err;
  int status = CLI_FAIL;

  imc_err_clear(&err);
  imc_buf_init(&out, CLI_MAX_OUT);
  if (a->write && is_json_name(src.path)) {
    status = cli_usage_error("Usage: imc radl fmt [-w] FILE\n",
                             "radl fmt: -w would turn the JSON file %s into RADL text; "
                             "use 'imc radl fromjson' and a new name",
                             src.path);
    goto out;
  }
  if (load(a, &src, false, a->ninputs > 0, &err) != 0 || radl_print(src.doc, &out, &err) != 0) {
    report(&err);
    goto out;
  }
  if (!a->write) {
    cli_out(imc_buf_cstr(&out), out.len);
    status = CLI_OK;
    goto out;
  }
  /* Skipped characters vanish from the canonical text: rewriting would lose them silently. */
  if (src.warnings > 0) {
    fprintf(stderr, "%s: not rewritten: fix the warnings above first\n", src.path);
    goto out;
  }
  if (out.len == src.text.len && memcmp(imc_buf_cstr(&out), imc_buf_cstr(&src.text), out.len) == 0)
    status = CLI_OK;
  else if (cli_write_atomic(src.path, imc_buf_cstr(&out), out.len, &err) != 0)
    report(&err);
  else
    status = CLI_OK;
out:
  imc_buf_free(&out);
  src_cleanup(&src);
  return status;
}

/* Writes out to stdout, ending it with a newline if it has none. */
static void out_line(const struct imc_buf *out)
{
  cli_out(imc_buf_cstr(out), out->len);
  if (out->len == 0 || out->data[out->len - 1] != '\n')
    cli_out("\n", 1);
}

/* Loads FILE (as JSON when json_in, substituting inputs when substitute) and prints it in IM's
 * JSON form (json_out) or as canonical RADL text. */
static int convert(const struct radl_args *a, bool json_in, bool substitute, bool json_out)
{
  struct radl_src src = {.path = a->files[0]};
  struct imc_buf out;
  struct imc_err err;
  int status = CLI_FAIL;
  int r;

  imc_err_clear(&err);
  imc_buf_init(&out, CLI_MAX_OUT);
  if ((r = load(a, &src, json_in, substitute, &err)) == 0)
    r = json_out ? radl_json_print(src.doc, a->pretty, &out, &err)
                 : radl_print(src.doc, &out, &err);
  if (r != 0) {
    report(&err);
  } else {
    /* JSON is one line with no newline of its own; canonical text ends with one already. */
    if (json_out)
      out_line(&out);
    else
      cli_out(imc_buf_cstr(&out), out.len);
    status = CLI_OK;
  }
  imc_buf_free(&out);
  src_cleanup(&src);
  return status;
}

static int run_json(const struct radl_args *a)
{
  return convert(a, false, a->ninputs > 0, true);
}

static int run_fromjson(const struct radl_args *a)
{
  return convert(a, true, false, false);
}

static int run_inputs(const struct radl_args *a)
{
  struct imc_buf text;
  struct imc_err err;
  struct radl_input_ref *refs = NULL;
  size_t n = 0;
  int status = CLI_FAIL;

  imc_err_clear(&err);
  imc_buf_init(&text, IMC_MAX_DOC);
  if (cli_read_input(a->files[0], &text, &err) != 0 ||
      radl_inputs_missing(imc_buf_cstr(&text), text.len, NULL, 0, &refs, &n, &err) != 0) {
    report(&err);
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    printf("%s\t%s:%d:%d\n", refs[i].name, source_name(a->files[0]), refs[i].line, refs[i].col);
  status = CLI_OK;
out:
  radl_input_refs_free(refs, n);
  imc_buf_free(&text);
  return status;
}
