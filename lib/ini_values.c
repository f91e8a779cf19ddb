/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A few values of one section of an INI file, read as Python's RawConfigParser reads them:
 * what im-client's configuration file (im_client.cfg) needs. */
#include <string.h>

#include "imc/alloc.h"
#include "imc/config.h"
#include "ini.h"

int imc_ini_values(const char *path, const char *section, const char *const *names, char **values,
                   struct imc_err *err)
{
  struct ini ini = {.source = path, .main = section, .im = INI_NONE, .def = INI_NONE};
  struct imc_buf text;
  size_t n = 0, at;
  int r, line, col;

  while (names[n])
    values[n++] = NULL;
  imc_buf_init(&text, IMC_MAX_CONFIG);
  if ((r = imc_read_file(path, &text, err)) != 0)
    goto out;
  if ((at = ini_bad_text_at(text.data, text.len)) < text.len) {
    ini_position(text.data, at, &line, &col);
    r = imc_fail_at(err, IMC_E_INVAL, path, line, col, "%s",
                    text.data[at] ? "not valid UTF-8 text" : "a NUL byte");
    goto out;
  }
  if ((r = ini_read(&ini, text.len ? text.data : "", text.len, err)) != 0 ||
      (r = ini_index(&ini, err)) != 0)
    goto out;
  for (size_t i = 0; i < n && r == 0; i++) {
    const struct ini_ent *e = ini_find(&ini, ini.im, names[i], strlen(names[i]));

    if (!e)
      e = ini_find(&ini, ini.def, names[i], strlen(names[i]));
    if (e && !(values[i] = imc_strndup(e->value.len ? e->value.data : "", e->value.len)))
      r = ini_nomem(err);
  }
out:
  if (r)
    for (size_t i = 0; i < n; i++) {
      imc_free(values[i]);
      values[i] = NULL;
    }
  ini_free(&ini);
  ini_buf_wipe_free(&text);
  return r;
}
