/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Ansible inventory (INI) of an infrastructure.
 *
 * Values must come back as the very strings we mean, whatever they hold: Ansible's INI
 * plugin splits a host line with shlex and then gives each value to ast.literal_eval, so a
 * host value is written as a Python string literal inside shell double quotes, and an
 * [all:vars] value (read raw, no shlex) as a bare Python string literal. */
#include <stdio.h>
#include <string.h>

#include "ctxt_int.h"
#include "imc/alloc.h"

/* A Python string literal: 'text' with \\, \' and control bytes escaped. */
static void py_literal(struct imc_buf *out, const char *s)
{
  imc_buf_addc(out, '\'');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '\\' || *p == '\'')
      imc_buf_addf(out, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      imc_buf_addf(out, "\\x%02x", *p);
    else
      imc_buf_addc(out, (char)*p);
  }
  imc_buf_addc(out, '\'');
}

void ctxt_ini_value(struct imc_buf *out, const char *value)
{
  struct imc_buf lit;

  imc_buf_init(&lit, out->max);
  py_literal(&lit, value);
  if (imc_buf_err(&lit)) {
    out->err = out->err ? out->err : imc_buf_err(&lit);
    imc_buf_free(&lit);
    return;
  }
  imc_buf_addc(out, '"');
  for (const char *p = imc_buf_cstr(&lit); *p; p++) {
    if (*p == '"' || *p == '\\')
      imc_buf_addc(out, '\\');
    imc_buf_addc(out, *p);
  }
  imc_buf_addc(out, '"');
  imc_buf_free(&lit);
}

void ctxt_sh_quote(struct imc_buf *out, const char *s)
{
  imc_buf_addc(out, '\'');
  for (; *s; s++) {
    if (*s == '\'')
      imc_buf_adds(out, "'\\''");
    else
      imc_buf_addc(out, *s);
  }
  imc_buf_addc(out, '\'');
}

static void host_var(struct imc_buf *out, const char *name, const char *value)
{
  if (!value)
    return;
  imc_buf_addf(out, " %s=", name);
  ctxt_ini_value(out, value);
}

/* The ProxyCommand that OpenSSH runs (through its shell) to reach a VM behind a bastion. */
static void proxy_command(struct imc_buf *out, const struct ctxt_infra *inf,
                          const struct ctxt_proxy *p)
{
  if (p->password_file) {
    imc_buf_adds(out, "sshpass -f ");
    ctxt_sh_quote(out, p->password_file);
    imc_buf_addc(out, ' ');
  }
  imc_buf_addf(out, "ssh -W %%h:%%p -p %d -o StrictHostKeyChecking=yes -o ",
               p->port ? p->port : 22);
  {
    struct imc_buf kh;

    imc_buf_init(&kh, 8192);
    imc_buf_addf(&kh, "UserKnownHostsFile=%s", inf->known_hosts);
    ctxt_sh_quote(out, imc_buf_cstr(&kh));
    if (imc_buf_err(&kh))
      out->err = out->err ? out->err : imc_buf_err(&kh);
    imc_buf_free(&kh);
  }
  if (p->key_file) {
    imc_buf_adds(out, " -i ");
    ctxt_sh_quote(out, p->key_file);
  }
  imc_buf_adds(out, " -l ");
  ctxt_sh_quote(out, p->user ? p->user : "root");
  imc_buf_adds(out, " -- ");
  ctxt_sh_quote(out, p->host);
}

/* ansible_ssh_common_args: the infrastructure's known_hosts, strict checking, the proxy. */
static void ssh_args(struct imc_buf *out, const struct ctxt_infra *inf, const struct ctxt_node *n)
{
  struct imc_buf a, pc;

  imc_buf_init(&a, 64 * 1024);
  imc_buf_init(&pc, 32 * 1024);
  imc_buf_adds(&a, "-o ");
  imc_buf_addf(&pc, "UserKnownHostsFile=%s", inf->known_hosts);
  ctxt_sh_quote(&a, imc_buf_cstr(&pc));
  imc_buf_adds(&a, " -o StrictHostKeyChecking=yes");
  if (n->proxy) {
    imc_buf_reset(&pc);
    imc_buf_adds(&pc, "ProxyCommand=");
    proxy_command(&pc, inf, n->proxy);
    imc_buf_adds(&a, " -o ");
    ctxt_sh_quote(&a, imc_buf_cstr(&pc));
  }
  if (imc_buf_err(&a) || imc_buf_err(&pc))
    out->err = out->err ? out->err : (imc_buf_err(&a) ? imc_buf_err(&a) : imc_buf_err(&pc));
  else
    host_var(out, "ansible_ssh_common_args", imc_buf_cstr(&a));
  imc_buf_free(&a);
  imc_buf_free(&pc);
}

/* The data disks the basic step formats and mounts, as a Python list literal. */
static void disks_var(struct imc_buf *out, const struct ctxt_node *n)
{
  struct imc_buf l;

  if (!n->ndisks)
    return;
  imc_buf_init(&l, 64 * 1024);
  imc_buf_addc(&l, '[');
  for (size_t i = 0; i < n->ndisks; i++) {
    const struct ctxt_disk *d = &n->disks[i];

    imc_buf_addf(&l, "%s{'n': %u, 'device': ", i ? ", " : "", d->n);
    py_literal(&l, d->device);
    imc_buf_adds(&l, ", 'fstype': ");
    py_literal(&l, d->fstype);
    imc_buf_adds(&l, ", 'mount_path': ");
    py_literal(&l, d->mount_path);
    imc_buf_addc(&l, '}');
  }
  imc_buf_addc(&l, ']');
  if (imc_buf_err(&l)) {
    out->err = out->err ? out->err : imc_buf_err(&l);
  } else {
    /* A list literal, not a string: shell-quoted only. */
    imc_buf_adds(out, " IMC_DISKS=");
    ctxt_sh_quote(out, imc_buf_cstr(&l));
  }
  imc_buf_free(&l);
}

/* IM_NODE_NET_<i>_IP/HOSTNAME/DOMAIN/FQDN of each interface. */
static void ifaces_vars(struct imc_buf *out, const struct ctxt_node *n)
{
  for (size_t i = 0; i < n->nifaces; i++) {
    const struct ctxt_iface *f = &n->ifaces[i];
    char name[64];

    snprintf(name, sizeof name, "IM_NODE_NET_%zu_IP", i);
    host_var(out, name, f->ip ? f->ip : "");
    if (!f->hostname)
      continue;
    snprintf(name, sizeof name, "IM_NODE_NET_%zu_HOSTNAME", i);
    host_var(out, name, f->hostname);
    snprintf(name, sizeof name, "IM_NODE_NET_%zu_DOMAIN", i);
    host_var(out, name, f->domain ? f->domain : "");
    snprintf(name, sizeof name, "IM_NODE_NET_%zu_FQDN", i);
    imc_buf_addf(out, " %s=", name);
    {
      struct imc_buf fq;

      imc_buf_init(&fq, 4096);
      imc_buf_addf(&fq, "%s%s%s", f->hostname, f->domain && *f->domain ? "." : "",
                   f->domain ? f->domain : "");
      ctxt_ini_value(out, imc_buf_cstr(&fq));
      imc_buf_free(&fq);
    }
  }
}

static const char *fqdn_of(const struct ctxt_node *n, char *buf, size_t size)
{
  if (n->domain && *n->domain)
    snprintf(buf, size, "%s.%s", n->hostname, n->domain);
  else
    snprintf(buf, size, "%s", n->hostname);
  return buf;
}

static void host_line(struct imc_buf *out, const struct ctxt_infra *inf, const struct ctxt_node *n)
{
  char fqdn[512];

  imc_buf_adds(out, n->name);
  host_var(out, "ansible_host", n->address);
  if (n->port && n->port != 22)
    imc_buf_addf(out, " ansible_port=%d", n->port);
  host_var(out, "ansible_user", n->user);
  host_var(out, "ansible_ssh_private_key_file", n->key_file);
  if (!n->key_file)
    host_var(out, "ansible_ssh_pass", n->password);
  if (n->user && strcmp(n->user, "root") != 0)
    imc_buf_adds(out, " ansible_become=True");
  ssh_args(out, inf, n);
  host_var(out, "IM_NODE_HOSTNAME", n->hostname);
  host_var(out, "IM_NODE_DOMAIN", n->domain ? n->domain : "");
  host_var(out, "IM_NODE_FQDN", fqdn_of(n, fqdn, sizeof fqdn));
  host_var(out, "IM_NODE_PRIVATE_IP", n->private_ip ? n->private_ip : "");
  host_var(out, "IM_NODE_PUBLIC_IP", n->public_ip ? n->public_ip : "");
  ifaces_vars(out, n);
  imc_buf_addf(out, " IM_NODE_NUM=%u IM_NODE_VMID=%u", n->num, n->vmid); /* integers */
  host_var(out, "IM_NODE_CLOUD_TYPE", n->cloud_type);
  disks_var(out, n);
  host_var(out, "IMC_NEW_PASSWORD", n->new_password);
  host_var(out, "IMC_NEW_PUBLIC_KEY", n->new_public_key);
  imc_buf_addc(out, '\n');
}

static void all_var(struct imc_buf *out, const char *name, const char *value)
{
  imc_buf_addf(out, "%s = ", name);
  py_literal(out, value ? value : "");
  imc_buf_addc(out, '\n');
}

static void all_vars(struct imc_buf *out, const struct ctxt_infra *inf)
{
  const struct ctxt_node *m = &inf->nodes[inf->master];
  char fqdn[512];

  imc_buf_adds(out, "[all:vars]\n");
  all_var(out, "ansible_python_interpreter", "/usr/bin/python3");
  all_var(out, "IM_INFRASTRUCTURE_ID", inf->id);
  all_var(out, "IM_MASTER_HOSTNAME", m->hostname);
  all_var(out, "IM_MASTER_DOMAIN", m->domain);
  all_var(out, "IM_MASTER_FQDN", fqdn_of(m, fqdn, sizeof fqdn));
  all_var(out, "IM_MASTER_PRIVATE_IP", m->private_ip);
  all_var(out, "IM_MASTER_PUBLIC_IP", m->public_ip);
  imc_buf_addf(out, "IM_MASTER_VMID = %u\n", m->vmid);
}

/* True when system was already written as a group (groups are written in node order). */
static bool seen_before(const struct ctxt_infra *inf, size_t i)
{
  for (size_t j = 0; j < i; j++) {
    if (strcmp(inf->nodes[j].system, inf->nodes[i].system) == 0)
      return true;
  }
  return false;
}

int ctxt_inventory(const struct ctxt_infra *inf, struct imc_buf *out, struct imc_err *err)
{
  if (!inf->n)
    return imc_fail(err, IMC_E_INVAL, "an inventory needs at least one node");
  for (size_t i = 0; i < inf->n; i++) {
    const struct ctxt_node *n = &inf->nodes[i];

    if (!n->key_file && n->password && !inf->have_sshpass)
      return imc_fail(err, IMC_E_INVAL,
                      "VM %u has only a password and sshpass is not installed: Ansible "
                      "cannot log in with a password without it",
                      n->vmid);
    if (!n->key_file && !n->password)
      return imc_fail(err, IMC_E_INVAL, "VM %u has neither a private key nor a password", n->vmid);
  }
  imc_buf_addf(out, "# Written by imc for infrastructure %s.\n", inf->id);
  all_vars(out, inf);
  for (size_t i = 0; i < inf->n; i++) {
    if (seen_before(inf, i))
      continue;
    imc_buf_addf(out, "\n[%s]\n", inf->nodes[i].system);
    for (size_t j = i; j < inf->n; j++) {
      if (strcmp(inf->nodes[j].system, inf->nodes[i].system) == 0)
        host_line(out, inf, &inf->nodes[j]);
    }
  }
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "the inventory is too large");
  return 0;
}
