/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The infrastructure's own SSH key pair, made with libssh: the contextualizer logs in with it
 * once the VMs accept it (IM's "agent key"). */
#ifndef IMC_SSH_KEY_H
#define IMC_SSH_KEY_H

#include "imc/err.h"

enum imc_ssh_key_type { IMC_SSH_KEY_ED25519, IMC_SSH_KEY_RSA };

/* Generates a key pair: *priv receives the private key in OpenSSH format ("-----BEGIN OPENSSH
 * PRIVATE KEY-----"), *pub the public key as an authorized_keys line ("ssh-ed25519 AAAA...
 * comment").  comment may be NULL ("imc").  RSA keys have 3072 bits.  Caller frees *priv with
 * imc_free_secret() and *pub with imc_free().  Errors: IMC_E_INVAL (unknown type or a comment
 * with a newline), IMC_E_NOMEM, IMC_E_INTERNAL (libssh failed). */
int imc_ssh_keypair(enum imc_ssh_key_type type, const char *comment, char **priv, char **pub,
                    struct imc_err *err);

#endif
