#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks scripts/imcd.service: systemd-analyze accepts it, and its commands, run as systemd
would run them (with the built imcd and a temporary configuration in place of the installed
paths), check the configuration, serve, and stop cleanly on the unit's KillSignal within its
TimeoutStopSec.  Traffic goes to 127.0.0.1 only.

Usage: test_service.py IMCD SOURCE_ROOT"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

IMCD, ROOT = sys.argv[1], sys.argv[2]
UNIT = os.path.join(ROOT, "scripts", "imcd.service")
INSTALLED_BIN, INSTALLED_CONF = "/usr/local/bin/imcd", "/etc/imc/imcd.conf"


def unit_settings(text):
    """The unit's Key=Value lines as {key: [values]}."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    failures = []
    with open(UNIT, encoding="utf-8") as f:
        unit = f.read()
    with tempfile.TemporaryDirectory(prefix="imcd-service-") as tmp:
        conf = os.path.join(tmp, "imcd.conf")
        port = free_port()
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[im]\nREST_PORT = %d\nXMLRCP_PORT = %d\nDATA_DB = %s\nLOG_FILE = %s\n" % (
                port, free_port(), os.path.join(tmp, "imc.db"), os.path.join(tmp, "imcd.log")))
        local = unit.replace(INSTALLED_BIN, os.path.abspath(IMCD)).replace(INSTALLED_CONF, conf)
        path = os.path.join(tmp, "imcd.service")
        with open(path, "w", encoding="utf-8") as f:
            f.write(local)

        analyze = shutil.which("systemd-analyze")
        if not analyze:
            failures.append("systemd-analyze is not installed (scripts/setup installs systemd)")
        else:
            r = subprocess.run([analyze, "verify", path], capture_output=True, text=True)
            # Lines about this unit are its own problems; others are the host's units.
            mine = [l for l in (r.stdout + r.stderr).splitlines() if "imcd.service" in l]
            if r.returncode != 0 or mine:
                failures.append("systemd-analyze verify: %d\n%s" % (r.returncode, "\n".join(mine)))
            else:
                print("ok   systemd-analyze verify")

        s = unit_settings(local)
        pre = subprocess.run(shlex.split(s["ExecStartPre"][0]), capture_output=True, text=True)
        if pre.returncode != 0 or "configuration ok" not in pre.stdout:
            failures.append("ExecStartPre: %d %s%s" % (pre.returncode, pre.stdout, pre.stderr))
        else:
            print("ok   ExecStartPre checks the configuration")

        proc = subprocess.Popen(shlex.split(s["ExecStart"][0]), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        version = None
        while version is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/version" % port, timeout=5) as r:
                    version = r.read().decode()
            except OSError:
                time.sleep(0.1)
        if not version:
            failures.append("ExecStart did not serve /version")
        else:
            print("ok   ExecStart serves: " + version)
        proc.send_signal(getattr(signal, s["KillSignal"][0]))
        stop_s = float(s["TimeoutStopSec"][0])
        try:
            code = proc.wait(timeout=stop_s)
            err = proc.stderr.read()
            if code != 0:
                failures.append("exit %d on %s:\n%s" % (code, s["KillSignal"][0], err))
            else:
                print("ok   stops with status 0 on %s" % s["KillSignal"][0])
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            failures.append("did not stop within TimeoutStopSec=%g" % stop_s)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
