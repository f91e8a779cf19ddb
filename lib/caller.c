/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Who calls, as IM's check_auth_data decides it, and the owner keys that record who owns an
 * infrastructure.  IM stores the owners' IM user names and passwords and compares them; imc
 * stores only "name<TAB>hex(SHA-256(salt, name, password))", with a random salt kept in the
 * store, so a copy of the database gives no password away (and none can be shown). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "engine_int.h"
#include "imc/alloc.h"

#define IM_TYPE "InfrastructureManager"
#define OPENID_PREFIX "__OPENID__" /* IM's names for OIDC users: never usable with a password */

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

int owner_key(const char *salt, const char *name, const char *password, char **out)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  size_t nlen = strlen(name);
  EVP_MD_CTX *ctx;
  char *key;
  int ok;

  *out = NULL;
  if (!(ctx = EVP_MD_CTX_new()))
    return IMC_E_NOMEM;
  /* The NULs keep ("ab", "c") and ("a", "bc") apart. */
  ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, salt, strlen(salt) + 1) &&
       EVP_DigestUpdate(ctx, name, nlen + 1) &&
       EVP_DigestUpdate(ctx, password, strlen(password)) && EVP_DigestFinal_ex(ctx, md, &mdlen);
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return IMC_E_INTERNAL;
  if (!(key = imc_malloc(nlen + 1 + 2 * mdlen + 1)))
    return IMC_E_NOMEM;
  memcpy(key, name, nlen);
  key[nlen] = '\t';
  for (unsigned i = 0; i < mdlen; i++) {
    key[nlen + 1 + 2 * i] = hex[md[i] >> 4];
    key[nlen + 2 + 2 * i] = hex[md[i] & 15];
  }
  key[nlen + 1 + 2 * mdlen] = '\0';
  *out = key;
  return 0;
}

char *owner_key_name(const char *key)
{
  const char *tab = strchr(key, '\t');

  return imc_strndup(key, tab ? (size_t)(tab - key) : strlen(key));
}

void caller_cleanup(struct caller *c)
{
  for (size_t i = 0; i < c->n; i++) {
    imc_free(c->keys[i]);
    imc_free(c->names[i]);
  }
  imc_free(c->keys);
  imc_free(c->names);
  memset(c, 0, sizeof *c);
}

static bool is_admin(const struct imc_engine *e, const char *key)
{
  for (size_t i = 0; i < e->nadmins; i++)
    if (strlen(e->admin_keys[i]) == strlen(key) &&
        CRYPTO_memcmp(e->admin_keys[i], key, strlen(key)) == 0)
      return true;
  return false;
}

/* One InfrastructureManager entry: its name and owner key appended to c. */
static int identify_entry(const struct imc_engine *e, const struct imc_auth_entry *en,
                          struct caller *c, struct imc_err *err)
{
  const char *user = imc_auth_get(en, "username"), *pass = imc_auth_get(en, "password");
  char *key = NULL, *name = NULL;

  if (imc_auth_get(en, "token"))
    return imc_fail(err, IMC_E_UNSUPPORTED,
                    "OIDC tokens for the InfrastructureManager are not supported by this build: "
                    "use username and password");
  if (!user)
    return imc_fail(err, IMC_E_AUTH, "No username nor token for the InfrastructureManager.");
  if (strncmp(user, OPENID_PREFIX, strlen(OPENID_PREFIX)) == 0)
    return imc_fail(err, IMC_E_AUTH, "Invalid username used for the InfrastructureManager.");
  /* IM accepts a user with no password, which anyone knowing the name could then use. */
  if (!pass || !*pass)
    return imc_fail(err, IMC_E_AUTH, "No password for the InfrastructureManager user.");
  if (strlen(user) > OWNER_KEY_MAX - 80)
    return imc_fail(err, IMC_E_AUTH, "InfrastructureManager username too long.");
  if (owner_key(e->salt, user, pass, &key) || !(name = imc_strdup(user)))
    goto nomem;
  c->keys[c->n] = key;
  c->names[c->n] = name;
  c->n++;
  if (is_admin(e, key))
    c->admin = true;
  return 0;
nomem:
  imc_free(key);
  return nomem(err);
}

int caller_identify(const struct imc_engine *e, const struct imc_auth *auth, struct caller *out,
                    struct imc_err *err)
{
  struct caller c = {0};
  size_t pos = 0, n = 0;
  int r;

  while (imc_auth_next_of_type(auth, IM_TYPE, NULL, &pos))
    n++;
  if (n == 0)
    return imc_fail(err, IMC_E_AUTH, "No credentials provided for the InfrastructureManager.");
  if (!(c.keys = imc_calloc(n, sizeof *c.keys)) || !(c.names = imc_calloc(n, sizeof *c.names))) {
    caller_cleanup(&c);
    return nomem(err);
  }
  pos = 0;
  for (const struct imc_auth_entry *en; (en = imc_auth_next_of_type(auth, IM_TYPE, NULL, &pos));)
    if ((r = identify_entry(e, en, &c, err)) != 0) {
      caller_cleanup(&c);
      return r;
    }
  *out = c;
  return 0;
}

bool caller_owns(const struct caller *c, const struct infra *inf)
{
  if (c->admin)
    return true;
  for (size_t i = 0; i < c->n; i++)
    for (size_t j = 0; j < inf->nowners; j++)
      if (strcmp(c->keys[i], inf->owners[j]) == 0)
        return true;
  return false;
}

int caller_set_owners(const struct caller *c, struct infra *inf)
{
  if (!(inf->owners = imc_calloc(c->n, sizeof *inf->owners)))
    return IMC_E_NOMEM;
  for (; inf->nowners < c->n; inf->nowners++)
    if (!(inf->owners[inf->nowners] = imc_strdup(c->keys[inf->nowners])))
      return IMC_E_NOMEM;
  return 0;
}
