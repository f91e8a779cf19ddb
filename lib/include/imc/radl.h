/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RADL, IM's Resource and Application Description Language: text and JSON readers and
 * writers, IM's validity rules, outports, and the merge rules used when a RADL is added to an
 * existing infrastructure.  Every reader reports "file:line:col: message". */
#ifndef IMC_RADL_H
#define IMC_RADL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "imc/buf.h"
#include "imc/err.h"
#include "imc/model.h"

/* --- reading text -------------------------------------------------------------------- */

/* Receives one warning ("file:line:col: skipped character '\"'"). */
typedef void (*radl_warn_fn)(void *ctx, const char *msg);

/* A value for a parametric `@input.NAME@`. */
struct radl_input {
  const char *name;
  const char *value;
};

struct radl_parse_opts {
  /* Characters IM's lexer skips silently are warnings; with strict they are errors. */
  bool strict;
  /* Substitute `@input.NAME@` from values, as im-client does before it sends a RADL.
   * Off on the server (IM leaves them alone).  A reference with no value is an error. */
  bool inputs;
  const struct radl_input *values;
  size_t nvalues;
  radl_warn_fn warn; /* NULL: warnings go to imc_log at IMC_LOG_WARN */
  void *warn_ctx;
};

/* Parses RADL text (len bytes, no NUL needed).  source names the text in messages (may be
 * NULL).  opts may be NULL for the defaults.  On success *out is a new document the caller
 * frees with imc_doc_free().  A document of only blanks and comments is an empty document.
 * The result is syntactically valid; radl_check() applies IM's validity rules. */
int radl_parse(const char *source, const char *text, size_t len,
               const struct radl_parse_opts *opts, struct imc_doc **out, struct imc_err *err);
/* Reads path (at most IMC_MAX_DOC bytes) and parses it with path as the source. */
int radl_parse_file(const char *path, const struct radl_parse_opts *opts, struct imc_doc **out,
                    struct imc_err *err);

/* A parametric reference found in a text. */
struct radl_input_ref {
  char *name;
  int line, col;
};

/* Lists every distinct `@input.NAME@` of text that values (nvalues of them) does not
 * cover, in order of first appearance.  *out (caller frees with radl_input_refs_free) may be
 * NULL when *nout is 0. */
int radl_inputs_missing(const char *text, size_t len, const struct radl_input *values,
                        size_t nvalues, struct radl_input_ref **out, size_t *nout,
                        struct imc_err *err);
void radl_input_refs_free(struct radl_input_ref *refs, size_t n);

/* --- validity ------------------------------------------------------------------------ */

/* IM's RADL.check(): feature types, operators, values and units; contiguous disk.N and
 * net_interface.N indices; connections to defined networks; deploys and contextualize items
 * naming defined systems and configures; valid YAML recipes; complete ansible hosts.
 * Returns 0 or IMC_E_INVAL with the position of the offending element. */
int radl_check(const struct imc_doc *doc, struct imc_err *err);

/* --- writing ------------------------------------------------------------------------- */

/* The writers append to out and leave it as it was when they fail. */

/* Canonical RADL text: radl_parse() of the output gives a document equal to doc.  A value
 * that cannot be written so that it reads back the same is IMC_E_INVAL. */
int radl_print(const struct imc_doc *doc, struct imc_buf *out, struct imc_err *err);

/* IM's JSON form of RADL (radl_json): a list of objects with a "class".  pretty indents by
 * two spaces with sorted keys, as IM's dump_radl; otherwise one compact line. */
int radl_json_print(const struct imc_doc *doc, bool pretty, struct imc_buf *out,
                    struct imc_err *err);
/* One element alone, as a compact one-item list that radl_json_parse reads back. */
int radl_json_print_elem(const struct imc_elem *e, struct imc_buf *out, struct imc_err *err);
int radl_json_parse(const char *source, const char *text, size_t len, struct imc_doc **out,
                    struct imc_err *err);

/* --- merging (IM's InfrastructureInfo rules) ------------------------------------------- */

/* complete_radl: replaces every bare reference in doc (`system front`) by a copy of the
 * definition stored in stored.  An unknown reference is IMC_E_INVAL. */
int radl_complete(struct imc_doc *doc, const struct imc_doc *stored, struct imc_err *err);

/* update_radl: merges update into stored.  The description is replaced; networks and
 * ansible hosts are added only when new; systems and configures are replaced; contextualize
 * merges; deploys are overwritten when update has any.  The result is checked; on any error
 * stored is left as it was. */
int radl_merge(struct imc_doc *stored, const struct imc_doc *update, struct imc_err *err);

/* --- outports ------------------------------------------------------------------------ */

enum radl_proto { RADL_PROTO_TCP, RADL_PROTO_UDP, RADL_PROTO_ICMP };

/* One item of a network's `outports`: `[CIDR-]PORT[:END][/proto][-LOCAL[/proto]]`. */
struct radl_outport {
  unsigned port_init; /* remote (public) port, or the first port of a range */
  unsigned port_end;  /* local port, or the last port of a range */
  bool is_range;      /* `A:B` */
  enum radl_proto proto;
  char cidr[44];      /* remote CIDR; "" means 0.0.0.0/0 */
};

/* Parses an outports string.  On success *out (caller frees with imc_free) holds *n items. */
int radl_outports_parse(const char *text, struct radl_outport **out, size_t *n,
                        struct imc_err *err);
/* "tcp", "udp", "icmp". */
const char *radl_proto_name(enum radl_proto proto);

/* --- one feature's value, as IM hands it out ------------------------------------------ */

/* IM's getValue() of f as JSON, what GetVMProperty and GET .../vms/N/PROP answer: a number
 * with a unit in base units (an integer stays an integer: 512M is 512000000, 1.5K is
 * 1500.0), a string, a list of strings, and for `contains` an object of the inner features
 * (a range gives its lower bound; a nested `contains` an object by item name).  Bytes that
 * are not UTF-8 become '?'.  Returns a new reference (the caller json_decref()s it), or NULL
 * when out of memory or nested deeper than the parser allows. */
json_t *radl_feature_json(const struct imc_feature *f);

/* Appends Python's str() of v to out, as IM's "%s" prints a getValue() result and
 * im-client prints a property: a string as it is, integers in decimal, reals as
 * radl_float_repr, true/false/null as True/False/None, lists and objects as Python's list
 * and dict (each item as repr(): 'a', "it's", '\n').  Failures stay in out's sticky error
 * (IMC_E_TOOBIG also for a value nested deeper than 64 levels). */
void radl_py_str(const json_t *v, struct imc_buf *out);

/* Python's repr() of a float into out (size bytes, always NUL-terminated; a short buffer
 * gets a prefix; 25 bytes hold any value): the fewest digits that read back as v, "512.0",
 * "0.1", "1e+16", "1e-05", "nan", "inf", "-inf". */
void radl_float_repr(double v, char *out, size_t size);

#endif
