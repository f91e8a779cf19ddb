/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to the REST front end (rest*.c).  The route table is one X-macro list: it feeds
 * the matcher (rest_route.c), the handler table (rest.c) and the test that checks every route
 * against openapi.json (test/integration/test_imcd_rest.py reads REST_ROUTES from this file).
 *
 * Pure parts (no engine, no response): rest_route.c, rest_auth.c, rest_media.c.  The fuzz
 * target drives those alone. */
#ifndef REST_INT_H
#define REST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "imc/auth.h"
#include "imc/engine.h"
#include "imc/err.h"
#include "imc/radl.h"
#include "imcd.h"

/* Routes, in matching order (the first whose pattern and method match wins, so literal
 * segments come before a parameter in the same place):
 *   X(ID, method, pattern, handler, flags)
 * REST_PUBLIC: no Authorization needed.  REST_UNDOC: not an API route but the answer IM gives
 * for an unknown property or operation (after checking the caller's auth); not in
 * openapi.json. */
/* Werkzeug's description of a 404, which IM's error handler sends as the message. */
#define REST_NOT_FOUND_TEXT                                                                \
  "The requested URL was not found on the server. If you entered the URL manually please " \
  "check your spelling and try again."

#define REST_PUBLIC 1u
#define REST_UNDOC  2u
#define REST_NOWAIT 4u /* answered from memory or the store, never from a cloud */

#define REST_ROUTES(X)                                                                         \
  X(INDEX, "GET", "/", rest_get_index, REST_PUBLIC | REST_NOWAIT)                              \
  X(OPENAPI, "GET", "/openapi.json", rest_get_openapi, REST_PUBLIC | REST_NOWAIT)              \
  X(VERSION, "GET", "/version", rest_get_version, REST_PUBLIC | REST_NOWAIT)                   \
  X(METRICS, "GET", "/metrics", rest_get_metrics, REST_PUBLIC | REST_NOWAIT)                   \
  X(STATS, "GET", "/stats", rest_get_stats, REST_NOWAIT)                                       \
  X(CLOUD_IMAGES, "GET", "/clouds/{CloudId}/images", rest_get_cloud_images, 0)                 \
  X(CLOUD_QUOTAS, "GET", "/clouds/{CloudId}/quotas", rest_get_cloud_quotas, 0)                 \
  X(CLOUD_OTHER, "GET", "/clouds/{CloudId}/{Param}", rest_get_cloud_other, REST_UNDOC)         \
  X(INF_LIST, "GET", "/infrastructures", rest_infra_list, REST_NOWAIT)                         \
  X(INF_CREATE, "POST", "/infrastructures", rest_infra_create, 0)                              \
  X(INF_IMPORT, "PUT", "/infrastructures", rest_infra_import, 0)                               \
  X(INF_INFO, "GET", "/infrastructures/{InfId}", rest_infra_info, REST_NOWAIT)                 \
  X(INF_ADD, "POST", "/infrastructures/{InfId}", rest_infra_add, 0)                            \
  X(INF_DESTROY, "DELETE", "/infrastructures/{InfId}", rest_infra_destroy, 0)                  \
  X(INF_CONTMSG, "GET", "/infrastructures/{InfId}/contmsg", rest_infra_contmsg, REST_NOWAIT)   \
  X(INF_RADL, "GET", "/infrastructures/{InfId}/radl", rest_infra_radl, REST_NOWAIT)            \
  X(INF_STATE, "GET", "/infrastructures/{InfId}/state", rest_infra_state, 0)                   \
  X(INF_OUTPUTS, "GET", "/infrastructures/{InfId}/outputs", rest_infra_outputs, REST_NOWAIT)   \
  X(INF_TOSCA, "GET", "/infrastructures/{InfId}/tosca", rest_infra_tosca, REST_NOWAIT)         \
  X(INF_DATA, "GET", "/infrastructures/{InfId}/data", rest_infra_data, 0)                      \
  X(INF_OWNERS, "GET", "/infrastructures/{InfId}/authorization", rest_infra_owners,            \
    REST_NOWAIT)                                                                               \
  X(INF_CHAUTH, "POST", "/infrastructures/{InfId}/authorization", rest_infra_change_auth, 0)   \
  X(INF_PROP_OTHER, "GET", "/infrastructures/{InfId}/{Prop}", rest_infra_prop_other,           \
    REST_UNDOC | REST_NOWAIT)                                                                  \
  X(INF_RECONFIGURE, "PUT", "/infrastructures/{InfId}/reconfigure", rest_infra_reconfigure, 0) \
  X(INF_START, "PUT", "/infrastructures/{InfId}/start", rest_infra_power, 0)                   \
  X(INF_STOP, "PUT", "/infrastructures/{InfId}/stop", rest_infra_power, 0)                     \
  X(INF_REBOOT, "PUT", "/infrastructures/{InfId}/reboot", rest_infra_power, 0)                 \
  X(INF_OP_OTHER, "PUT", "/infrastructures/{InfId}/{Op}", rest_infra_op_other, REST_UNDOC)     \
  X(VM_INFO, "GET", "/infrastructures/{InfId}/vms/{VMId}", rest_vm_info, 0)                    \
  X(VM_ALTER, "PUT", "/infrastructures/{InfId}/vms/{VMId}", rest_vm_alter, 0)                  \
  X(VM_REMOVE, "DELETE", "/infrastructures/{InfId}/vms/{VMId}", rest_vm_remove, 0)             \
  X(VM_CONTMSG, "GET", "/infrastructures/{InfId}/vms/{VMId}/contmsg", rest_vm_contmsg,         \
    REST_NOWAIT)                                                                               \
  X(VM_COMMAND, "GET", "/infrastructures/{InfId}/vms/{VMId}/command", rest_vm_command,         \
    REST_NOWAIT)                                                                               \
  X(VM_PROP, "GET", "/infrastructures/{InfId}/vms/{VMId}/{Property}", rest_vm_property, 0)     \
  X(VM_START, "PUT", "/infrastructures/{InfId}/vms/{VMId}/start", rest_vm_power, 0)            \
  X(VM_STOP, "PUT", "/infrastructures/{InfId}/vms/{VMId}/stop", rest_vm_power, 0)              \
  X(VM_REBOOT, "PUT", "/infrastructures/{InfId}/vms/{VMId}/reboot", rest_vm_power, 0)          \
  X(VM_OP_OTHER, "PUT", "/infrastructures/{InfId}/vms/{VMId}/{Op}", rest_vm_op_other,          \
    REST_UNDOC)                                                                                \
  X(VM_SNAPSHOT, "PUT", "/infrastructures/{InfId}/vms/{VMId}/disks/{DiskNum}/snapshot",        \
    rest_vm_snapshot, 0)

enum rest_route_id {
#define REST_ROUTE_ENUM(id, method, pattern, fn, flags) REST_R_##id,
  REST_ROUTES(REST_ROUTE_ENUM)
#undef REST_ROUTE_ENUM
  REST_NROUTES
};

struct rest_route {
  enum rest_route_id id;
  const char *method;
  const char *pattern;
  unsigned flags;
};

extern const struct rest_route rest_routes[REST_NROUTES];

#define REST_MAX_SEGMENTS 8 /* the longest pattern has 7 */
#define REST_MAX_PARAMS   4 /* {Name} segments in one pattern */

/* Matches method and path (path is split in place: its '/' become NULs, and params point
 * into it).  HEAD matches GET routes.  Returns 0 with *out set; 404 when no pattern matches
 * the path; 405 when patterns match it but not with this method, and then allow (when
 * allow_size > 0) receives their methods, "GET, HEAD, OPTIONS, PUT" style. */
int rest_route_match(const char *method, char *path, const struct rest_route **out,
                     const char *params[REST_MAX_PARAMS], char *allow, size_t allow_size);

/* --- the Authorization header (rest_auth.c) ------------------------------------------------ */

/* IM's header: auth lines joined by the two characters `\n` (a `\\n` inside a value is a
 * newline), or a JSON list; `Basic base64(user:pass)` (an InfrastructureManager entry), or
 * `Bearer TOKEN` (an InfrastructureManager entry with that token).  Appends to *a.
 * IMC_E_AUTH "No authentication data provided" when header is NULL or blank; IMC_E_AUTH
 * with the reason when it cannot be read.  The message never holds a value. */
int rest_auth_parse(const char *header, struct imc_auth *a, struct imc_err *err);

/* Decodes standard base64 (padding required, no white space) into out (caller frees with
 * imc_free_secret; NUL-terminated; *n without the NUL).  IMC_E_INVAL when not base64. */
int rest_base64_decode(const char *in, size_t len, char **out, size_t *n, struct imc_err *err);

/* --- media types, query values (rest_media.c) ---------------------------------------------- */

#define REST_MAX_MEDIA 32 /* media types kept from one header; the rest are ignored */
#define REST_MEDIA_LEN 96 /* longer ones are cut (they match nothing IM knows) */

/* IM's get_media_type: the comma-separated types of a header, parameters dropped, blanks
 * trimmed, the YAML types (text/x-yaml, application/yaml) as text/yaml. */
struct rest_media {
  size_t n;
  char v[REST_MAX_MEDIA][REST_MEDIA_LEN];
};

void rest_media_parse(const char *header, struct rest_media *out);
bool rest_media_has(const struct rest_media *m, const char *type);
/* Python's repr of the list, as IM prints it in messages: "['text/html', 'x/y']". */
void rest_media_repr(const struct rest_media *m, char *out, size_t size);

/* IM's format_output choice for an Accept list and a route's default type. */
enum rest_out { REST_OUT_NONE, REST_OUT_JSON, REST_OUT_DEFAULT };
enum rest_out rest_media_choose(const struct rest_media *accept, const char *default_type);
/* For the JSON-only properties (state, outputs, data, tosca): no Accept, or one that lists
 * application/json, application/ *, or * / *. */
bool rest_media_json_ok(const struct rest_media *accept);

/* How a request body is read, from its Content-Type (IM's order of tests). */
enum rest_body { REST_BODY_RADL, REST_BODY_JSON, REST_BODY_TOSCA, REST_BODY_UNSUPPORTED };
enum rest_body rest_media_body(const struct rest_media *content_type);

/* IM's booleans: yes/no, true/false, 1/0 in any case.  False for anything else. */
bool rest_parse_bool(const char *text, bool *out);
/* Python's int(): blanks around, an optional sign, decimal digits (single '_' between
 * digits allowed).  False when not a number or out of range. */
bool rest_parse_int(const char *text, long long *out);
/* A VM id from a path: a number names a VM; anything else names none, so REST_NO_VM (an id
 * no VM has) lets the engine answer "Invalid VM ID" after checking auth and infrastructure,
 * IM's order. */
#define REST_NO_VM ((unsigned)-1)
unsigned rest_vm_id(const char *text);
/* "1,2,3" as VM ids (each as rest_vm_id, and false for an item that is not a number when
 * strict).  *ids (caller frees with imc_free) may be NULL when *n is 0. */
bool rest_parse_vm_list(const char *text, bool strict, unsigned **ids, size_t *n);
/* IM's filters for GetCloudImageList, "k=v,k2=v2": each item exactly one '='.  Appends one
 * entry to *a.  False when malformed. */
bool rest_parse_filters(const char *text, struct imc_auth *a);
/* IM's dates: Y-M-D or Y/M/D, a real calendar day; out receives "YYYY-MM-DD". */
bool rest_parse_date(const char *text, char out[11]);

/* --- one request (rest.c) ------------------------------------------------------------------ */

struct rest_ctx {
  struct imcd *d;
  const struct imcd_request *rq;
  struct imcd_response *rs;
  const struct rest_route *route;
  const char *params[REST_MAX_PARAMS]; /* the pattern's {Name} values, in order */
  struct imc_auth auth;                /* the caller's; wiped when the request ends */
  struct rest_media accept;
  const char *what; /* IM's prefix of error messages for the route ("Error Getting Inf. info") */
};

typedef void (*rest_fn)(struct rest_ctx *c);

#define REST_ROUTE_DECL(id, method, pattern, fn, flags) void fn(struct rest_ctx *c);
REST_ROUTES(REST_ROUTE_DECL)
#undef REST_ROUTE_DECL

/* --- answers (rest_out.c) ------------------------------------------------------------------ */

/* An error in IM's three shapes (Accept: JSON {"message", "code"}, HTML page, else plain). */
void rest_error(struct rest_ctx *c, unsigned status, const char *fmt, ...) IMC_PRINTF(3, 4);
/* An engine failure: IM's status for err->code and "<what>: <message>". */
void rest_fail(struct rest_ctx *c, const struct imc_err *err);
/* IM's status for an engine code. */
unsigned rest_status_of(enum imc_code code);

/* Picks the answer's shape from Accept (IM's format_output); answers 415 and returns false
 * when nothing fits.  Call it before doing the work. */
bool rest_negotiate(struct rest_ctx *c, const char *default_type, enum rest_out *out);
/* The JSON-only properties' check: 415 and false when Accept excludes JSON. */
bool rest_want_json(struct rest_ctx *c);

void rest_send_text(struct rest_ctx *c, const char *content_type, const char *text, size_t len);
/* Sends v (stolen) as application/json, wrapped as {field: v} when field is not NULL. */
void rest_send_json(struct rest_ctx *c, const char *field, json_t *v);
/* A string in the chosen shape: the text, or {field: text}. */
void rest_send_str(struct rest_ctx *c, enum rest_out how, const char *default_type,
                   const char *field, const char *text);
/* A list of strings: newline-joined, or {field: [{list_field: s}, ...]} (list_field NULL:
 * {field: [s, ...]}). */
void rest_send_list(struct rest_ctx *c, enum rest_out how, const char *default_type,
                    const char *field, const char *list_field, const char *const *v, size_t n);
/* A JSON string of n bytes of s; bytes that are not UTF-8 become '?'.  NULL on no memory. */
json_t *rest_json_str(const char *s, size_t n);
/* Adds a response header; a full table is a 500. */
void rest_header(struct rest_ctx *c, const char *name, const char *value);

/* The forwarding headers of a request (NULL when absent). */
struct rest_forwarded {
  const char *proto, *host, *port, *prefix; /* X-Forwarded-* */
  const char *host_header;                  /* Host */
};

/* The API's root URL as the client reached it, with a trailing '/' (IM's url_root behind
 * ProxyFix: the last X-Forwarded-* values, else Host, else address and port; values that
 * cannot be part of a URL are ignored).  False when it does not fit in size. */
bool rest_url_root(const struct rest_forwarded *f, bool tls, const char *address, long port,
                   char *out, size_t size);

/* URIs: "<url root>infrastructures/ID" and ".../vms/N".  Caller frees. */
char *rest_infra_uri(const struct rest_ctx *c, const char *id);
char *rest_vm_uri(const struct rest_ctx *c, const char *id, unsigned vm);

/* --- request helpers (rest.c) -------------------------------------------------------------- */

/* The operation of a start, stop or reboot route (infrastructure or VM) and IM's name of it. */
enum imc_power rest_power_op(enum rest_route_id route, const char **name);

/* A boolean query argument (def when absent).  Answers 400 "Incorrect value in NAME
 * parameter" and returns false when malformed. */
bool rest_query_bool(struct rest_ctx *c, const char *name, bool def, bool *out);
/* The body as a document, by Content-Type.  Answers 415 (unsupported type, TOSCA) or 400
 * (parse error, with file:line:col) and returns false on failure; *doc caller frees. */
bool rest_body_doc(struct rest_ctx *c, struct imc_doc **doc);

/* The OpenAPI document (generated from server/openapi.json at build time). */
extern const unsigned char rest_openapi_json[];
extern const size_t rest_openapi_json_len;

#endif
