# SPDX-License-Identifier: GPL-3.0-or-later
"""What the tests on real Netns hosts share (test_netns.py, test_ctxt_netns.py): the backend's
name prefix of a state directory, running a command, polling, and the list of what a state
directory's hosts left on the machine."""

import os
import subprocess
import time


def fnv_prefix(path):
    """The backend's name prefix: "n" and 5 hex digits of FNV-1a over the real path."""
    h = 2166136261
    for b in os.path.realpath(path).encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return "n%05x" % (h & 0xFFFFF)


def run(argv, check=True, timeout=120, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d: %s%s" % (argv, p.returncode, p.stdout, p.stderr))
    return p


def poll(what, fn, deadline, interval):
    """fn()'s first true value; deadline (seconds) is generous, never part of an assertion."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("gave up waiting for " + what)
        time.sleep(interval)


def host_pids(state_dir):
    """The PIDs a state directory's hosts recorded (their sshd)."""
    out = []
    d = os.path.join(state_dir, "hosts")
    for h in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        try:
            with open(os.path.join(d, h, "pid"), encoding="utf-8") as f:
                out.append(int(f.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def leftovers(prefix, state_dir):
    """Everything of a state directory (and its name prefix) the machine still has."""
    found = []
    netns = run(["ip", "netns", "list"]).stdout
    found += [l for l in netns.splitlines() if l.startswith(prefix)]
    links = run(["ip", "-o", "link", "show"]).stdout
    found += [l.split(":")[1].strip() for l in links.splitlines()
              if l.split(":")[1].strip().startswith(prefix)]
    found += [l for l in run(["losetup", "-a"]).stdout.splitlines() if state_dir in l]
    with open("/proc/mounts", encoding="utf-8") as f:
        found += [l for l in f if state_dir in l]
    # A host's processes see its overlayfs root (upperdir under state_dir) in their mountinfo,
    # whether or not its namespace still has a name.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/mountinfo" % pid, encoding="utf-8") as f:
                if state_dir in f.readline():
                    found.append("process %s" % pid)
        except OSError:
            pass
    return found
