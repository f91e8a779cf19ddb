/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One contextualization run inside the contextualizer (ctxt_driver.c): the run the engine
 * asked for, and the job it builds (nodes, files, logs).  ctxt_nodes.c fills the nodes from
 * the engine's documents. */
#ifndef IMC_CTXT_JOB_H
#define IMC_CTXT_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "ctxt_int.h"
#include "imc/auth.h"
#include "imc/config.h"
#include "imc/engine.h"

#define CTXR_MAX_LOG (256u * 1024) /* one piece of log handed to the engine */

struct ctxr;

struct run {
  struct ctxr *c;
  struct imc_engine *e;
  char *id;
  unsigned *vms; /* the VMs asked for */
  size_t nvms;
  struct imc_auth auth;
  pthread_t th;
  atomic_bool finished;
  atomic_bool forgotten; /* the infrastructure was destroyed meanwhile: remove its directory */
  struct run *next;
};

struct ctxr {
  const struct imc_config *cfg;
  char *work_dir;
  pthread_mutex_t mu;
  struct run *runs;
  unsigned seq;
  atomic_bool stop;
};

/* An external Ansible host (ctxt_remote.c). */
struct remote {
  bool on;
  char *host;
  struct ssh_target target; /* to reach it; also the VMs' bastion when they have none */
  char dir[4096];           /* the run directory there */
  struct ctxt_node *nodes;  /* the nodes with the key files' paths there */
  struct ctxt_proxy *proxies;
};

/* Everything one run builds: nodes and the strings they point to. */
struct job {
  struct run *run;
  char dir[4096], base[4096], known_hosts[4200], facts[4200];
  /* ssh's ControlPath directory: dir/cp, or a short one of its own under /tmp when dir is too
   * deep for a socket path (cp_own: removed at the end of the job). */
  char cp[4200];
  bool cp_own;
  struct imc_doc *doc;
  struct imc_doc **infos; /* per node */
  struct ctxt_node *nodes;
  struct ctxt_proxy *proxies;
  unsigned *vmids; /* per node, known even when its node could not be built */
  struct ctxt_disk **disks;
  struct ctxt_iface **ifaces;
  char **owned; /* strings to free (secrets wiped) */
  size_t nowned, cap_owned;
  size_t n;
  bool *target;         /* asked for, not disabled, and still on track */
  bool *ok, *bad;       /* the last run's recap: ok, or failed/unreachable */
  struct imc_buf *logs; /* per node, pending */
  struct imc_buf infra; /* pending lines for the infrastructure's log */
  bool in_msg;          /* inside the lines of an Ansible warning or error */
  ssize_t last;         /* the node the last result line was about, or -1 */
  char header[1024];    /* the last PLAY/TASK line */
  bool *header_sent;
  struct ctxt_part *parts; /* basic, the user steps, the credential changes */
  size_t nparts;
  long part;      /* the part the output is in (its marker was the last PLAY line) */
  long play;      /* the play of a user step the output is in (its marker), or -1 */
  long running;   /* the part the infrastructure's log last said was running, or -1 */
  bool in_marker; /* inside a marker play: its lines are about no step */
  long *part_of;  /* per node: the part of the last line about it in this run, or -1 */
  bool *stopper;  /* per node: it ran the marker task that ended the run */
  double deadline;
  struct ctxt_infra inf;         /* what the run directory's files say */
  const char *content_dir;       /* the run directory as those files name it */
  struct remote remote;
};

/* Keeps s (a new string) until the job ends, when it is wiped and freed; returns s, or NULL
 * (s freed) when out of memory. */
char *ctxt_job_own(struct job *j, char *s);
char *ctxt_job_own_printf(struct job *j, const char *fmt, ...) IMC_PRINTF(2, 3);
/* Writes text to dir/name (created with mode, never through a symbolic link). */
int ctxt_write_file(const char *dir, const char *name, const char *text, mode_t mode,
                    struct imc_err *err);
/* The same with b's text; b is freed. */
int ctxt_write_buf(const char *dir, const char *name, struct imc_buf *b, mode_t mode,
                   struct imc_err *err);

/* --- ctxt_output.c: the run's logs ------------------------------------------------------ */

/* A line of imc's own in the infrastructure's log, or in node i's. */
void ctxt_ilog(struct job *j, const char *fmt, ...) IMC_PRINTF(2, 3);
void ctxt_vm_log(struct job *j, size_t i, const char *fmt, ...) IMC_PRINTF(3, 4);
/* Node i leaves the run (stays unconfigured); why goes to its log. */
void ctxt_fail_vm(struct job *j, size_t i, const char *why);
/* ctxt_run's output callback (ctx: the job): routes whole lines to the logs, reads the recap
 * and the markers. */
void ctxt_on_output(void *ctx, const char *text, size_t len);
/* Hands the lines kept so far to the engine's logs. */
void ctxt_flush_logs(struct job *j);

/* --- ctxt_parts.c ------------------------------------------------------------------------ */

/* Runs the job's parts on the nodes on track (j->target), leaving those that fail. */
void ctxt_job_parts(struct job *j);
/* Reads the infrastructure's document and every VM's (GetVMInfo) and fills j->nodes: IPs,
 * SSH port (IM's outports N-22), hostname, credentials (keys into j->dir/keys, 0600), proxy
 * (the network's proxy_host, else ctxt_bastion_pick's VM), data disks; j->target marks the
 * VMs the run was asked for.  A VM with no IP yet is read again every few seconds, up to
 * WAIT_RUNNING_VM_TIMEOUT. */
int ctxt_job_nodes(struct job *j, struct imc_err *err);
/* The automatic bastion of node i (infos[i] its GetVMInfo document): when it has no public
 * IP, the node with the lowest VM id among those (not i) that have a public IP and an interface
 * on one of i's private networks; -1 when none (or i has a public IP). */
ssize_t ctxt_bastion_pick(const struct imc_doc *const *infos, const struct ctxt_node *nodes,
                          size_t n, size_t i);
/* When the document has an `ansible` sentence: readies the run for that host (j->remote, the
 * paths in j->inf and j->content_dir).  Errors: IMC_E_INVAL (no host, several), IMC_E_NOMEM. */
int ctxt_remote_setup(struct job *j, struct imc_err *err);
/* ctxt_run_playbook on the Ansible host: sends the run directory, runs playbook there, hands
 * its output over in whole lines. */
int ctxt_remote_run(struct job *j, const char *playbook, const char *limit,
                    void (*output)(void *ctx, const char *text, size_t n), int *status,
                    bool *timed_out, struct imc_err *err);
/* Removes the run directory there; frees what setup made. */
void ctxt_remote_cleanup(struct job *j);
void ctxt_remote_free(struct job *j);
/* Sleeps secs, or less when the contextualizer closes. */
void ctxt_job_pause(struct job *j, double secs);
/* True when the run was asked for VM vm (all VMs when it named none). */
bool ctxt_job_asked(const struct run *run, unsigned vm);

#endif
