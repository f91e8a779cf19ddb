#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real `imc` binary running im-client's operations, twice: in local mode (the engine in
the process, a SQLite store in IMC_DATA_DIR), and against a real `imcd` over its XML-RPC API
(`-u URL`) and over its REST API (`-r URL`), a fresh server on loopback ports for each test.  Each operation's output is
compared with the text im-client 1.8.4 prints, and the exit statuses with 0 (success), 1 (the
operation failed, message on stderr) and 2 (usage).  Clouds are the Dummy connector; traffic
goes to 127.0.0.1 only.

Usage: test_cli_ops.py IMC IMCD"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

IMC, IMCD = sys.argv[1], sys.argv[2]
AUTH = "id = im; type = InfrastructureManager; username = u; password = p\nid = d; type = Dummy\n"
OTHER = "id = im; type = InfrastructureManager; username = v; password = q\nid = d; type = Dummy\n"
RADL = ("network net (outbound = 'no')\nsystem node (cpu.count >= 1 and "
        "net_interface.0.connection = 'net' and disk.0.image.url = 'dummy://img')\n"
        "deploy node 2\n")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Imcd:
    """A real imcd with its own store, REST on a free loopback port."""

    def __init__(self, tmp):
        port, self.xport = free_port(), free_port()
        conf = os.path.join(tmp, "imcd.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[im]\nREST_PORT = %d\nXMLRCP_PORT = %d\nDATA_DB = %s\nLOG_FILE = %s\n" % (
                port, self.xport, os.path.join(tmp, "imcd.db"), os.path.join(tmp, "imcd.log")))
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMC_")}
        self.proc = subprocess.Popen([IMCD, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.url = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/version", timeout=5):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    raise RuntimeError("imcd did not start: " + self.proc.communicate()[1])
                time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        err = self.proc.communicate(timeout=60)[1]
        if self.proc.returncode != 0 or "runtime error:" in err or "Sanitizer" in err:
            raise AssertionError("imcd exited %d: %s" % (self.proc.returncode, err))


class Env:
    def __init__(self, tmp, mode, server=None):
        self.tmp = tmp
        self.server = server
        self.url_option = {"local": [], "rest": ["-r", server and server.url],
                           "xmlrpc": ["-u", server and "http://127.0.0.1:%d/" % server.xport]}[mode]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IMC_")}
        self.env["IMC_DATA_DIR"] = os.path.join(tmp, "data")
        self.auth = self.write("auth.dat", AUTH)
        self.other = self.write("other.dat", OTHER)
        self.radl = self.write("r.radl", RADL)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run(self, *args, stdin=None, auth=True):
        cmd = [IMC] + (["-a", self.auth] if auth is True else ["-a", auth] if auth else [])
        cmd += self.url_option
        r = subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True,
                           env=self.env, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def create(self):
        code, out, err = self.run("create", self.radl)
        expect(code == 0, "create: %d %s" % (code, err))
        return re.fullmatch(r"Infrastructure successfully created with ID: (%s)\n" % UUID,
                            out).group(1)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def test_list_empty(e):
    expect(e.run("list") == (0, "No Infrastructures.\n", ""), "im-client's empty list")
    expect(e.run("-q", "list") == (0, "", ""), "quiet empty list prints nothing")


def test_create_then_list(e):
    a, b = e.create(), e.create()
    code, out, _ = e.run("list")
    expect(code == 0 and out == "Infrastructure IDs: \n  %s\n  %s\n" % (a, b), out)
    code, out, _ = e.run("-q", "list")
    expect(json.loads(out) == [a, b], "quiet list is a JSON list: " + out)


def test_list_filter_is_a_regex_on_the_radl(e):
    e.create()
    expect(e.run("list", "dummy://img")[1].startswith("Infrastructure IDs:"), "filter matches")
    expect(e.run("list", "nothing-like-this")[1] == "No Infrastructures.\n", "filter misses")


def test_state_text_and_quiet_json(e):
    i = e.create()
    code, out, _ = e.run("getstate", i)
    expect(code == 0 and out == "The infrastructure is in state: configured\n"
           "VM ID: 0 is in state: configured.\nVM ID: 1 is in state: configured.\n", out)
    code, out, _ = e.run("-q", "getstate", i)
    expect(json.loads(out) == {"state": "configured",
                               "vm_states": {"0": "configured", "1": "configured"}}, out)


def test_getinfo_prints_each_vm(e):
    i = e.create()
    code, out, _ = e.run("getinfo", i)
    expect(code == 0 and out.count("Info about VM with ID: ") == 2, out)
    expect("Info about VM with ID: 1\n" in out and "system node" in out, out)
    code, quiet, _ = e.run("-q", "getinfo", i)
    expect("Info about VM" not in quiet and "system node" in quiet, quiet)


def test_getvminfo_and_getradl(e):
    i = e.create()
    code, out, _ = e.run("getvminfo", i, "1")
    expect(code == 0 and "system node" in out and "state = 'configured'" in out, out)
    code, out, _ = e.run("getradl", i)
    expect(code == 0 and "deploy node 2" in out, out)
    expect(e.run("getvminfo", i, "x")[0] == 2, "a VM id that is not a number is usage")
    code, _, err = e.run("getvminfo", i, "7")
    expect(code == 1 and err.startswith("ERROR getting the VM info: "), err)


def test_getcontmsg_of_dummy_vms_is_empty(e):
    i = e.create()
    expect(e.run("getcontmsg", i) == (0, "No Msg Contextualizator avaliable\n\n", ""),
           "im-client's text for an empty log")


def test_getversion_needs_no_auth(e):
    code, out, _ = e.run("getversion", auth=None)
    expect(code == 0 and re.fullmatch(r"IM service version: 1\.19\.2-imc-\S+\n", out), out)
    expect(e.run("-q", "getversion", auth=None)[1].startswith("1.19.2-imc-"), "quiet version")


def test_destroy_asks_and_no_cancels(e):
    i = e.create()
    code, out, err = e.run("destroy", i, stdin="no\n")
    expect(code == 1 and out == "Are you sure you want to destroy Inf:%s?\nThis process "
           "cannot be undone!!.\n(yes/no):" % i, out)
    expect(err == "ERROR destroying the infrastructure: Canceled by the user.\n", err)
    expect(i in e.run("list")[1], "still there")


def test_destroy_yes_then_gone(e):
    i = e.create()
    code, out, _ = e.run("destroy", i, stdin="yes\n")
    expect(code == 0 and out.endswith("(yes/no):Infrastructure successfully destroyed\n"), out)
    expect(i not in e.run("list")[1], "gone from the list")
    code, _, err = e.run("getstate", i)
    expect(code == 1 and err.startswith("Error getting infrastructure state: "), err)
    j = e.create()
    expect(e.run("-y", "-q", "destroy", j) == (0, "", ""), "-y: no question; -q: no text")


def test_other_user_cannot_see_or_destroy(e):
    i = e.create()
    expect(e.run("list", auth=e.other)[1] == "No Infrastructures.\n", "not listed to v")
    code, _, err = e.run("-y", "destroy", i, auth=e.other)
    expect(code == 1 and "ERROR destroying the infrastructure: " in err, err)
    expect(i in e.run("list")[1], "still there for u")


def test_malformed_radl_names_file_line_col(e):
    bad = e.write("bad.radl", "system x (\n cpu.count >= )\n")
    code, out, err = e.run("create", bad)
    expect(code == 1 and out == "", out)
    expect(err.startswith("ERROR creating the infrastructure: %s:2:15: " % bad), err)


def test_usage_errors_exit_2(e):
    code, _, err = e.run("list", auth=False)
    expect(code == 2 and "Auth file not specified" in err, err)
    expect(e.run("create")[0] == 2, "create needs a file")
    expect(e.run("getstate", "a", "b")[0] == 2, "too many arguments")
    code, _, err = e.run("-u", "http://127.0.0.1:1/", "-r", "http://127.0.0.1:1", "list")
    expect(code == 2 and "give one" in err, err)
    expect(e.run("nosuchop")[0] == 2, "unknown operation")


def test_bad_auth_file_is_reported_with_its_line(e):
    bad = e.write("bad.dat", "id = im; type = InfrastructureManager; username = u; password = p\n"
                  "this line has no equals sign\n")
    code, _, err = e.run("list", auth=bad)
    expect(code == 1 and "bad.dat:2" in err and "password = p" not in err, err)


def test_store_survives_between_runs_and_is_private(e):
    if e.server:
        return  # the server's store: imcd's own tests
    i = e.create()
    expect(i in e.run("list")[1], "a second process sees it")
    mode = os.stat(e.env["IMC_DATA_DIR"]).st_mode & 0o777
    expect(mode == 0o700, "data directory mode %o" % mode)


def test_unreachable_server_is_an_error(e):
    if not e.server:
        return
    e.url_option = [e.url_option[0], "http://127.0.0.1:%d/" % free_port()]
    code, _, err = e.run("list")
    expect(code == 1 and err.startswith("ERROR listing then infrastructures: http://127.0.0.1:"),
           err)


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for mode in ("local", "xmlrpc", "rest"):
        for name, fn in tests:
            with tempfile.TemporaryDirectory(prefix="imc-cli-") as tmp:
                server = None
                try:
                    server = Imcd(tmp) if mode != "local" else None
                    fn(Env(tmp, mode, server))
                    if server:
                        server.stop()
                    print("ok   %s %s" % (mode, name))
                except Exception:
                    failed += 1
                    print("FAIL %s %s" % (mode, name))
                    traceback.print_exc(file=sys.stdout)
                    if server and server.proc.poll() is None:
                        server.proc.kill()
                        server.proc.wait()
    print("%d tests, %d failed" % (3 * len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
