/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The contextualizer's inside: an SSH client (ssh_conn.c), the Ansible inventory
 * (ctxt_inventory.c), the playbooks (ctxt_playbook.c) and the ansible-playbook runner
 * (ctxt_run.c).  ctxt_driver.c puts them together behind struct imc_contextualizer.
 *
 * Ansible runs on this host against every VM (no master VM, nothing installed on the VMs): the
 * inventory and playbooks are written into one 0700 directory per run and removed after it. */
#ifndef IMC_CTXT_INT_H
#define IMC_CTXT_INT_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "imc/buf.h"
#include "imc/err.h"
#include "imc/model.h"

/* --- ssh_conn.c: libssh client ---------------------------------------------------------- */

#define SSH_CONN_MAX_OUTPUT (1024u * 1024) /* what ssh_conn_exec keeps of a command's output */

struct ssh_target {
  const char *host;
  int port; /* 0: 22 */
  const char *user;
  const char *key;         /* private key text (OpenSSH or PEM), or NULL */
  const char *password;    /* used when key is NULL or refused; may be NULL */
  const char *known_hosts; /* the infrastructure's file: a key is recorded at first contact */
  int timeout;             /* seconds for the connection and for each exec; 0: 30 */
  const struct ssh_target *proxy; /* a bastion to go through (direct-tcpip), or NULL */
};

struct ssh_conn;

/* Connects, checks the host key against t->known_hosts (records it when the host is not
 * there yet) and authenticates.  Errors: IMC_E_IO (cannot connect; retry set), IMC_E_AUTH
 * (host key changed, or credentials refused), IMC_E_TIMEOUT, IMC_E_NOMEM.  Messages name the
 * host and port, never a credential.  Caller closes *out with ssh_conn_close(). */
int ssh_conn_open(const struct ssh_target *t, struct ssh_conn **out, struct imc_err *err);
void ssh_conn_close(struct ssh_conn *c);
/* Runs cmd; *status is its exit status; stdout then stderr are appended to out (may be NULL)
 * up to out->max (IMC_E_TOOBIG past it, the command still waited for). */
int ssh_conn_exec(struct ssh_conn *c, const char *cmd, int *status, struct imc_buf *out,
                  struct imc_err *err);
/* A command with more to it than ssh_conn_exec's: input, a deadline, streamed output. */
struct ssh_exec {
  const char *cmd;
  const char *input; /* sent to its standard input, then the end of it; NULL: none */
  size_t input_len;
  double deadline;           /* ctxt_now() seconds; 0: the connection's timeout from now */
  const atomic_bool *cancel; /* may be NULL: set means stop waiting */
  /* Each piece of output as it comes (stdout and stderr), or NULL: kept in out (may be NULL). */
  void (*output)(void *ctx, const char *text, size_t n);
  void *ctx;
  struct imc_buf *out;
};
/* Runs x->cmd; *status is its exit status (-1 when it did not end).  Errors: IMC_E_IO,
 * IMC_E_TIMEOUT (deadline passed, or cancelled: the command may still run there). */
int ssh_conn_run(struct ssh_conn *c, const struct ssh_exec *x, int *status, struct imc_err *err);
/* One bounded "is SSH up" look: connect, authenticate, run `true`, close. */
int ssh_probe(const struct ssh_target *t, struct imc_err *err);

/* IM's network `proxy_host`: "user:pass@host:port" (user, pass and port optional).  The
 * pieces are new strings in *out (free with ssh_proxy_cleanup). */
struct ssh_proxy {
  char *user, *password, *host;
  int port;
};
int ssh_proxy_parse(const char *text, struct ssh_proxy *out, struct imc_err *err);
void ssh_proxy_cleanup(struct ssh_proxy *p);

/* --- the nodes an inventory describes --------------------------------------------------- */

struct ctxt_disk {
  unsigned n; /* disk.N */
  const char *device, *fstype, *mount_path;
};

/* One network interface (net_interface.N): IM_NODE_NET_N_* */
struct ctxt_iface {
  const char *ip;                /* NULL when none */
  const char *hostname, *domain; /* from its dns_name; NULL when it has none */
};

struct ctxt_proxy {
  const char *host, *user;
  const char *key_file;      /* a 0600 file with proxy_key, or NULL */
  const char *password_file; /* a 0600 file with the proxy's password (for sshpass), or NULL */
  int port;
};

struct ctxt_node {
  unsigned vmid;
  const char *name;                   /* inventory host name, unique (set by ctxt_nodes_name) */
  const char *system;                 /* the system the VM was deployed from: its inventory group */
  const char *hostname, *domain;      /* from net_interface.0.dns_name; domain may be "" */
  const char *private_ip, *public_ip; /* NULL when none */
  const char *address;                /* where SSH goes: the public IP, else the private one */
  int port;                           /* 0: 22 */
  const char *user;
  const char *key_file;           /* a 0600 file with the private key, or NULL */
  const char *password;           /* NULL when key_file is set */
  const struct ctxt_proxy *proxy; /* NULL: reached directly */
  const char *cloud_type;
  unsigned num; /* IM_NODE_NUM: index among the VMs of its system */
  const struct ctxt_disk *disks;
  size_t ndisks;
  const struct ctxt_iface *ifaces; /* net_interface.0, .1, ... */
  size_t nifaces;
  const char *new_password;   /* disk.0.os.credentials.new.password, or NULL */
  const char *new_public_key; /* disk.0.os.credentials.new.public_key, or NULL */
};

struct ctxt_infra {
  const char *id;
  const char *known_hosts; /* absolute path */
  const char *facts_dir;   /* absolute path of Ansible's fact cache */
  const char *control_dir; /* ssh's ControlPath directory; NULL: the run directory's cp */
  bool have_sshpass;       /* passwords usable by Ansible (sshpass installed) */
  const struct ctxt_node *nodes;
  size_t n;
  size_t master; /* index of the master node (the first VM): IM_MASTER_* */
};

/* --- ctxt_inventory.c ------------------------------------------------------------------ */

#define CTXT_MAX_INVENTORY (4u * 1024 * 1024)

/* The INI inventory: one group per system, each host with its connection variables and IM's
 * IM_NODE_* variables, the IM_MASTER_* and IM_INFRASTRUCTURE_ID ones under [all:vars].
 * Appends to out.  Errors: IMC_E_INVAL (a node with a password and no sshpass), IMC_E_NOMEM,
 * IMC_E_TOOBIG. */
int ctxt_inventory(const struct ctxt_infra *inf, struct imc_buf *out, struct imc_err *err);
/* Appends s as one word for a POSIX shell or shlex: single quotes, ' written as '\''. */
void ctxt_sh_quote(struct imc_buf *out, const char *s);
/* Appends value quoted for an INI inventory line so that Ansible reads it back as this very
 * string (shlex quoting around a Python string literal). */
void ctxt_ini_value(struct imc_buf *out, const char *value);

/* --- ctxt_playbook.c ------------------------------------------------------------------- */

/* Appends s as a YAML double-quoted scalar. */
void ctxt_yaml_quote(struct imc_buf *out, const char *s);

#define CTXT_MAX_PLAYBOOK (16u * 1024 * 1024)

/* One configure to run on the VMs of one system. */
struct ctxt_play {
  const char *configure, *system; /* borrowed from the document */
};

struct ctxt_step {
  double step;
  struct ctxt_play *plays; /* in the order of the contextualize items */
  size_t n, cap;
};

struct ctxt_steps {
  struct ctxt_step *v; /* ascending step numbers */
  size_t n, cap;
};

/* The user steps of doc for the systems that have VMs (systems[nsystems]): the Ansible items
 * of its contextualize sentence grouped by step, or, with no item at all, every configure
 * named like a system at one step.  A configure without a recipe (`configure X ()`) is left
 * out.  Free with ctxt_steps_free. */
int ctxt_steps_plan(const struct imc_doc *doc, const char *const *systems, size_t nsystems,
                    struct ctxt_steps *out, struct imc_err *err);
void ctxt_steps_free(struct ctxt_steps *s);
/* True when doc turns contextualization off for system (`configure SYSTEM ()`). */
bool ctxt_system_disabled(const struct imc_doc *doc, const char *system);

/* ansible.cfg for a run in dir (the inventory at dir/hosts). */
int ctxt_ansible_cfg(const struct ctxt_infra *inf, const char *dir, struct imc_buf *out,
                     struct imc_err *err);
/* IM's basic step for every node: hostname, /etc/hosts, data disks. */
int ctxt_basic_playbook(const struct ctxt_infra *inf, struct imc_buf *out, struct imc_err *err);
/* The playbook of one user step from its play `from` on: one play per (configure, system),
 * each behind a marker play "imc: play P" (ctxt_play_marker).  A recipe that is a task list is
 * included from `<configure>.yml`; a recipe that is a playbook is imported from
 * `<configure>_<system>.yml` (ctxt_recipe_file gives each file's text). */
int ctxt_step_playbook(const struct imc_doc *doc, const struct ctxt_step *step, size_t from,
                       struct imc_buf *out, struct imc_err *err);
/* P for a "PLAY [imc: play P]" line, -1 for any other line. */
long ctxt_play_marker(const char *line, size_t n);
/* The file a play of a step needs: its name (new string) and text (appended to out).  A task
 * list is written as given; a playbook gets `hosts: <system>` in each play. */
int ctxt_recipe_file(const struct imc_doc *doc, const struct ctxt_play *play, char **name,
                     struct imc_buf *out, struct imc_err *err);
/* The credential changes asked for (new.password, new.public_key), as the last step; *any is
 * false (and out untouched) when no node asks for one. */
int ctxt_creds_playbook(const struct ctxt_infra *inf, bool *any, struct imc_buf *out,
                        struct imc_err *err);

/* One part of a run: the basic step, a user step or the credential changes. */
struct ctxt_part {
  const char *label;             /* "basic", the step number, "credentials" */
  const char *file;              /* its playbook, in the run directory */
  const struct ctxt_step *step;  /* a user step's plays; NULL for the others */
  bool *which;                   /* per node: the part has a play for it */
};

/* site.yml: parts[from..to-1] in order, each behind a marker play named
 * "imc: part K, step LABEL", then the end marker "imc: part TO, end" (ctxt_part_marker reads
 * them back from the output: the last one a run reached says how far it went).  first_file, when
 * not NULL, stands for parts[from].file (the rest of a step).  With stop_on_failure, a marker
 * ends the run when a VM failed the part before it. */
int ctxt_site_playbook(const struct ctxt_part *parts, size_t from, size_t to, const char *first_file,
                       bool stop_on_failure, struct imc_buf *out, struct imc_err *err);
/* K for a marker's "PLAY [imc: part K, ...]" header line, -1 for any other line. */
long ctxt_part_marker(const char *line, size_t n);

/* --- ctxt_galaxy.c: roles and collections from disk.0.applications ------------------- */

#define CTXT_MAX_REQUIREMENTS (1024u * 1024)

/* ansible-galaxy's requirements.yml for what the systems of doc ask for in disk.0.applications,
 * as IM reads it: `ansible.roles.SRC[|NAME]` (a Galaxy name, an http(s) tarball URL or a
 * git+ URL) and `ansible.collections.NAME[,VERSION]` (a Galaxy name or a tarball URL), each
 * with the application's `version`.  offline (GALAXY_OFFLINE_SOURCE, "" for none) is where Galaxy
 * names are installed from: a local directory (whose files must be there) or a URL.  Appends
 * to out; *roles and *collections say whether it has any.  Errors: IMC_E_INVAL (a name that
 * cannot be used, a tarball missing from the offline directory), IMC_E_NOMEM, IMC_E_TOOBIG. */
int ctxt_galaxy_requirements(const struct imc_doc *doc, const char *offline, struct imc_buf *out,
                             bool *roles, bool *collections, struct imc_err *err);

/* --- ctxt_run.c ------------------------------------------------------------------------ */

#define CTXT_RUN_MAX_ARGS 12

struct ctxt_run {
  const char *program;  /* "ansible-playbook" (looked up on PATH) or a path */
  const char *dir;      /* working directory: ansible.cfg, hosts, playbooks */
  const char *playbook; /* file name in dir */
  const char *limit;    /* --limit, or NULL */
  /* The arguments after program instead of playbook and --limit (NULL-terminated, at most
   * CTXT_RUN_MAX_ARGS), or NULL: ansible-galaxy's. */
  const char *const *args;
  /* ssh's control_path_dir (ansible.cfg): the masters found there are told to exit once the
   * run is over, as ControlPersist masters leave the process group.  NULL: none. */
  const char *control_dir;
  double deadline;           /* CLOCK_MONOTONIC seconds: the process group is killed then */
  const atomic_bool *cancel; /* may be NULL: set means kill now */
  /* Called with each piece of complete output lines as they arrive. */
  void (*output)(void *ctx, const char *lines, size_t n);
  void *ctx;
};

/* Runs the playbook (posix_spawn, no shell, its own process group, stdin /dev/null, stdout
 * and stderr merged) and waits.  *status: its exit status, or -1 when it was killed (then
 * *timed_out says whether the deadline was the reason).  Errors: IMC_E_IO (cannot start). */
int ctxt_run_playbook(const struct ctxt_run *rq, int *status, bool *timed_out, struct imc_err *err);
/* After a crash: kills the ansible-playbook process groups that runs under work_dir (its
 * <infra>/run-N directories) left when the process that started them died (kill -9, OOM), and
 * tells their ssh masters to exit.  A run whose process is alive is left alone. */
void ctxt_run_sweep(const char *work_dir);
/* Parses an Ansible "PLAY RECAP" host line ("host : ok=1 changed=0 unreachable=0 failed=1
 * ..."): the host name (new string) and whether it failed.  False for any other line. */
bool ctxt_recap_line(const char *line, size_t n, char **host, bool *failed);
/* The host a task line is about ("ok: [h]", "fatal: [h]: FAILED! ...", "changed: [h -> x]"),
 * as a view into line; false for any other line. */
bool ctxt_host_line(const char *line, size_t n, struct imc_str *host);

/* Monotonic clock in seconds. */
double ctxt_now(void);

#endif
