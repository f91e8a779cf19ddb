/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc's one error type: a code for control flow, a sentence for the user. */
#ifndef IMC_ERR_H
#define IMC_ERR_H

#include <stdbool.h>

#if defined(__GNUC__)
#define IMC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define IMC_NODISCARD __attribute__((warn_unused_result))
#else
#define IMC_PRINTF(fmt, args)
#define IMC_NODISCARD
#endif

/* X-macro: one list feeds the enum and imc_code_name().  The API layers map codes to IM's
 * answers: AUTH is a missing or invalid IM credential (HTTP 401), FORBIDDEN not the owner or a
 * function BOOT_MODE disables (403), NOTFOUND an unknown or deleted id (404), CONFLICT a state
 * that forbids the call now (409), UNSUPPORTED something this build does not do (TOSCA input,
 * OIDC tokens): an honest refusal, never a fake success. */
#define IMC_CODES(X)                  \
  X(IMC_OK, "ok")                     \
  X(IMC_E_NOMEM, "nomem")             \
  X(IMC_E_INVAL, "invalid")           \
  X(IMC_E_PARSE, "parse")             \
  X(IMC_E_TOOBIG, "toobig")           \
  X(IMC_E_AUTH, "auth")               \
  X(IMC_E_FORBIDDEN, "forbidden")     \
  X(IMC_E_CONFLICT, "conflict")       \
  X(IMC_E_UNSUPPORTED, "unsupported") \
  X(IMC_E_QUOTA, "quota")             \
  X(IMC_E_NOTFOUND, "notfound")       \
  X(IMC_E_CLOUD, "cloud")             \
  X(IMC_E_TIMEOUT, "timeout")         \
  X(IMC_E_IO, "io")                   \
  X(IMC_E_INTERNAL, "internal")

enum imc_code {
#define IMC_CODE_ENUM(name, text) name,
  IMC_CODES(IMC_CODE_ENUM)
#undef IMC_CODE_ENUM
};

#define IMC_ERR_MSG_MAX 320

struct imc_err {
  enum imc_code code;
  bool retry;                /* trying again, here or on another cloud, may succeed */
  int status;                /* HTTP status seen, 0 if none */
  char msg[IMC_ERR_MSG_MAX]; /* one sentence for the user; never a secret */
};

/* Resets *e to "no error". */
void imc_err_clear(struct imc_err *e);

/* Records a failure unless one is already recorded (the first failure is the one the
 * user needs to see).  Returns code, so callers write `return imc_fail(...)`.
 * e may be NULL.  The message is cut at IMC_ERR_MSG_MAX - 1 bytes. */
int imc_fail(struct imc_err *e, enum imc_code code, const char *fmt, ...) IMC_PRINTF(3, 4);

/* As imc_fail, for an error in an input document: the message starts with
 * "file:line:col: " (the file part is left out when file is NULL). */
int imc_fail_at(struct imc_err *e, enum imc_code code, const char *file, int line, int col,
                const char *fmt, ...) IMC_PRINTF(6, 7);

/* Puts a formatted prefix before the message already recorded, keeping its code, which it
 * returns ("Error creating snapshot: " + what the cloud said). */
int imc_err_prefix(struct imc_err *e, const char *fmt, ...) IMC_PRINTF(2, 3);

/* The code's short name ("parse", "nomem", ...): static storage. */
const char *imc_code_name(enum imc_code code);

#endif
