/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's backend-independent parts: the URL and freeing what the store hands out.
 * There is one backend so far (store_sqlite.c); the functions that work on a store go
 * straight to it, and become a table of operations when a second backend arrives. */
#include "imc/store.h"
#include "imc/alloc.h"
#include "store_int.h"

#include <string.h>

#define SQLITE_SCHEME "sqlite://"

void imc_store_infra_cleanup(struct imc_store_infra *inf)
{
  imc_free_secret(inf->radl); /* the document may carry passwords of the systems */
  imc_free_secret(inf->extra);
  imc_store_ids_free(inf->owners, inf->nowners);
  inf->radl = inf->extra = NULL;
  inf->owners = NULL;
  inf->nowners = 0;
}

void imc_store_vm_cleanup(struct imc_store_vm *vm)
{
  char **fields[] = {&vm->cloud_id,     &vm->cloud_type, &vm->instance_id,
                     &vm->client_token, &vm->system,     &vm->error};

  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    imc_free_secret(*fields[i]);
    *fields[i] = NULL;
  }
}

void imc_store_vms_free(struct imc_store_vm *vms, size_t n)
{
  if (!vms)
    return;
  for (size_t i = 0; i < n; i++)
    imc_store_vm_cleanup(&vms[i]);
  imc_free(vms);
}

void imc_store_ids_free(char **ids, size_t n)
{
  if (!ids)
    return;
  for (size_t i = 0; i < n; i++)
    imc_free(ids[i]);
  imc_free(ids);
}

/* "sqlite:///abs/path" or a plain path.  Other schemes (postgresql://) are not built yet. */
int imc_store_open(const char *url, struct imc_store **out, struct imc_err *err)
{
  const char *path = url, *sep;

  *out = NULL;
  if (!url || !*url)
    return imc_fail(err, IMC_E_INVAL, "store: empty store URL");
  if (strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0) {
    path = url + strlen(SQLITE_SCHEME);
    if (*path != '/')
      /* Not the URL itself: DATA_DB is a secret setting. */
      return imc_fail(err, IMC_E_INVAL, "store: expected sqlite:///absolute/path after sqlite://");
  } else if ((sep = strstr(url, "://")) != NULL) {
    /* Only the scheme goes into the message: the rest of a URL may hold a password. */
    return imc_fail(err, IMC_E_INVAL,
                    "store: unsupported store URL scheme '%.*s' (sqlite:///PATH "
                    "or a path)",
                    (int)(sep - url), url);
  }
  return store_sqlite_open(path, out, err);
}
