/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's configuration: the `[im]` section of an INI file (/etc/imc/imcd.conf by default) with
 * IM's option names, read as Python's ConfigParser reads IM's im.cfg, then IMC_<NAME>
 * environment variables on top.  One table, IMC_CONFIG_OPTIONS, is the only list of options:
 * it declares the fields of struct imc_config and feeds the reader, the environment overrides
 * and imc_config_write_doc(), which generates doc/configuration.md. */
#ifndef IMC_CONFIG_H
#define IMC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "imc/buf.h"
#include "imc/err.h"
#include "imc/log.h"

#define IMC_CONFIG_PATH         "/etc/imc/imcd.conf" /* imcd's default; `-c FILE` chooses another */
#define IMC_MAX_CONFIG          (1024u * 1024)       /* the configuration file */
#define IMC_MAX_CONFIG_VALUE    (64u * 1024)         /* one value, after %(name)s interpolation */
#define IMC_CONFIG_MAX_WARNINGS 64 /* kept in struct imc_config; the rest counted */

/* Option flags. */
#define IMC_CFG_SECRET 1u /* the value may hold a password: never printed, wiped when freed */
#define IMC_CFG_ADDED  2u /* an imc addition: IM has no such option */

/* The options, in the order of the documentation:
 *   X(NAME, field, TYPE, default, IM's default or NULL when the same, min, max, check, flags,
 *     help)
 * NAME is IM's spelling (XMLRCP_PORT, WAIT_SSH_ACCCESS_TIMEOUT and VERIFI_SSL included) and
 * field is NAME in lower case.  TYPE is INT (a long, min..max), BOOL, STRING, LIST (comma-
 * separated) or USERS (IM's JSON dict: an object or a list of objects with string "username"
 * and "password").  Defaults are written as they would be in the file.  check names a test a
 * value (each item, for a LIST) must pass: NONE, HOST, CIDR, LOG_LEVEL, MEM_UNIT, CPU_ARCH.
 * help is one line (no '|': it becomes a cell of a Markdown table). */
#define IMC_CONFIG_OPTIONS(X)                                                                     \
  X(DATA_DB, data_db, STRING, "/var/lib/imc/imc.db", "/etc/im/inf.dat", 0, 0, NONE,               \
    IMC_CFG_SECRET,                                                                               \
    "The store: the SQLite database file where imcd keeps every "                                 \
    "infrastructure (imc's own format, so not IM's file).")                                       \
  X(BOOT_MODE, boot_mode, INT, "0", NULL, 0, 2, NONE, 0,                                          \
    "0: normal; 1: read-only (every call that changes something is refused); "                    \
    "2: read and delete only.")                                                                   \
  X(MAX_SIMULTANEOUS_LAUNCHES, max_simultaneous_launches, INT, "5", "1", 1, 1000, NONE, 0,        \
    "VM launches and deletions of one infrastructure that run at the same time. IM's code "       \
    "says 1 (a workaround for an old Python bug) and its sample im.cfg 5; imc takes 5.")          \
  X(MAX_VM_FAILS, max_vm_fails, INT, "3", NULL, 1, 100, NONE, 0,                                  \
    "Attempts to launch one VM (on every cloud that fits) before it is given up.")                \
  X(DELAY_BETWEEN_VM_RETRIES, delay_between_vm_retries, INT, "5", NULL, 0, 86400, NONE, 0,        \
    "Seconds between two attempts to launch a VM.")                                               \
  X(WAIT_RUNNING_VM_TIMEOUT, wait_running_vm_timeout, INT, "1800", NULL, 1, 31536000, NONE, 0,    \
    "Seconds a new VM may take to reach the running state.")                                      \
  X(WAIT_SSH_ACCCESS_TIMEOUT, wait_ssh_acccess_timeout, INT, "300", NULL, 1, 31536000, NONE, 0,   \
    "Seconds to wait for SSH access to the master VM (the time it takes to boot). "               \
    "IM's spelling, with three Cs.")                                                              \
  X(WAIT_PUBLIC_IP_TIMEOUT, wait_public_ip_timeout, INT, "90", NULL, 1, 31536000, NONE, 0,        \
    "Seconds to wait for a VM that asked for one to get a public IP address.")                    \
  X(VM_INFO_UPDATE_FREQUENCY, vm_info_update_frequency, INT, "10", NULL, 1, 86400, NONE, 0,       \
    "Seconds between two looks at a VM's state on its cloud (at most one look per period).")      \
  X(VM_INFO_UPDATE_ERROR_GRACE_PERIOD, vm_info_update_error_grace_period, INT, "120", NULL, 1,    \
    31536000, NONE, 0,                                                                            \
    "Seconds a VM keeps its last known state while its cloud cannot be reached; then its "        \
    "state is unknown. Must be greater than VM_INFO_UPDATE_FREQUENCY.")                           \
  X(INF_CACHE_TIME, inf_cache_time, INT, "0", NULL, 0, 31536000, NONE, 0,                         \
    "Seconds an idle infrastructure stays in memory before it is read again from the store "      \
    "(IM's HA mode); 0 keeps it for as long as the server runs.")                                 \
  X(MAX_CONTEXTUALIZATION_TIME, max_contextualization_time, INT, "7200", NULL, 1, 31536000, NONE, \
    0, "Seconds the contextualization of an infrastructure may take.")                            \
  X(PLAYBOOK_RETRIES, playbook_retries, INT, "1", NULL, 1, 100, NONE, 0,                          \
    "Times an Ansible playbook is run before its step counts as failed (IM's sample im.cfg "      \
    "sets 3).")                                                                                   \
  X(CHECK_CTXT_PROCESS_INTERVAL, check_ctxt_process_interval, INT, "10", NULL, 1, 86400, NONE, 0, \
    "Seconds between two checks of the contextualization process on the VMs.")                    \
  X(UPDATE_CTXT_LOG_INTERVAL, update_ctxt_log_interval, INT, "20", NULL, 1, 86400, NONE, 0,       \
    "Seconds between two copies of the contextualization log from the VMs.")                      \
  X(MAX_SSH_ERRORS, max_ssh_errors, INT, "5", NULL, 1, 1000, NONE, 0,                             \
    "Failed SSH connections in a row to a VM during its contextualization before its "            \
    "contextualization is given up.")                                                             \
  X(VM_NUM_USE_CTXT_DIST, vm_num_use_ctxt_dist, INT, "30", NULL, 1, 1000000, NONE, 0,             \
    "Infrastructures with more VMs than this are contextualized by the VMs themselves "           \
    "(IM's distributed contextualization agent).")                                                \
  X(REMOTE_CONF_DIR, remote_conf_dir, STRING, "/var/tmp/.im", NULL, 0, 0, NONE, 0,                \
    "Directory on an external Ansible host (RADL `ansible`) where each run's files are copied "  \
    "(imc runs Ansible on its own host otherwise, and copies nothing to the VMs).")               \
  X(SSH_REVERSE_TUNNELS, ssh_reverse_tunnels, BOOL, "true", NULL, 0, 0, NONE, 0,                  \
    "VMs with no public IP open a reverse SSH tunnel to the master VM, on the command the "       \
    "REST route /infrastructures/ID/vms/N/command gives them.")                                   \
  X(DEFAULT_VM_MEMORY, default_vm_memory, INT, "512", NULL, 1, 1073741824, NONE, 0,               \
    "Memory a system gets when its RADL sets no memory.size, in DEFAULT_VM_MEMORY_UNIT.")         \
  X(DEFAULT_VM_MEMORY_UNIT, default_vm_memory_unit, STRING, "M", NULL, 0, 0, MEM_UNIT, 0,         \
    "Unit of DEFAULT_VM_MEMORY: B, K, M, G, T (powers of 1000), Ki, Mi, Gi, Ti (powers of "       \
    "1024), with or without a trailing B.")                                                       \
  X(DEFAULT_VM_CPUS, default_vm_cpus, INT, "1", NULL, 1, 4096, NONE, 0,                           \
    "CPUs a system gets when its RADL sets no cpu.count.")                                        \
  X(DEFAULT_VM_CPU_ARCH, default_vm_cpu_arch, STRING, "x86_64", NULL, 0, 0, CPU_ARCH, 0,          \
    "Architecture a system gets when its RADL sets no cpu.arch: x86_64 or i386.")                 \
  X(DEFAULT_VM_NAME, default_vm_name, STRING, "vnode-#N#", NULL, 0, 0, NONE, 0,                   \
    "Host name of a VM whose RADL gives none; #N# becomes the VM's number.")                      \
  X(DEFAULT_DOMAIN, default_domain, STRING, "localdomain", NULL, 0, 0, NONE, 0,                   \
    "Domain of a VM's host name when its RADL gives none.")                                       \
  X(PRIVATE_NET_MASKS, private_net_masks, LIST,                                                   \
    "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,100.64.0.0/10,192.0.0.0/24,"          \
    "198.18.0.0/15",                                                                              \
    NULL, 0, 0, CIDR, 0,                                                                          \
    "Networks (IPv4 or IPv6, address/prefix) whose addresses count as private when a cloud "      \
    "reports a VM's IPs.")                                                                        \
  X(ACTIVATE_XMLRPC, activate_xmlrpc, BOOL, "true", NULL, 0, 0, NONE, 0,                          \
    "Serve IM's XML-RPC API.")                                                                    \
  X(XMLRCP_PORT, xmlrcp_port, INT, "8899", NULL, 1, 65535, NONE, 0,                               \
    "TCP port of the XML-RPC API. IM's spelling (RCP).")                                          \
  X(XMLRCP_ADDRESS, xmlrcp_address, STRING, "127.0.0.1", "0.0.0.0", 0, 0, HOST, 0,                \
    "Address the XML-RPC API listens on; 0.0.0.0 for every IPv4 address. imc listens on the "     \
    "machine only until its owner says otherwise.")                                               \
  X(XMLRCP_SSL, xmlrcp_ssl, BOOL, "false", NULL, 0, 0, NONE, 0,                                   \
    "Serve the XML-RPC API over TLS (HTTPS).")                                                    \
  X(XMLRCP_SSL_KEYFILE, xmlrcp_ssl_keyfile, STRING, "/etc/imc/pki/server-key.pem",                \
    "/etc/im/pki/server-key.pem", 0, 0, NONE, 0,                                                  \
    "Private key (PEM) of the XML-RPC API's TLS certificate.")                                    \
  X(XMLRCP_SSL_CERTFILE, xmlrcp_ssl_certfile, STRING, "/etc/imc/pki/server-cert.pem",             \
    "/etc/im/pki/server-cert.pem", 0, 0, NONE, 0, "TLS certificate (PEM) of the XML-RPC API.")    \
  X(XMLRCP_SSL_CA_CERTS, xmlrcp_ssl_ca_certs, STRING, "/etc/imc/pki/ca-chain.pem",                \
    "/etc/im/pki/ca-chain.pem", 0, 0, NONE, 0,                                                    \
    "CA chain (PEM) sent with the XML-RPC API's certificate.")                                    \
  X(VMINFO_JSON, vminfo_json, BOOL, "false", NULL, 0, 0, NONE, 0,                                 \
    "XML-RPC GetVMInfo answers with RADL JSON instead of RADL text.")                             \
  X(ACTIVATE_REST, activate_rest, BOOL, "true", NULL, 0, 0, NONE, 0, "Serve IM's REST API.")      \
  X(REST_PORT, rest_port, INT, "8800", NULL, 1, 65535, NONE, 0, "TCP port of the REST API.")      \
  X(REST_ADDRESS, rest_address, STRING, "127.0.0.1", "0.0.0.0", 0, 0, HOST, 0,                    \
    "Address the REST API listens on; 0.0.0.0 for every IPv4 address. imc listens on the "        \
    "machine only until its owner says otherwise.")                                               \
  X(REST_SSL, rest_ssl, BOOL, "false", NULL, 0, 0, NONE, 0, "Serve the REST API over TLS.")       \
  X(REST_SSL_KEYFILE, rest_ssl_keyfile, STRING, "/etc/imc/pki/server-key.pem",                    \
    "/etc/im/pki/server-key.pem", 0, 0, NONE, 0,                                                  \
    "Private key (PEM) of the REST API's TLS certificate.")                                       \
  X(REST_SSL_CERTFILE, rest_ssl_certfile, STRING, "/etc/imc/pki/server-cert.pem",                 \
    "/etc/im/pki/server-cert.pem", 0, 0, NONE, 0, "TLS certificate (PEM) of the REST API.")       \
  X(REST_SSL_CA_CERTS, rest_ssl_ca_certs, STRING, "/etc/imc/pki/ca-chain.pem",                    \
    "/etc/im/pki/ca-chain.pem", 0, 0, NONE, 0,                                                    \
    "CA chain (PEM) sent with the REST API's certificate.")                                       \
  X(ENABLE_CORS, enable_cors, BOOL, "false", NULL, 0, 0, NONE, 0,                                 \
    "REST answers carry Access-Control-Allow-Origin (for JavaScript clients in a browser).")      \
  X(CORS_ORIGIN, cors_origin, STRING, "*", NULL, 0, 0, NONE, 0,                                   \
    "The value of Access-Control-Allow-Origin when ENABLE_CORS is on.")                           \
  X(ADMIN_USER, admin_user, USERS, "", NULL, 0, 0, NONE, IMC_CFG_SECRET,                          \
    "IM users (username and password) that may see and manage every infrastructure; they "        \
    "still need their own cloud credentials.")                                                    \
  X(VERIFI_SSL, verifi_ssl, BOOL, "true", "false", 0, 0, NONE, 0,                                 \
    "Verify the TLS certificates of clouds. IM's spelling; IM does not verify by default, "       \
    "imc does.")                                                                                  \
  X(LOG_FILE, log_file, STRING, "/var/log/imc/imcd.log", "/var/log/im/inf.log", 0, 0, NONE, 0,    \
    "File imcd writes its log to.")                                                               \
  X(LOG_FILE_MAX_SIZE, log_file_max_size, INT, "10485760", NULL, 0, 1099511627776, NONE, 0,      \
    "Size in bytes at which the log file is rotated (to .1, .2 and .3, as IM's "                  \
    "RotatingFileHandler); 0: never.")                                                            \
  X(LOG_LEVEL, log_level, STRING, "INFO", NULL, 0, 0, LOG_LEVEL, 0,                               \
    "Least severe messages logged: DEBUG, INFO, WARN or WARNING, ERROR, FATAL or CRITICAL "       \
    "(any case).")                                                                                \
  X(WORKERS, workers, INT, "8", NULL, 1, 1024, NONE, IMC_CFG_ADDED,                               \
    "Threads that run asynchronous operations, and imcd's requests that may wait on a cloud; "    \
    "different infrastructures run in parallel on them.")                                         \
  X(CTXT_WORK_DIR, ctxt_work_dir, STRING, "", NULL, 0, 0, NONE, IMC_CFG_ADDED,                   \
    "Where imcd writes each contextualization's inventory, playbooks and known_hosts (0700). "   \
    "Empty: ctxt/ beside a SQLite DATA_DB, else /var/lib/imc/ctxt.")                              \
  X(GALAXY_OFFLINE_SOURCE, galaxy_offline_source, STRING, "", NULL, 0, 0, NONE, IMC_CFG_ADDED,   \
    "A local directory, or an http(s) URL, with the tarballs of the Ansible roles "              \
    "(NAME.tar.gz, NAME-VERSION.tar.gz) and collections (NS-NAME-VERSION.tar.gz) that "           \
    "disk.0.applications asks for by Galaxy name: ansible-galaxy installs them from there "      \
    "instead of from Galaxy's servers.  Empty: from Galaxy.")                                     \
  X(MAX_REQUEST_BODY, max_request_body, INT, "16777216", NULL, 1024, 67108864, NONE,              \
    IMC_CFG_ADDED, "Largest REST or XML-RPC request body imcd accepts, in bytes.")                \
  X(METRICS, metrics, BOOL, "false", NULL, 0, 0, NONE, IMC_CFG_ADDED,                             \
    "Serve Prometheus metrics at /metrics on the REST port: requests by route and status, "       \
    "latencies, infrastructures and VMs by state, queues (doc/imcd.md).")

/* A list value; also the collected warnings.  Owned by the configuration it is in. */
struct imc_config_list {
  char **items;
  size_t n, cap;
};

#define IMC_CFG_CTYPE_INT    long
#define IMC_CFG_CTYPE_BOOL   bool
#define IMC_CFG_CTYPE_STRING char *
#define IMC_CFG_CTYPE_LIST   struct imc_config_list
#define IMC_CFG_CTYPE_USERS  char *

struct imc_config {
#define IMC_CFG_FIELD(NAME, field, type, ...) IMC_CFG_CTYPE_##type field;
  IMC_CONFIG_OPTIONS(IMC_CFG_FIELD)
#undef IMC_CFG_FIELD
  /* Strings are never NULL (possibly "").  A USERS field holds a JSON list of objects, "[]"
   * when none: an object alone is stored as a list of one. */

  /* One sentence per unknown or unsupported option met by the loads and the environment,
   * "file:line:col: ..." (each was also logged as a warning).  At most
   * IMC_CONFIG_MAX_WARNINGS; warnings_dropped counts the others. */
  struct imc_config_list warnings;
  size_t warnings_dropped;
};

/* Sets every option to its default.  Call imc_config_cleanup() afterwards, even on failure.
 * Errors: IMC_E_NOMEM. */
int imc_config_init(struct imc_config *cfg, struct imc_err *err);

/* Reads INI text as Python's ConfigParser reads IM's im.cfg and applies the options of its
 * [im] section (and of [DEFAULT], which ConfigParser merges into every section): `[section]`
 * headers; `name = value` or `name: value` (split at the first = or :); option names in any
 * case; `#` and `;` comment lines (a # after a value is part of the value, as in IM);
 * indented lines continue the value above; %(name)s and %% interpolation.  Other sections are
 * read for their syntax and ignored.  Unknown options are warnings (logged and collected in
 * cfg->warnings).  source names the text in messages.
 * Errors (cfg is then unchanged): IMC_E_INVAL "source:line:col: message" (bad syntax, a
 * duplicate section or option, a bad value: "option NAME: expected ..."; the value is quoted
 * only for options that are not secret), IMC_E_TOOBIG, IMC_E_NOMEM. */
int imc_config_load(struct imc_config *cfg, const char *source, const char *text, size_t len,
                    struct imc_err *err);

/* imc_config_load() on the contents of a file.  A file that cannot be read is IMC_E_IO. */
int imc_config_load_file(struct imc_config *cfg, const char *path, struct imc_err *err);

/* As imc_config_load_file(), but a file that does not exist is not an error (imcd's default
 * path: a fresh install runs on the defaults).  *found (may be NULL) says whether it was. */
int imc_config_load_optional(struct imc_config *cfg, const char *path, bool *found,
                             struct imc_err *err);

/* Reads the values of names (NULL-terminated) from section of the INI file at path as Python's
 * RawConfigParser does (names ignore case, [DEFAULT] fills in, no interpolation): values[i]
 * receives a copy (caller frees with imc_free) or NULL when absent.  For im-client's
 * im_client.cfg.  Errors name path:line:col; on error every values[i] is NULL. */
int imc_ini_values(const char *path, const char *section, const char *const *names,
                   char **values, struct imc_err *err);

/* Applies IMC_<NAME>=value entries of envp (a NULL-terminated array as environ; NULL is
 * none), NAME in IM's spelling and upper case, values read as in the file (no interpolation).
 * IM's own IM_DATA_DB is read too, below IMC_DATA_DB.  Other IMC_ variables are left alone,
 * but one that looks like a misspelt option is a warning.
 * Errors (cfg is then unchanged): IMC_E_INVAL "environment variable IMC_NAME: expected ...",
 * IMC_E_NOMEM. */
int imc_config_env(struct imc_config *cfg, char *const *envp, struct imc_err *err);

/* Checks what involves more than one option: VM_INFO_UPDATE_ERROR_GRACE_PERIOD greater than
 * VM_INFO_UPDATE_FREQUENCY; a key and a certificate file for an API served over TLS.
 * Errors: IMC_E_INVAL naming the options. */
int imc_config_check(const struct imc_config *cfg, struct imc_err *err);

/* LOG_LEVEL as imc's level (FATAL and CRITICAL are IMC_LOG_ERROR). */
enum imc_log_level imc_config_log_level(const struct imc_config *cfg);

/* Frees what cfg holds (secrets wiped first) and leaves it zeroed.  NULL is a no-op. */
void imc_config_cleanup(struct imc_config *cfg);

/* Appends the Markdown reference of the file format and of every option: the contents of
 * doc/configuration.md.  Errors: IMC_E_NOMEM, IMC_E_TOOBIG (out's limit). */
int imc_config_write_doc(struct imc_buf *out, struct imc_err *err);

#endif
