/* SPDX-License-Identifier: GPL-3.0-or-later */
/* FakeCloud: a connector for tests whose cloud lives outside the calling process, so that a
 * test can kill the process (kill -9) and compare what the cloud has with what imc's store
 * knows.
 *
 * Auth entry: `type = FakeCloud; host = DIR; username = u; password = p` (credentials are
 * required, their values are not checked), optionally `fail_launch_every = N`.  The cloud is
 * the directory DIR, which must exist: its file `events` is an append-only log with one line
 * per change, each appended with one write(2) under an exclusive flock(2), so that it is
 * complete or absent whenever the writer dies:
 *   create INSTANCE_ID CLIENT_TOKEN    a launch created an instance (state pending)
 *   state INSTANCE_ID STATE            the instance's state changed (IM's state names)
 *   delete INSTANCE_ID                 the instance was deleted
 *   refuse CLIENT_TOKEN                a launch was refused (fail_launch_every); created nothing
 * The cloud's state is the replay of the log.  A last line without its newline (a torn
 * write) is ignored, and the next writer cuts it off before it appends.
 *
 * Like a real API it is asynchronous: a launch leaves the instance pending and the first
 * update() after it finds it running.  With fail_launch_every = N, every Nth launch request
 * (the creates and refusals already in the log count) fails with IMC_E_CLOUD, retry set.
 * concrete() accepts a system whose disk.0.image.url is a fake:// URL (or one of a list) or
 * that names no image, and refuses any other image with IMC_E_NOTFOUND.  Its VMs are never
 * contextualized (IMC_CAP_NO_CTXT): the addresses it reports are never contacted. */
#ifndef IMC_TEST_FAKECLOUD_H
#define IMC_TEST_FAKECLOUD_H

#include <stddef.h>

#include "imc/connector.h"
#include "imc/err.h"

#define FAKECLOUD_EVENTS   "events" /* the log's name inside the cloud's directory */
#define FAKECLOUD_MAX_LINE 256      /* longest event line, newline included */

extern const struct imc_connector imc_fake_cloud;

/* The ids of the live instances (created and not deleted) of the cloud in dir, in creation
 * order, read from the log itself (not from any cache of this process).  *instances: *n
 * strings, caller frees with fakecloud_ids_free.  A directory with no log is an empty
 * cloud. */
int fakecloud_live(const char *dir, char ***instances, size_t *n, struct imc_err *err);
void fakecloud_ids_free(char **ids, size_t n);

#endif
