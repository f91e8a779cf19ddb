#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drives a real imcd with Python's standard xmlrpc.client, an XML-RPC implementation that is
not ours: every method of IM 1.19.2's XML-RPC API, IM's (success, value) answers, the error
paths, the body limit, a restart that keeps everything, and a log with no secret in it.

Usage: test_imcd_xmlrpc.py IMCD [SOURCE_ROOT]

Each test_* function is one behaviour; every one runs and the script exits 1 if any failed."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import xmlrpc.client

IMCD = sys.argv[1]
PASSWORD = "pw-Alice-7f3"  # must never appear in imcd's log
AUTH = [{"type": "InfrastructureManager", "username": "alice", "password": PASSWORD},
        {"id": "dummy", "type": "Dummy"}]
BOB = [{"type": "InfrastructureManager", "username": "bob", "password": "pw-Bob-91"},
       {"id": "dummy", "type": "Dummy"}]

RADL = """network pub (outbound = 'yes')
system node (
  cpu.count >= 1 and memory.size >= 512M and
  net_interface.0.connection = 'pub' and
  disk.0.image.url = 'mock0://linux.for.ev.er/image1' and
  disk.0.os.credentials.password = 'vm-Secret-55'
)
deploy node 2 dummy
"""

BROKEN = """network pub (outbound = 'yes')
system node (
  cpu.count >= )
"""

TOSCA = """tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates: {}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An imcd on loopback ports with its own store, config and log in a temporary dir."""

    def __init__(self, tmp, extra=""):
        self.tmp = tmp
        self.xport, self.rport = free_port(), free_port()
        self.log = os.path.join(tmp, "imcd.log")
        self.conf = os.path.join(tmp, "imcd.conf")
        with open(self.conf, "w") as f:
            f.write("[im]\nXMLRCP_PORT = %d\nREST_PORT = %d\nDATA_DB = %s\nLOG_FILE = %s\n"
                    "MAX_REQUEST_BODY = 65536\nLOG_LEVEL = DEBUG\n%s"
                    % (self.xport, self.rport, os.path.join(tmp, "imc.db"), self.log, extra))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([IMCD, "-c", self.conf], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("imcd exited: %s" % self.proc.stderr.read().decode())
            try:
                with socket.create_connection(("127.0.0.1", self.xport), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("imcd did not listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        rc, err = self.proc.returncode, self.proc.stderr.read().decode()
        self.proc.stderr.close()
        return rc, err

    def proxy(self):
        return xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % self.xport, allow_none=True)


def ok(answer):
    assert isinstance(answer, list) and len(answer) == 2, answer
    assert answer[0] is True, answer
    return answer[1]


def fails(answer, text):
    assert isinstance(answer, list) and len(answer) == 2, answer
    assert answer[0] is False, answer
    assert text in answer[1], (text, answer[1])


def test_version(p):
    assert "1.19.2" in ok(p.GetVersion())


def test_create_list_info_state(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    assert len(inf) == 36
    assert inf in ok(p.GetInfrastructureList(AUTH))
    assert inf in ok(p.GetInfrastructureList(AUTH, "system no[d]e"))
    assert inf not in ok(p.GetInfrastructureList(AUTH, "nothing-like-this"))
    assert ok(p.GetInfrastructureInfo(inf, AUTH)) == ["0", "1"]
    state = ok(p.GetInfrastructureState(inf, AUTH))
    assert state == {"state": "configured", "vm_states": {"0": "configured", "1": "configured"}}


def test_vm_info_and_properties(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    radl = ok(p.GetVMInfo(inf, "0", AUTH))
    assert "net_interface.0.ip = '10.0.0.1'" in radl, radl
    assert ok(p.GetVMProperty(inf, "0", "net_interface.0.ip", AUTH)) == "10.0.0.1"
    assert ok(p.GetVMProperty(inf, "0", "cpu.count", AUTH)) == 1
    assert ok(p.GetVMProperty(inf, "1", "state", AUTH)) == "configured"
    fails(p.GetVMInfo(inf, "9", AUTH), "Invalid VM ID")
    assert "system node" in ok(p.GetInfrastructureRADL(inf, AUTH))


def test_add_remove_alter(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    assert ok(p.AddResource(inf, "network pub\nsystem node\ndeploy node 1\n", AUTH)) == [2]
    assert ok(p.AddResource(inf, "network pub\nsystem node\ndeploy node 1\n", AUTH, False)) == [3]
    assert ok(p.RemoveResource(inf, "2,3", AUTH)) == 2
    assert ok(p.GetInfrastructureInfo(inf, AUTH)) == ["0", "1"]
    fails(p.GetVMInfo(inf, "2", AUTH), "Deleted VM.")
    altered = ok(p.AlterVM(inf, "0", "system node (cpu.count = 4 and memory.size = 2G)", AUTH))
    assert "cpu.count = 4" in altered, altered
    assert ok(p.GetVMProperty(inf, "0", "cpu.count", AUTH)) == 4


def test_power_and_logs(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    assert ok(p.StopInfrastructure(inf, AUTH)) == ""
    assert ok(p.GetInfrastructureState(inf, AUTH))["state"] == "stopped"
    assert ok(p.StartInfrastructure(inf, AUTH)) == ""
    assert ok(p.StopVM(inf, "1", AUTH)) == ""
    assert ok(p.StartVM(inf, "1", AUTH)) == ""
    assert ok(p.RebootVM(inf, "1", AUTH)) == ""
    assert ok(p.GetInfrastructureState(inf, AUTH))["state"] == "configured"
    assert isinstance(ok(p.GetInfrastructureContMsg(inf, AUTH)), str)
    assert isinstance(ok(p.GetInfrastructureContMsg(inf, AUTH, True)), str)
    assert ok(p.GetVMContMsg(inf, "0", AUTH)) == ""
    assert ok(p.Reconfigure(inf, "", AUTH)) == ""
    assert ok(p.Reconfigure(inf, "", AUTH, [0])) == ""


def test_snapshots_images_quotas_estimate_stats(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    assert ok(p.CreateDiskSnapshot(inf, "0", "0", "saved", True, AUTH)) == \
        "mock0://linux.for.ev.er/saved"
    images = ok(p.GetCloudImageList("dummy", AUTH))
    assert images[0] == {"uri": "mock0://linux.for.ev.er/image1", "name": "Image Name1"}
    assert ok(p.GetCloudImageList("dummy", AUTH, {"region": "x"}))
    quotas = ok(p.GetCloudQuotas("dummy", AUTH))
    assert quotas["cores"] == {"used": 1, "limit": 10}
    fails(p.GetCloudQuotas("nowhere", AUTH), "Cloud ID nowhere not found.")
    est = ok(p.EstimateResources(RADL, AUTH))
    assert est["dummy"]["cloudType"] == "Dummy" and len(est["dummy"]["compute"]) == 2
    stats = ok(p.GetStats("1970-01-01", "", AUTH))
    assert any(s["inf_id"] == inf and s["vm_count"] == 2 for s in stats), stats


def test_owners_export_import(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    fails(p.GetInfrastructureInfo(inf, BOB), "Access to this infrastructure not granted.")
    assert ok(p.ChangeInfrastructureAuth(inf, BOB, False, AUTH)) == ""
    assert ok(p.GetInfrastructureOwners(inf, BOB)) == ["alice", "bob"]
    data = ok(p.ExportInfrastructure(inf, False, AUTH))
    assert PASSWORD not in data
    assert json.loads(data)["format"] == "imc-infrastructure"
    new = ok(p.ImportInfrastructure(data, BOB))
    assert ok(p.GetInfrastructureInfo(new, BOB)) == ["0", "1"]
    assert ok(p.GetInfrastructureOwners(new, BOB)) == ["bob"]


def test_destroy(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH))
    assert ok(p.DestroyInfrastructure(inf, AUTH)) == ""
    fails(p.GetInfrastructureInfo(inf, AUTH), "Deleted infrastructure.")
    assert inf not in ok(p.GetInfrastructureList(AUTH))



def wait_for(check):
    """Polls check() until it is true (the deadline only bounds a failing run)."""
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def test_async_create_and_destroy(p):
    inf = ok(p.CreateInfrastructure(RADL, AUTH, True))
    wait_for(lambda: ok(p.GetInfrastructureState(inf, AUTH))["state"] == "configured")
    assert ok(p.DestroyInfrastructure(inf, AUTH, False, True)) == ""
    wait_for(lambda: p.GetInfrastructureInfo(inf, AUTH)[0] is False)
    fails(p.GetInfrastructureInfo(inf, AUTH), "Deleted infrastructure.")


def test_error_answers(p):
    fails(p.GetInfrastructureList([{"id": "dummy", "type": "Dummy"}]),
          "No credentials provided for the InfrastructureManager.")
    fails(p.GetInfrastructureInfo("no-such-id", AUTH),
          "Invalid infrastructure ID or access not granted.")
    fails(p.CreateInfrastructure(BROKEN, AUTH), "radl:3:16:")
    fails(p.CreateInfrastructure(TOSCA, AUTH), "TOSCA input is not supported by this build")
    fails(p.GetInfrastructureList("not a list"), "array of structs")
    fails(p.GetInfrastructureList(["not a struct"]), "auth item 1 is not a struct")
    fails(p.GetInfrastructureList([{"type": ["a list"]}]), "auth item 1: values must be strings")
    fails(p.GetInfrastructureInfo("some-id"), "expected more parameters")
    fails(p.GetInfrastructureInfo(AUTH, AUTH), "parameter 1 must be a string")
    fails(p.GetInfrastructureList([{"type": "InfrastructureManager", "token": "tok-1"}]),
          "not supported by this build")
    try:
        p.NoSuchMethod(AUTH)
        raise AssertionError("an unknown method must be a fault")
    except xmlrpc.client.Fault as f:
        assert "NoSuchMethod" in f.faultString or f.faultCode != 0


def test_oversized_body_is_refused(p):
    try:
        p.CreateInfrastructure("x" * 70000, AUTH)
        raise AssertionError("a body over MAX_REQUEST_BODY must be refused")
    except xmlrpc.client.ProtocolError as e:
        assert e.errcode == 413, e.errcode


def test_get_is_not_an_xmlrpc_call(srv):
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/" % srv.xport, timeout=10)
        raise AssertionError("GET must be refused")
    except urllib.error.HTTPError as e:
        assert e.code == 405, e.code


def test_bad_i8_is_refused_before_the_library_sees_it(srv):
    # Debian's xmlrpc-c crashes on such a value; imcd must answer and stay up.
    # Each form here crashed it once: letters, a blank after the digits, a lone sign, an
    # attribute on the tag.
    for value in ("<i8>12x3</i8>", "<i8>5 </i8>", "<i8>-</i8>", '<i8 a="1">abc</i8>',
                  "<ex:i8 x='y'>zz</ex:i8>"):
        body = ('<?xml version="1.0"?><methodCall><methodName>GetVersion</methodName><params>'
                '<param><value>%s</value></param></params></methodCall>' % value).encode()
        rq = urllib.request.Request("http://127.0.0.1:%d/" % srv.xport, data=body,
                                    headers={"Content-Type": "text/xml"})
        try:
            urllib.request.urlopen(rq, timeout=10)
            raise AssertionError("a bad i8 must be refused: " + value)
        except urllib.error.HTTPError as e:
            assert e.code == 400, (value, e.code)
        assert "1.19.2" in ok(srv.proxy().GetVersion()), value


SERVER_TESTS = ("test_get_is_not_an_xmlrpc_call",
                "test_bad_i8_is_refused_before_the_library_sees_it")


def main():
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(tmp).start()
        p = srv.proxy()
        tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
        for name, fn in tests:
            try:
                fn(srv if name in SERVER_TESTS else p)
                print("ok   %s" % name)
            except Exception:
                failed += 1
                print("FAIL %s\n%s" % (name, traceback.format_exc()))
        # Everything survives a restart; SIGTERM stops it cleanly.
        try:
            inf = ok(p.CreateInfrastructure(RADL, AUTH))
            rc, err = srv.stop()
            assert rc == 0 and "Sanitizer" not in err and "runtime error" not in err, (rc, err)
            srv = Server(tmp).start()  # new ports, the same store
            p = srv.proxy()
            assert ok(p.GetInfrastructureInfo(inf, AUTH)) == ["0", "1"]
            print("ok   restart_keeps_everything")
        except Exception:
            failed += 1
            print("FAIL restart_keeps_everything\n%s" % traceback.format_exc())
        rc, err = srv.stop()
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            failed += 1
            print("FAIL imcd stopped with %s:\n%s" % (rc, err))
        with open(srv.log, encoding="utf-8", errors="replace") as f:
            log = f.read()
        for secret in (PASSWORD, "vm-Secret-55", "pw-Bob-91"):
            if secret in log:
                failed += 1
                print("FAIL the log shows a secret")
        if "ready" not in log:
            failed += 1
            print("FAIL the log lacks the ready line")
    print("%d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
