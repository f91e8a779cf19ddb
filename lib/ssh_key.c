/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Key generation with libssh.  libssh's own strings come from its allocator: they are copied
 * into imc's and wiped before libssh frees them, so a private key never lingers in a buffer
 * that the caller cannot wipe. */
#include <string.h>

#include <libssh/libssh.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/ssh_key.h"

#define SSH_KEY_RSA_BITS 3072
#define SSH_KEY_MAX_LINE (16u * 1024) /* an authorized_keys line for any key we make */

/* One row per type: libssh's type and the size parameter it takes. */
static const struct {
  enum ssh_keytypes_e type;
  int bits;
} key_types[] = {
  [IMC_SSH_KEY_ED25519] = {SSH_KEYTYPE_ED25519, 0},
  [IMC_SSH_KEY_RSA] = {SSH_KEYTYPE_RSA, SSH_KEY_RSA_BITS},
};

/* The authorized_keys line of key: "TYPE BASE64 COMMENT". */
static int pub_line(ssh_key key, const char *comment, char **out, struct imc_err *err)
{
  struct imc_buf line;
  char *b64 = NULL;

  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
    return imc_fail(err, IMC_E_INTERNAL, "libssh could not export the public key");
  imc_buf_init(&line, SSH_KEY_MAX_LINE);
  imc_buf_addf(&line, "%s %s %s", ssh_key_type_to_char(ssh_key_type(key)), b64, comment);
  ssh_string_free_char(b64);
  if (imc_buf_err(&line) || !(*out = imc_buf_take(&line, NULL))) {
    imc_buf_free(&line);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  return 0;
}

static int priv_text(ssh_key key, char **out, struct imc_err *err)
{
  char *b64 = NULL;
  int r = 0;

  if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK)
    return imc_fail(err, IMC_E_INTERNAL, "libssh could not export the private key");
  if (!(*out = imc_strdup(b64)))
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  explicit_bzero(b64, strlen(b64));
  ssh_string_free_char(b64);
  return r;
}

int imc_ssh_keypair(enum imc_ssh_key_type type, const char *comment, char **priv, char **pub,
                    struct imc_err *err)
{
  ssh_key key = NULL;
  char *p = NULL, *q = NULL;
  int r;

  *priv = *pub = NULL;
  comment = comment ? comment : "imc";
  if ((unsigned)type >= sizeof key_types / sizeof key_types[0])
    return imc_fail(err, IMC_E_INVAL, "unknown SSH key type %d", (int)type);
  if (strpbrk(comment, "\r\n"))
    return imc_fail(err, IMC_E_INVAL, "an SSH key comment cannot hold a newline");
  if (ssh_pki_generate(key_types[type].type, key_types[type].bits, &key) != SSH_OK)
    return imc_fail(err, IMC_E_INTERNAL, "libssh could not generate a key pair");
  if ((r = priv_text(key, &p, err)) != 0 || (r = pub_line(key, comment, &q, err)) != 0)
    goto out;
  *priv = p;
  *pub = q;
  p = q = NULL; /* transferred */
out:
  imc_free_secret(p);
  imc_free(q);
  ssh_key_free(key);
  return r;
}
