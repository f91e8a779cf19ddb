/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc_ssh_keypair: the infrastructure's own key pair, checked with libssh and ssh-keygen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "imc/alloc.h"
#include "imc/ssh_key.h"

static void test_ssh_keypair_ed25519_is_openssh_format(void **state)
{
  struct imc_err err = {0};
  char *priv, *pub;

  (void)state;
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &priv, &pub, &err), 0);
  assert_non_null(strstr(priv, "-----BEGIN OPENSSH PRIVATE KEY-----"));
  assert_int_equal(strncmp(pub, "ssh-ed25519 AAAA", 16), 0);
  assert_non_null(strstr(pub, " imc"));
  assert_null(strchr(pub, '\n'));
  imc_free_secret(priv);
  imc_free(pub);
}

static void test_ssh_keypair_rsa_has_rsa_public_line(void **state)
{
  struct imc_err err = {0};
  char *priv, *pub;

  (void)state;
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_RSA, "infra-1", &priv, &pub, &err), 0);
  assert_non_null(strstr(priv, "PRIVATE KEY-----"));
  assert_int_equal(strncmp(pub, "ssh-rsa AAAA", 12), 0);
  assert_non_null(strstr(pub, " infra-1"));
  imc_free_secret(priv);
  imc_free(pub);
}

/* The public line is the public half of the private key (libssh derives it back). */
static void test_ssh_keypair_halves_match(void **state)
{
  struct imc_err err = {0};
  char *priv, *pub, *b64 = NULL;
  ssh_key key = NULL;

  (void)state;
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &priv, &pub, &err), 0);
  assert_int_equal(ssh_pki_import_privkey_base64(priv, NULL, NULL, NULL, &key), SSH_OK);
  assert_int_equal(ssh_pki_export_pubkey_base64(key, &b64), SSH_OK);
  assert_non_null(strstr(pub, b64));
  ssh_string_free_char(b64);
  ssh_key_free(key);
  imc_free_secret(priv);
  imc_free(pub);
}

/* OpenSSH's own ssh-keygen reads the private key and prints the same public key. */
static void test_ssh_keypair_private_key_read_by_ssh_keygen(void **state)
{
  struct imc_err err = {0};
  char *priv, *pub, path[] = "/tmp/imc-key-XXXXXX", line[512] = "";
  char cmd_out[] = "/tmp/imc-keyout-XXXXXX";
  int fd, ofd, status;
  pid_t pid;
  FILE *f;

  (void)state;
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &priv, &pub, &err), 0);
  assert_true((fd = mkstemp(path)) >= 0);
  assert_int_equal(write(fd, priv, strlen(priv)), (ssize_t)strlen(priv));
  close(fd);
  assert_true((ofd = mkstemp(cmd_out)) >= 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(ofd, 1);
    execlp("ssh-keygen", "ssh-keygen", "-y", "-f", path, (char *)NULL);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  f = fdopen(ofd, "r");
  rewind(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  unlink(path);
  unlink(cmd_out);
  /* ssh-keygen prints "TYPE BASE64 [comment]": the first two words must match ours. */
  assert_int_equal(strncmp(line, pub, (size_t)(strrchr(pub, ' ') - pub)), 0);
  imc_free_secret(priv);
  imc_free(pub);
}

static void test_ssh_keypair_two_calls_differ(void **state)
{
  struct imc_err err = {0};
  char *p1, *q1, *p2, *q2;

  (void)state;
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &p1, &q1, &err), 0);
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &p2, &q2, &err), 0);
  assert_string_not_equal(q1, q2);
  imc_free_secret(p1);
  imc_free_secret(p2);
  imc_free(q1);
  imc_free(q2);
}

static void test_ssh_keypair_rejects_bad_type_and_comment(void **state)
{
  struct imc_err err = {0};
  char *priv = (char *)1, *pub = (char *)1;

  (void)state;
  assert_int_equal(imc_ssh_keypair((enum imc_ssh_key_type)7, NULL, &priv, &pub, &err), IMC_E_INVAL);
  assert_null(priv);
  assert_null(pub);
  memset(&err, 0, sizeof err);
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, "a\nb", &priv, &pub, &err), IMC_E_INVAL);
  assert_null(priv);
}

static void test_ssh_keypair_out_of_memory_is_clean(void **state)
{
  struct imc_err err = {0};
  char *priv = NULL, *pub = NULL;
  int r = -1;

  (void)state;
  /* Fail each imc allocation in turn: every failure is IMC_E_NOMEM with nothing handed out. */
  for (unsigned long n = 1; n < 10 && r != 0; n++) {
    memset(&err, 0, sizeof err);
    imc_alloc_fail_at(n);
    r = imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &priv, &pub, &err);
    imc_alloc_fail_at(0);
    if (r) {
      assert_int_equal(r, IMC_E_NOMEM);
      assert_null(priv);
      assert_null(pub);
    }
  }
  assert_int_equal(r, 0);
  imc_free_secret(priv);
  imc_free(pub);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ssh_keypair_ed25519_is_openssh_format),
    cmocka_unit_test(test_ssh_keypair_rsa_has_rsa_public_line),
    cmocka_unit_test(test_ssh_keypair_halves_match),
    cmocka_unit_test(test_ssh_keypair_private_key_read_by_ssh_keygen),
    cmocka_unit_test(test_ssh_keypair_two_calls_differ),
    cmocka_unit_test(test_ssh_keypair_rejects_bad_type_and_comment),
    cmocka_unit_test(test_ssh_keypair_out_of_memory_is_clean),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
