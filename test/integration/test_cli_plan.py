#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real `imc plan` binary: a plan of a new RADL (text and --json, a file and standard
input), a plan against an infrastructure made with `imc create` in local mode (IMC_DATA_DIR in
a temporary directory), and proof that a plan creates nothing: `imc list` shows nothing new,
no local store appears, and the planning engine's temporary store is removed.  Clouds are the
Dummy connector; nothing leaves the machine.

Usage: test_cli_plan.py IMC

Each test_* function is one behaviour; every one runs and the script exits 1 if any failed."""

import json
import os
import re
import subprocess
import sys
import tempfile
import traceback

IMC = sys.argv[1]
AUTH = "id = im; type = InfrastructureManager; username = u; password = p\nid = d; type = Dummy\n"
RADL = """network pub (outbound = 'yes' and outports = '22/tcp,80/tcp')
network net (outbound = 'no')
system front (cpu.count >= 2 and memory.size >= 2048M and net_interface.0.connection = 'pub'
  and net_interface.1.connection = 'net' and disk.0.image.url = 'mock0://img/front')
system wn (memory.size >= 1024M and net_interface.0.connection = 'net'
  and disk.0.image.url = 'mock0://img/wn')
deploy front 1
deploy wn %d
"""
CHANGED = """network pub (outbound = 'yes' and outports = '22/tcp,80/tcp')
network net (outbound = 'no')
network extra (outbound = 'no')
system front (cpu.count >= 2 and memory.size >= 2048M and net_interface.0.connection = 'pub'
  and net_interface.1.connection = 'net' and disk.0.image.url = 'mock0://img/front')
system wn (memory.size >= 4096M and net_interface.0.connection = 'net'
  and disk.0.image.url = 'mock0://img/wn')
deploy front 1
deploy wn 2
"""
NEW_PLAN = """+ network pub (public; security: 22/tcp, 80/tcp from 0.0.0.0/0)
+ network net (private)
+ system front: 1 VM on cloud d (Dummy)
    image   mock0://img/front
    flavour - (2 CPU, 2048 MB)
+ system wn: 2 VMs on cloud d (Dummy)
    image   mock0://img/wn
    flavour - (1 CPU, 1024 MB)
Plan: 3 to create, 0 to change, 0 to remove.
"""
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.plan_tmp = os.path.join(tmp, "plantmp")
        os.mkdir(self.plan_tmp)
        self.env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)
                    and not k.startswith("IMC_")}
        self.env["IMC_DATA_DIR"] = self.data
        self.env["TMPDIR"] = self.plan_tmp
        self.auth = self.write("auth.dat", AUTH)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run(self, *args, stdin=None, auth=True):
        cmd = [IMC] + (["-a", self.auth] if auth else []) + list(args)
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=self.env,
                           timeout=120)
        return r.returncode, r.stdout, r.stderr

    def create(self, text):
        code, out, err = self.run("create", self.write("created.radl", text))
        expect(code == 0, "create: %d %s" % (code, err))
        return re.fullmatch(r"Infrastructure successfully created with ID: (%s)\n" % UUID,
                            out).group(1)

    def listed(self):
        code, out, err = self.run("-q", "list")
        expect(code == 0, "list: %d %s" % (code, err))
        return json.loads(out) if out else []


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def test_new_radl_prints_a_terraform_like_plan(e):
    code, out, err = e.run("plan", e.write("r.radl", RADL % 2))
    expect((code, err) == (0, ""), "plan: %d %s" % (code, err))
    expect(out == NEW_PLAN, "plan text:\n" + out)
    expect("\033[" not in out, "no colour when stdout is not a terminal")


def test_new_radl_json_is_imc_previews_with_indent_4(e):
    code, out, err = e.run("plan", "--json", e.write("r.radl", RADL % 2))
    expect(code == 0, "plan --json: %d %s" % (code, err))
    expect(out.split("\n")[1].startswith('    "'), "indent 4: " + out[:80])
    plan = json.loads(out)
    expect(plan["new_infrastructure"] is True, "new infrastructure")
    expect(plan["summary"] == {"create": 3, "change": 0, "remove": 0}, str(plan["summary"]))
    front = plan["systems"][0]
    expect(front["system"] == "front" and front["action"] == "create", str(front))
    d = front["deploys"][0]
    expect(d["cloud"] == {"id": "d", "type": "Dummy", "host": None}, str(d["cloud"]))
    expect((d["image"], d["flavour"], d["cpu"], d["memory_mb"]) ==
           ("mock0://img/front", None, 2, 2048), str(d))
    expect(plan["networks"][0]["outports"][1] ==
           {"protocol": "tcp", "cidr": "0.0.0.0/0", "remote_port": 80, "local_port": 80},
           str(plan["networks"][0]))


def test_file_dash_reads_standard_input(e):
    code, out, err = e.run("plan", "-", stdin=RADL % 2)
    expect((code, out) == (0, NEW_PLAN), "plan -: %d %s %s" % (code, out, err))


def test_plan_of_a_new_radl_stores_nothing(e):
    code, out, err = e.run("plan", e.write("r.radl", RADL % 2))
    expect(code == 0, "plan: %d %s" % (code, err))
    expect(not os.path.exists(e.data), "a plan opened no local store")
    expect(os.listdir(e.plan_tmp) == [], "the planning store is removed: %s" %
           os.listdir(e.plan_tmp))
    expect(e.listed() == [], "imc list shows nothing after a plan")


def test_plan_against_an_infrastructure_shows_growth_and_changes_nothing(e):
    inf = e.create(RADL % 2)
    before = e.listed()
    code, out, err = e.run("plan", inf, e.write("r.radl", RADL % 4))
    expect(code == 0, "plan: %d %s" % (code, err))
    expect(out == ("~ system wn: 2 -> 4 VMs (2 to create)\n"
                   "    2 VMs on cloud d (Dummy)\n"
                   "    image   mock0://img/wn\n"
                   "    flavour - (1 CPU, 1024 MB)\n"
                   "Plan: 2 to create, 0 to change, 0 to remove.\n"), "growth:\n" + out)
    expect(e.listed() == before, "imc list shows nothing new after a plan")
    code, out, err = e.run("getinfo", inf)
    expect(out.count("Info about VM with ID:") == 3, "still 3 VMs: " + out)


def test_plan_against_an_infrastructure_shows_removals_newest_first(e):
    inf = e.create(RADL % 3)
    code, out, err = e.run("plan", inf, e.write("r.radl", RADL % 1))
    expect(code == 0, "plan: %d %s" % (code, err))
    expect(out == ("~ system wn: 3 -> 1 VMs (2 to remove: VMs 3, 2)\n"
                   "Plan: 0 to create, 0 to change, 2 to remove.\n"), "shrink:\n" + out)


def test_plan_against_an_infrastructure_shows_changed_systems_and_new_networks(e):
    inf = e.create(RADL % 2)
    code, out, err = e.run("plan", inf, e.write("r.radl", CHANGED))
    expect(code == 0, "plan: %d %s" % (code, err))
    expect(out == ("+ network extra (private)\n"
                   "~ system wn: memory.size >= 1024M -> >= 4096M (VMs 1, 2 altered)\n"
                   "Plan: 0 to create, 2 to change, 0 to remove.\n"), "change:\n" + out)
    code, out, err = e.run("plan", "--json", inf, e.write("r.radl", CHANGED))
    plan = json.loads(out)
    wn = [s for s in plan["systems"] if s["system"] == "wn"][0]
    expect(wn["alter_vms"] == [1, 2] and wn["changes"][0]["feature"] == "memory.size", str(wn))


def test_document_error_prints_file_line_col_and_exits_1(e):
    path = e.write("bad.radl", "system s (\n  cpu.count >= )\n")
    code, out, err = e.run("plan", path)
    expect(code == 1 and out == "", "exit 1, nothing printed: %d %s" % (code, out))
    expect(err.startswith(path + ":2:16: "), "FILE:LINE:COL: " + err)
    path = e.write("ref.radl", "system s ()\nsystem ghost\ndeploy s 1\n")
    code, out, err = e.run("plan", path)
    expect(code == 1 and err.startswith(path + ":2:"), "unknown reference: %d %s" % (code, err))


def test_unknown_infrastructure_is_an_error(e):
    code, out, err = e.run("plan", "00000000-0000-0000-0000-000000000000",
                           e.write("r.radl", RADL % 1))
    expect(code == 1 and out == "" and err.startswith("imc: plan: "), "%d %s" % (code, err))


def test_usage_errors_exit_2(e):
    path = e.write("r.radl", RADL % 1)
    for args, auth in ((["plan"], True), (["plan", path], False), (["plan", "--frob", path], True),
                       (["plan", "a", "b", path], True)):
        code, out, err = e.run(*args, auth=auth)
        expect(code == 2 and err.startswith("imc: ") and "Usage: " in err,
               "%s: %d %s" % (args, code, err))
    code, out, err = e.run("plan", "--help", auth=False)
    expect(code == 0 and out.startswith("Usage: "), "help: %d %s" % (code, out))


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="imc-plan-test-") as tmp:
            try:
                fn(Env(tmp))
                print("ok   %s" % name)
            except Exception:
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc(file=sys.stdout)
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
