#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kill -9 test: a process running deployments is killed with SIGKILL at random points,
and after each kill a fresh process checks that every infrastructure and VM is still there
and that no cloud resource is forgotten.

Usage: test_crash.py CRASH_DRIVER [ITERATIONS]   (default 50)

One store and one FakeCloud directory serve every iteration, so each restart also recovers
what the earlier kills left.  Each iteration starts `crash_driver run`, picks a kill point
from a seeded generator (IMC_CRASH_SEED=N replays a run's kill points) and sends SIGKILL:
mostly 0 to 300 ms after the driver acknowledged a first create of its own, sometimes 0 to
300 ms after its start, whether it acknowledged anything or not.  Then `crash_driver check`
must find nothing wrong.  Only the kill point depends on time; what is checked never does."""

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")
COUNTS = re.compile(r"^infras (\d+) vms (\d+) live-instances (\d+)$", re.M)
EARLY_KILLS = 0.2     # share of kills that do not wait for a first acknowledgement
MAX_DELAY = 0.3       # seconds, the widest kill point after the start or the first ack
PROGRESS_LIMIT = 120  # seconds a driver may take to acknowledge its first create at all
CHECK_TIMEOUT = 300


class Failure(Exception):
    pass


def count_lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def sanitizer_check(what, text):
    if SANITIZER_REPORT.search(text):
        raise Failure("sanitizer report from %s:\n%s" % (what, text))


def kill_run(driver, paths, rng, log):
    """Starts a driver and kills it at the chosen point; returns whether the kill was early."""
    store, cloud, acks, errlog = paths
    before = count_lines(acks)
    early = rng.random() < EARLY_KILLS
    delay = rng.uniform(0, MAX_DELAY)
    with open(errlog, "w") as err:
        proc = subprocess.Popen([driver, "run", store, cloud, acks], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        if not early:
            deadline = time.monotonic() + PROGRESS_LIMIT
            while count_lines(acks) == before and proc.poll() is None:
                if time.monotonic() > deadline:
                    raise Failure("the driver acknowledged nothing in %d s" % PROGRESS_LIMIT)
                time.sleep(0.005)
        time.sleep(delay)
        if proc.poll() is not None:
            raise Failure("the driver exited by itself (status %d):\n%s"
                          % (proc.returncode, read(errlog)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sanitizer_check("crash_driver run", read(errlog))
    log.append((early, delay, count_lines(acks) - before))
    return early


def check(driver, paths):
    store, cloud, acks, _ = paths
    proc = subprocess.run([driver, "check", store, cloud, acks], capture_output=True, text=True,
                          timeout=CHECK_TIMEOUT)
    sanitizer_check("crash_driver check", proc.stderr)
    counts = COUNTS.search(proc.stdout)
    if proc.returncode != 0 or not counts:
        raise Failure("check failed (status %d)\n--- stdout\n%s--- stderr\n%s"
                      % (proc.returncode, proc.stdout, proc.stderr))
    return tuple(int(x) for x in counts.groups())


def checker_can_fail(driver, paths):
    """The checker must see a broken promise: an instance nobody knows of, and an
    acknowledged infrastructure the store lost.  Run last: it spoils the cloud and the acks."""
    store, cloud, acks, _ = paths
    instance, infra = "fc-00000000deadbeef", "00000000-0000-4000-8000-000000000000"
    with open(os.path.join(cloud, "events"), "a") as f:
        f.write("create %s forgotten-token\n" % instance)
    with open(acks, "a") as f:
        f.write("created %s\n" % infra)
    proc = subprocess.run([driver, "check", store, cloud, acks], capture_output=True, text=True,
                          timeout=CHECK_TIMEOUT)
    sanitizer_check("crash_driver check", proc.stderr)
    for want in ("instance %s is live in the cloud but no VM of the store has it" % instance,
                 "infrastructure %s was created and acknowledged but is not listed" % infra):
        if proc.returncode != 1 or want not in proc.stdout.splitlines():
            raise Failure("the checker missed: %s (status %d)\n--- stdout\n%s"
                          % (want, proc.returncode, proc.stdout))


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: test_crash.py CRASH_DRIVER [ITERATIONS]\n")
        return 2
    driver = sys.argv[1]
    iterations = int(sys.argv[2]) if len(sys.argv) == 3 else 50
    seed = int(os.environ.get("IMC_CRASH_SEED", random.SystemRandom().randrange(2**32)))
    rng = random.Random(seed)
    print("seed %d (IMC_CRASH_SEED=%d replays these kill points)" % (seed, seed))
    log = []
    counts = (0, 0, 0)
    with tempfile.TemporaryDirectory(prefix="imc-crash-") as tmp:
        cloud = os.path.join(tmp, "cloud")
        os.mkdir(cloud)
        paths = (os.path.join(tmp, "imc.db"), cloud, os.path.join(tmp, "acks"),
                 os.path.join(tmp, "run.stderr"))
        open(paths[2], "w").close()
        for i in range(iterations):
            try:
                t0 = time.monotonic()
                kill_run(driver, paths, rng, log)
                t1 = time.monotonic()
                counts = check(driver, paths)
                t2 = time.monotonic()
            except (Failure, subprocess.TimeoutExpired) as e:
                print("FAIL iteration %d of %d (seed %d): %s" % (i + 1, iterations, seed, e))
                return 1
            early, delay, acked = log[-1]
            print("ok   iteration %d: killed %3.0f ms after %s, %d new acks; infras %d vms %d "
                  "live-instances %d (run %.1f s, check %.1f s)"
                  % (i + 1, delay * 1000, "start" if early else "first ack", acked, *counts,
                     t1 - t0, t2 - t1))
        acks = read(paths[2])
        try:
            checker_can_fail(driver, paths)
        except (Failure, subprocess.TimeoutExpired) as e:
            print("FAIL the checker: %s" % e)
            return 1
        print("ok   the checker reports a forgotten instance and a lost infrastructure")
    print("%d iterations (%d killed before waiting for an ack), %d creates and %d destroys "
          "acknowledged; at the end: %d infrastructures, %d VMs, %d live instances"
          % (iterations, sum(1 for e in log if e[0]), acks.count("created "),
             acks.count("destroyed "), *counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
