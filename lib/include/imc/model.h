/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The description of an infrastructure, as RADL and TOSCA readers produce it and the
 * engine consumes it.  It follows IM's RADL model: elements (description, network, system,
 * ansible) carry features; a feature is name, operator and value (number with optional unit,
 * string, string list, or nested features for `contains`); numeric features on the same name
 * narrow an interval; `soft W (...)` groups are optional constraints. */
#ifndef IMC_MODEL_H
#define IMC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imc/err.h"
#include "imc/index.h"

struct imc_pos {
  int line, col; /* 1-based; 0 when the element did not come from text */
};

enum imc_op { IMC_OP_EQ, IMC_OP_LT, IMC_OP_GT, IMC_OP_LE, IMC_OP_GE, IMC_OP_CONTAINS, IMC_OP_SOFT };

/* "=", "<", ">", "<=", ">=", "contains", "soft". */
const char *imc_op_text(enum imc_op op);

enum imc_vtype { IMC_V_NUM, IMC_V_STR, IMC_V_LIST, IMC_V_FEATURES };

/* A number as written: RADL keeps integers and decimals apart (`2` vs `2.0`). */
struct imc_num {
  bool is_float;
  int64_t i; /* when !is_float */
  double f;  /* when is_float */
};

double imc_num_value(struct imc_num n);
bool imc_num_equal(struct imc_num a, struct imc_num b);

/* The multiplier of a size unit, as IM's UnitToValue: case-insensitive, an optional trailing
 * "B"; K M G T are powers of 1000, Ki Mi Gi Ti powers of 1024; "" and "B" are 1.
 * Returns false (and *factor = 1) for a unit it does not know. */
bool imc_unit_factor(const char *unit, double *factor);

struct imc_features;

struct imc_feature {
  char *name;        /* NULL for a soft group */
  enum imc_op op;    /* IMC_OP_SOFT for a soft group */
  enum imc_vtype type;
  struct imc_num num; /* IMC_V_NUM value; the weight of a soft group */
  char *unit;         /* IMC_V_NUM only; as written ("M", "GB", "Gi"); NULL when none */
  char *str;          /* IMC_V_STR */
  char **list;        /* IMC_V_LIST: nlist strings */
  size_t nlist;
  struct imc_features *sub; /* IMC_V_FEATURES: inner features of `contains` / `soft` */
  struct imc_pos pos;       /* where the feature's name starts */
};

/* Returns a zeroed feature with a copy of name (name may be NULL), or NULL. */
struct imc_feature *imc_feature_new(const char *name, enum imc_op op, enum imc_vtype type);
void imc_feature_free(struct imc_feature *f);
struct imc_feature *imc_feature_clone(const struct imc_feature *f);
/* The value converted to unit (NULL or "" = base units), as IM's getValue(unit). */
double imc_feature_num_in(const struct imc_feature *f, const char *unit);
/* Same name, operator and value (numbers compared after unit conversion). */
bool imc_feature_equal(const struct imc_feature *a, const struct imc_feature *b);

/* How features on the same name combine. */
enum imc_prop_kind {
  IMC_PROP_VALUE,    /* string or list: one feature */
  IMC_PROP_RANGE,    /* number: [lo, hi], either bound may be NULL, not both */
  IMC_PROP_CONTAINS, /* `contains (...)`: one item per inner `name`, in order */
  IMC_PROP_SOFT,     /* soft groups, in order; name is NULL */
};

struct imc_prop {
  enum imc_prop_kind kind;
  char *name;
  struct imc_feature *value;  /* VALUE */
  struct imc_feature *lo, *hi; /* RANGE: owned separately; `=` sets both to equal copies */
  struct imc_feature **items; /* CONTAINS, SOFT */
  size_t nitems, cap_items;
  struct imc_index item_index; /* CONTAINS: items by inner `name` */
};

struct imc_features {
  struct imc_prop *props; /* in order of first appearance */
  size_t nprops, cap_props;
  struct imc_index index; /* props by name (the soft prop under NULL) */
};

/* What to do when a new feature disagrees with one already set (IM's `conflict`), and when
 * it names a property not set yet (IM's `missing`). */
enum imc_policy { IMC_POLICY_ERROR, IMC_POLICY_IGNORE, IMC_POLICY_ME, IMC_POLICY_OTHER };

void imc_features_init(struct imc_features *fs);
void imc_features_cleanup(struct imc_features *fs);
struct imc_features *imc_features_new(void);
void imc_features_free(struct imc_features *fs);
int imc_features_copy(struct imc_features *dst, const struct imc_features *src);
bool imc_features_equal(const struct imc_features *a, const struct imc_features *b);

/* Adds f, taking ownership of it whatever the outcome.  Numbers narrow the interval of their
 * name (disjoint intervals conflict); strings and lists conflict when they differ;
 * `contains` merges into the item with the same inner `name`; soft groups are appended.
 * On a conflict with policy ERROR: IMC_E_INVAL with "file:line:col: ..." (file may be NULL). */
int imc_features_add(struct imc_features *fs, struct imc_feature *f, enum imc_policy conflict,
                     enum imc_policy missing, const char *file, struct imc_err *err);
/* Adds a copy of every feature of src (soft groups included) with the same policies. */
int imc_features_apply(struct imc_features *fs, const struct imc_features *src,
                       enum imc_policy conflict, enum imc_policy missing, const char *file,
                       struct imc_err *err);

/* Lookup.  All results are borrowed. */
const struct imc_prop *imc_features_prop(const struct imc_features *fs, const char *name);
/* The single feature of a VALUE prop, or the lower (else upper) bound of a RANGE. */
const struct imc_feature *imc_features_get(const struct imc_features *fs, const char *name);
/* The string value, or NULL when absent or not a string. */
const char *imc_features_str(const struct imc_features *fs, const char *name);
/* The numeric value converted to unit (as imc_features_get picks it); false when absent. */
bool imc_features_num(const struct imc_features *fs, const char *name, const char *unit,
                      double *out);

/* Setters replace whatever the name had (IM's setValue).  0 or IMC_E_NOMEM. */
int imc_features_set_str(struct imc_features *fs, const char *name, const char *value);
int imc_features_set_num(struct imc_features *fs, const char *name, struct imc_num value,
                         const char *unit);
void imc_features_del(struct imc_features *fs, const char *name);

/* --- Document elements --------------------------------------------------------------- */

enum imc_elem_kind { IMC_ELEM_DESCRIPTION, IMC_ELEM_NETWORK, IMC_ELEM_SYSTEM, IMC_ELEM_ANSIBLE };

/* "description", "network", "system", "ansible": the RADL keyword and the JSON class. */
const char *imc_elem_kind_name(enum imc_elem_kind kind);

/* A description, network, system or ansible host. */
struct imc_elem {
  enum imc_elem_kind kind;
  char *id;
  bool reference; /* a bare `system front`: refers to an element defined elsewhere */
  struct imc_features feats;
  struct imc_pos pos; /* of the keyword */
};

struct imc_elem *imc_elem_new(enum imc_elem_kind kind, const char *id);
void imc_elem_free(struct imc_elem *e);
struct imc_elem *imc_elem_clone(const struct imc_elem *e);
bool imc_elem_equal(const struct imc_elem *a, const struct imc_elem *b);

struct imc_configure {
  char *id;
  bool reference; /* bare `configure X` */
  char *recipe;   /* text between @begin and @end; NULL for `configure X ()` */
  struct imc_pos pos;
  struct imc_pos recipe_pos; /* first line of the recipe text */
};

struct imc_configure *imc_configure_new(const char *id);
void imc_configure_free(struct imc_configure *c);
struct imc_configure *imc_configure_clone(const struct imc_configure *c);

struct imc_ctxt_item {
  char *system, *configure; /* the item's key is the pair */
  struct imc_num step;      /* 0 when not given */
  char *tool;               /* `with TOOL`; NULL means Ansible */
  struct imc_pos pos;
};

struct imc_ctxt {
  bool present;             /* a contextualize sentence was given (`contextualize ()` too) */
  struct imc_num max_time;  /* 0 when not given */
  struct imc_ctxt_item **items;
  size_t nitems, cap_items;
  struct imc_feature **options; /* `option NAME op VALUE`, one per name */
  size_t noptions, cap_options;
  struct imc_pos pos;
  struct imc_index item_index, option_index; /* by (system, configure) and by name */
};

void imc_ctxt_init(struct imc_ctxt *c);
void imc_ctxt_cleanup(struct imc_ctxt *c);
/* IM's contextualize.update: max_time = max; items and options replace those with the same
 * key in place and append new ones.  src is copied. */
int imc_ctxt_merge(struct imc_ctxt *dst, const struct imc_ctxt *src);
/* Adds item (owned from now on), replacing one with the same (system, configure) in place. */
int imc_ctxt_add_item(struct imc_ctxt *c, struct imc_ctxt_item *item);
/* Adds option (owned from now on), replacing one with the same name in place. */
int imc_ctxt_add_option(struct imc_ctxt *c, struct imc_feature *option);
void imc_ctxt_item_free(struct imc_ctxt_item *item);

struct imc_deploy {
  char *system;
  struct imc_num count;
  char *cloud; /* an auth `id`; NULL when not pinned */
  struct imc_pos pos;
};

void imc_deploy_free(struct imc_deploy *d);
/* A copy of d, or NULL. */
struct imc_deploy *imc_deploy_clone(const struct imc_deploy *d);

/* A whole RADL document.  Printing order: description, ansible hosts, networks, systems,
 * configures, contextualize, deploys (IM's order). */
struct imc_doc {
  char *source; /* name used in messages ("recipe.radl"); may be NULL */
  struct imc_elem *description;
  struct imc_elem **ansibles;
  size_t nansibles, cap_ansibles;
  struct imc_elem **networks;
  size_t nnetworks, cap_networks;
  struct imc_elem **systems;
  size_t nsystems, cap_systems;
  struct imc_configure **configures;
  size_t nconfigures, cap_configures;
  struct imc_deploy **deploys; /* several deploys of one system are allowed */
  size_t ndeploys, cap_deploys;
  struct imc_ctxt ctxt;
  /* Lookups by id; maintained by the imc_doc_add_* functions. */
  struct imc_index ansible_index, network_index, system_index, configure_index;
};

/* What to do when an element with the same id is already in the document. */
enum imc_ifpresent { IMC_IFPRESENT_ERROR, IMC_IFPRESENT_REPLACE, IMC_IFPRESENT_IGNORE };

/* Returns an empty document (source copied, may be NULL), or NULL. */
struct imc_doc *imc_doc_new(const char *source);
void imc_doc_free(struct imc_doc *doc);
struct imc_doc *imc_doc_clone(const struct imc_doc *doc);
/* Same elements in the same order with equal contents; positions and source ignored. */
bool imc_doc_equal(const struct imc_doc *a, const struct imc_doc *b);
/* True when the document defines nothing at all. */
bool imc_doc_empty(const struct imc_doc *doc);

/* Adds e (owned from now on, freed on error or when ignored).  REPLACE puts the new element
 * at the end, as IM does.  A second description with ERROR: "Description can only be
 * defined once"; a duplicate id: "... defined twice".  *added (may be NULL) says whether e
 * went in. */
int imc_doc_add_elem(struct imc_doc *doc, struct imc_elem *e, enum imc_ifpresent ifpresent,
                     bool *added, struct imc_err *err);
int imc_doc_add_configure(struct imc_doc *doc, struct imc_configure *c,
                          enum imc_ifpresent ifpresent, bool *added, struct imc_err *err);
int imc_doc_add_deploy(struct imc_doc *doc, struct imc_deploy *d, struct imc_err *err);

/* Lookup by id; borrowed, NULL when absent. */
struct imc_elem *imc_doc_network(const struct imc_doc *doc, const char *id);
struct imc_elem *imc_doc_system(const struct imc_doc *doc, const char *id);
struct imc_elem *imc_doc_ansible(const struct imc_doc *doc, const char *id);
struct imc_configure *imc_doc_configure(const struct imc_doc *doc, const char *id);

#endif
