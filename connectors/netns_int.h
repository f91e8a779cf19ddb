/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Netns connector's parts (doc/netns.md): netns.c the operations, netns_state.c the state
 * directory, netns_run.c child processes, netns_net.c bridges and addresses, netns_host.c
 * making a host, netns_life.c its state, stop and removal, netns_boot.c the host's first
 * process, netns_sweep.c the clean-up of a crashed run.  Private to connectors/.
 *
 * State directory DIR (auth `host`, default /var/lib/imc/netns):
 *   lock              flock()ed for every operation that changes something
 *   next              the next host number
 *   nets/X            one RADL network of one infrastructure: subnet 10.213.X.0/24, bridge PbXX
 *   hosts/NAME/       one host: host (key value lines), token, ifaces, disks, creator, pid,
 *                     complete, stopped, upper/ work/ root/ (overlayfs), diskN.img, boot.log
 * P is the prefix derived from DIR; NAME = Ph<number> is the instance id and the netns name. */
#ifndef IMC_NETNS_INT_H
#define IMC_NETNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "imc/buf.h"
#include "imc/connector.h"
#include "imc/err.h"

#define NN_NAME        "Netns"
#define NN_IMAGE       "netns://host"
#define NN_DEFAULT_DIR "/var/lib/imc/netns"
#define NN_DIR_MAX     200 /* the state directory's path; every path below fits NN_PATH */
#define NN_PATH        512
#define NN_PREFIX_LEN  6         /* "n" and 5 hex digits: names stay within IFNAMSIZ - 1 */
#define NN_HOST_MAX    24        /* a host's name: prefix, "h", up to 5 hex digits */
#define NN_MAX_IFACES  8         /* net_interface.0 .. 7 */
#define NN_MAX_DISKS   8         /* disk.1 .. 8 */
#define NN_SUBNET      "10.213." /* the /24s: 10.213.X.0/24 */
#define NN_SMALL       4096      /* the state files are small: a bigger one is corrupt */
#define NN_WAIT_MS     20000     /* the longest any child process or boot step may take */

struct nn_ctx {
  char dir[NN_DIR_MAX + 1];
  char prefix[NN_PREFIX_LEN + 1];
  int lock_fd; /* -1 when not held */
};

/* One network interface of a host. */
struct nn_iface {
  unsigned idx;    /* N of net_interface.N */
  unsigned subnet; /* X of 10.213.X.0/24 */
  unsigned addr;   /* the last byte of its address */
};

/* --- netns_state.c ---------------------------------------------------------------------- */
/* snprintf into a bounded path: IMC_E_TOOBIG (with a message) when it does not fit. */
int nn_path(char *out, size_t n, struct imc_err *err, const char *fmt, ...) IMC_PRINTF(4, 5);
/* Creates or replaces path with data, mode applied at creation (0600 for anything secret). */
int nn_write_file(const char *path, const char *data, size_t len, mode_t mode, struct imc_err *err);
/* Reads a small file into out (NUL-terminated).  IMC_E_NOTFOUND when it does not exist. */
int nn_read_file(const char *path, char *out, size_t n, struct imc_err *err);
/* The value of `key value` lines in text, copied into out; false when absent or too long. */
bool nn_kv(const char *text, const char *key, char *out, size_t n);
bool nn_exists(const char *path);
/* The start time of pid (clock ticks since boot) and whether it still runs (not a zombie). */
bool nn_proc_alive(pid_t pid, unsigned long long *start);
/* Writes "PID START" of pid into path; reads it back and says whether that process runs. */
int nn_write_pid(const char *path, pid_t pid, struct imc_err *err);
bool nn_pid_file_alive(const char *path, pid_t *pid);
/* Removes a tree without following symbolic links; a missing path is success. */
int nn_remove_tree(const char *path, struct imc_err *err);
int nn_lock(struct nn_ctx *c, struct imc_err *err);
void nn_unlock(struct nn_ctx *c);
/* The names in dir, one callback each (dot files skipped); a missing dir has none. */
int nn_each_name(const char *dir, int (*fn)(const char *name, void *arg), void *arg);

/* --- netns_run.c ------------------------------------------------------------------------ */
/* Runs argv (argv[0] an absolute path) with stdin fed from in (NULL: /dev/null), stdout
 * appended to out (NULL: discarded); at most NN_WAIT_MS, then it is killed.  A non-zero exit
 * is IMC_E_CLOUD naming the program and the first line of its stderr. */
int nn_run(const char *const argv[], const char *in, struct imc_buf *out, struct imc_err *err);
/* Sends SIGKILL to pid (a host's first process, not our child) and waits for it to end. */
int nn_kill_wait(pid_t pid, struct imc_err *err);

/* --- netns_net.c ------------------------------------------------------------------------ */
/* The subnet of (infra, net), made (record and bridge) when new; public: the bridge gets .1. */
int nn_net_ensure(struct nn_ctx *c, const char *infra, const char *net, bool public,
                  unsigned *subnet, struct imc_err *err);
/* A free host address on subnet. */
int nn_net_addr(struct nn_ctx *c, unsigned subnet, unsigned *addr, struct imc_err *err);
void nn_bridge_name(const struct nn_ctx *c, unsigned subnet, char *out, size_t n);
void nn_veth_name(const struct nn_ctx *c, const char *host, unsigned idx, char *out, size_t n);
/* Deletes a network device; one already gone is success. */
int nn_link_del(const char *name, struct imc_err *err);
/* Removes the networks no host uses any more (bridge and record). */
int nn_net_sweep(struct nn_ctx *c, struct imc_err *err);
/* The host's netns with lo up and one veth per interface, the other end on its bridge. */
int nn_net_plug(struct nn_ctx *c, const char *host, const struct nn_iface *ifs, size_t n,
                struct imc_err *err);
/* Makes again the namespace, veths and bridges of a host that the machine lost (a reboot). */
int nn_net_restore(struct nn_ctx *c, const char *host, struct imc_err *err);

/* --- netns_host.c (making) and netns_life.c (living and dying) ------------------------- */
int nn_host_create(struct nn_ctx *c, const struct imc_launch *rq, struct imc_vm *vm,
                   struct imc_err *err);
/* Kills every process in the host's network namespace. */
int nn_netns_kill(const char *host, struct imc_err *err);
/* Kills its processes, removes veths, netns, loop devices and its directory. */
int nn_host_destroy(struct nn_ctx *c, const char *host, struct imc_err *err);
int nn_host_write_ifaces(struct nn_ctx *c, const char *host, const struct nn_iface *ifs, size_t n,
                         struct imc_err *err);
/* Reads a host's interfaces ("idx subnet addr" lines). */
int nn_host_ifaces(struct nn_ctx *c, const char *host, struct nn_iface *ifs, size_t *n,
                   struct imc_err *err);
/* Writes what the host is now into vm: state, addresses, disk devices. */
int nn_host_fill(struct nn_ctx *c, const char *host, struct imc_vm *vm, struct imc_err *err);
int nn_host_stop(struct nn_ctx *c, const char *host, struct imc_err *err);
/* Attaches again the data disks whose loop devices the machine lost (a reboot). */
int nn_disks_restore(struct nn_ctx *c, const char *host, struct imc_err *err);
/* Detaches the loop devices backed by files under prefix. */
int nn_loops_detach(const char *prefix, struct imc_err *err);

/* --- netns_boot.c ----------------------------------------------------------------------- */
/* Starts the host's first process (sshd, pid 1 of its own PID namespace) in its netns, new
 * mount and UTS namespaces, on the overlayfs root; records its pid. */
int nn_boot(struct nn_ctx *c, const char *host, struct imc_err *err);

/* --- netns_sweep.c ---------------------------------------------------------------------- */
int nn_sweep(struct nn_ctx *c, struct imc_err *err);

#endif
