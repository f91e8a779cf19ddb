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
NAMED = ("description desc (name = 'web site')\nnetwork pub (outbound = 'yes' and "
         "outports = '2222-22')\nsystem front (cpu.count >= 2 and memory.size >= 1024M and "
         "net_interface.0.connection = 'pub' and disk.0.image.url = 'dummy://img')\n"
         "system back (cpu.count >= 1 and net_interface.0.connection = 'pub' and "
         "disk.0.image.url = 'dummy://img')\ndeploy front 1\ndeploy back 1\n")
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

    def run_raw(self, *args, stdin=None, auth=True):
        cmd = [IMC] + (["-a", self.auth] if auth is True else ["-a", auth] if auth else [])
        cmd += self.url_option
        r = subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True,
                           env=self.env, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def run(self, *args, stdin=None, auth=True):
        """As run_raw, without im-client's "Connected with: URL" line that a server's answers
        start with (test_connected_line checks it)."""
        code, out, err = self.run_raw(*args, stdin=stdin, auth=auth)
        if self.server and out.startswith("Connected with: "):
            out = out.split("\n", 1)[1]
        return code, out, err

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


def test_connected_line(e):
    if not e.server:
        expect(not e.run_raw("list")[1].startswith("Connected"), "local mode connects nowhere")
        return
    url = e.url_option[1]
    code, out, _ = e.run_raw("list")
    expect(code == 0 and out == "Connected with: %s\nNo Infrastructures.\n" % url, out)
    expect(e.run_raw("-q", "list")[1] == "", "no line with -q")
    e.url_option = [e.url_option[0], url.replace("http://", "http://user:secret@")]
    code, out, _ = e.run_raw("list")
    expect(out.startswith("Connected with: %s\n" % url) and "secret" not in out, out)


def test_options_after_the_operation(e):
    i = e.create()
    expect(e.run("list", "-q") == e.run("-q", "list"), "optparse mixes options and arguments")
    expect(json.loads(e.run("getstate", i, "--json")[1])["state"] == "configured", "--json after")


def test_config_file_and_environment(e):
    home = os.path.join(e.tmp, "home")
    os.makedirs(os.path.join(home, ".imc"))
    keys = "auth_file = %s\n" % e.auth
    if e.server:
        keys += ("restapi_url = %s\n" if e.url_option[0] == "-r" else "xmlrpc_url = %s\n") % (
            e.url_option[1])
    with open(os.path.join(home, ".imc", "imc.cfg"), "w", encoding="utf-8") as f:
        f.write("[im_client]\n" + keys)
    env = dict(e.env, HOME=home)
    i = e.create()
    r = subprocess.run([IMC, "list"], capture_output=True, text=True, env=env, timeout=60)
    expect(r.returncode == 0 and i in r.stdout, "config file: " + r.stdout + r.stderr)
    env2 = dict(e.env, IMC_AUTH_FILE=e.auth)
    r = subprocess.run([IMC] + e.url_option + ["-q", "list"], capture_output=True, text=True,
                       env=env2, timeout=60)
    expect(r.returncode == 0 and json.loads(r.stdout) == [i], "IMC_AUTH_FILE: " + r.stderr)
    r = subprocess.run([IMC, "-c", os.path.join(e.tmp, "none.cfg"), "list"],
                       capture_output=True, text=True, env=env, timeout=60)
    expect(r.returncode == 1 and "none.cfg" in r.stderr, r.stderr)


def test_json_output(e):
    code, out, _ = e.run("--json", "create", e.radl)
    i = json.loads(out)["id"]
    expect(code == 0 and re.fullmatch(UUID, i), out)
    expect(json.loads(e.run("--json", "list")[1]) == [i], "list")
    expect("version" in json.loads(e.run("--json", "getversion", auth=None)[1]), "version")
    code, out, err = e.run("--json", "getstate", "nosuch")
    expect(code == 1 and "error" in json.loads(out) and err, out)


def test_getinfo_attribute_and_system_filter(e):
    i = e.create()
    code, out, _ = e.run("getinfo", i, "cpu.count")
    expect(code == 0 and out == "Info about VM with ID: 0\n1\nInfo about VM with ID: 1\n1\n", out)
    named = e.write("named.radl", NAMED)
    j = e.run("-q", "--json", "create", named)[1]
    j = json.loads(j)["id"]
    code, out, _ = e.run("-s", "back", "getinfo", j, "cpu.count")
    expect(out == "Info about VM with ID: 0\nInfo about VM with ID: 1\n1\n", out)
    code, out, _ = e.run("getvminfo", j, "0", "memory.size")
    expect(code == 0 and out == "1024000000\n", out)


def test_getvmcontmsg(e):
    i = e.create()
    code, out, _ = e.run("getvmcontmsg", i, "0")
    expect(code == 0, out)


def test_name_instead_of_id(e):
    named = e.write("named.radl", NAMED)
    j = json.loads(e.run("--json", "create", named)[1])["id"]
    code, out, _ = e.run("-n", "getstate", "web site")
    expect(code == 0 and out.startswith("The infrastructure is in state: configured"), out)
    code, out, _ = e.run("-n", "list")
    expect(out == "Infrastructure ID                       Name\n"
           "====================================    ====\n%s    web site\n" % j, out)
    code, _, err = e.run("-n", "getstate", "no such name")
    expect(code == 1 and "Infrastructure Name not found" in err, err)


def test_add_remove_alter_reconfigure(e):
    i = e.create()
    code, out, _ = e.run("addresource", i, e.radl)
    expect(code == 0 and out == "Resources with IDs: 2,3 successfully added.\n", out)
    expect(json.loads(e.run("-q", "addresource", i, e.radl, "0")[1]) == [4, 5], "quiet add")
    # as IM's complete_radl: a bare `system node` stands for the infrastructure's definition
    more = e.write("more.radl", "network net\nsystem node\ndeploy node 1\n")
    code, out, err = e.run("addresource", i, more, "0")
    expect(code == 0 and out == "Resources with IDs: 6 successfully added.\n", (out, err))
    code, _, err = e.run("addresource", i, e.write("bare.radl", "deploy node 1\n"))
    expect(code == 1 and "system 'node' is not defined" in err, err)
    expect(e.run("-q", "removeresource", i, "6")[0] == 0, "6 removed")
    code, out, _ = e.run("removeresource", i, "4,5")
    expect(code == 0 and out == "Resources with IDs: 4,5 successfully deleted.\n", out)
    expect(sorted(json.loads(e.run("-q", "getstate", i)[1])["vm_states"]) == ["0", "1", "2", "3"],
           "4 and 5 gone")
    code, _, err = e.run("removeresource", i, "1", "2")
    expect(code == 1 and "The ctxt flag must be 0 or 1" in err, err)
    big = e.write("big.radl", "system node (cpu.count >= 4)\n")
    code, out, _ = e.run("alter", i, "1", big)
    expect(code == 0 and out == "VM successfully modified.\n", out)
    expect(e.run("getvminfo", i, "1", "cpu.count")[1] == "4\n", "altered")
    code, out, _ = e.run("reconfigure", i)
    expect(code == 0 and out == "Infrastructure successfully reconfigured.\n", out)
    expect(e.run("reconfigure", i, e.radl, "0,1")[0] == 0, "reconfigure with a file and VMs")


def test_power_operations(e):
    i = e.create()
    for op, word in (("stop", "stopped"), ("start", "started"), ("reboot", "rebooted")):
        code, out, err = e.run(op, i)
        expect(code == 0 and out == "Infrastructure successfully %s\n" % word, op + out + err)
    for op, word in (("stopvm", "stopped"), ("startvm", "started"), ("rebootvm", "rebooted")):
        code, out, err = e.run(op, i, "1")
        expect(code == 0 and out == "VM successfully %s\n" % word, op + out + err)
    code, _, err = e.run("stopvm", i, "9")
    expect(code == 1 and err.startswith("Error stopping VM: "), err)


def test_export_import_round_trip(e):
    i = e.create()
    code, out, _ = e.run("export", i)
    expect(code == 0 and isinstance(json.loads(out), str), "im-client prints a JSON string")
    data = e.write("inf.json", out)
    code, out, _ = e.run("import", data)
    j = re.fullmatch(r"New Inf: (%s)\n" % UUID, out).group(1)
    expect(j != i and j in e.run("list")[1], out)
    expect(e.run("-q", "import", data)[1].strip() in e.run("list")[1], "quiet import")
    expect(e.run("export", i, "1")[0] == 0 and i not in e.run("list")[1], "export and delete")


def test_outputs_of_a_radl_infrastructure(e):
    i = e.create()
    code, out, err = e.run("getoutputs", i)
    expect(code == 1 and err.startswith("ERROR getting the infrastructure outputs: "), err)
    code, out, _ = e.run("create_wait_outputs", e.radl)
    got = json.loads(out)
    expect(code == 0 and got["outputs"] == {} and re.fullmatch(UUID, got["infid"]), out)


def test_cloud_information(e):
    images = json.loads(e.run("cloudimages", "d")[1])
    expect(isinstance(images, list) and images and "uri" in images[0], images)
    usage = json.loads(e.run("cloudusage", "d")[1])
    expect("cores" in usage and "used" in usage["cores"], usage)
    code, _, err = e.run("cloudimages", "nosuch")
    expect(code == 1 and err.startswith("ERROR getting cloud image list: "), err)
    est = json.loads(e.run("estimate", e.radl)[1])
    expect(est["d"]["cloudType"] == "Dummy" and len(est["d"]["compute"]) == 2, est)
    e.create()
    stats = json.loads(e.run("stats")[1])
    expect(len(stats) == 1 and stats[0]["vm_count"] == 2, stats)


def test_wait_and_create_wait(e):
    i = e.create()
    code, out, _ = e.run("wait", i)
    expect(code == 0 and out.endswith("The infrastructure is in state: configured\n"), out)
    expect("\x1b" not in out, "no escape sequence when not a terminal")
    code, out, _ = e.run("--wait", "create", e.radl)
    expect(code == 0 and out.startswith("Infrastructure successfully created with ID: "), out)
    code, _, err = e.run("wait", "nosuch")
    expect(code == 1 and "state: unknown" in err, err)


def test_wait_on_a_terminal_draws_the_display(e):
    if e.server:
        return  # the display does not depend on the backend
    i = e.create()
    cmd = " ".join([IMC, "-a", e.auth, "wait", i])
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       env=dict(e.env, NO_COLOR="1"), timeout=60)
    expect(r.returncode == 0, r.stdout + r.stderr)
    expect("Infrastructure %s: configured" % i in r.stdout, r.stdout)
    expect(re.search(r"  VM 0 +configured", r.stdout) and "\x1b" not in r.stdout.split(i)[0],
           r.stdout)
    expect(r.stdout.rstrip().endswith("The infrastructure is in state: configured"), r.stdout)


def test_change_auth_and_owners(e):
    i = e.create()
    code, out, _ = e.run("getowners", i)
    expect(code == 0 and out == "Infrastructure owners: \n  u\n", out)
    code, out, _ = e.run("change_auth", i, e.other)
    expect(code == 0 and out == "Auth data successfully changed.\n", out)
    expect(i in e.run("list", auth=e.other)[1], "the new owner sees it")
    expect(json.loads(e.run("-q", "getowners", i)[1]) == ["u", "v"], "two owners")
    code, _, err = e.run("change_auth", i, e.radl)
    expect(code == 1 and "ERROR changing auth data: " in err, err)


def test_ssh_show_only(e):
    named = e.write("named.radl", NAMED)
    j = json.loads(e.run("--json", "create", named)[1])["id"]
    code, out, _ = e.run("sshvm", j, "1", "1")
    expect(code == 0 and re.fullmatch(r'SSHPASS="\$SSHPASS" sshpass -e ssh -p 2222 -o '
                                      r'UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no '
                                      r'username@[0-9.]+ ', out) and "password" not in out, out)
    code, out, _ = e.run("put", j, "1", "a.txt", "/tmp/b")
    expect(code == 0 and " scp -r -P 2222 " in out and out.rstrip().endswith(":/tmp/b"), out)
    code, _, err = e.run("sshvm", j, "1", "2")
    expect(code == 1 and "show_only flag must be 0 or 1" in err, err)


def worker_gone(pid):
    """Whether process pid has ended (a zombie nobody reaps counts as ended)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_worker(pid):
    deadline = time.monotonic() + 120
    while not worker_gone(pid):
        expect(time.monotonic() < deadline, "the worker %d never ended" % pid)
        time.sleep(0.05)


def detached(e, *args):
    """Runs imc --detach ARGS; returns its stdout and the worker's pid once the worker ended."""
    code, out, err = e.run("--detach", *args)
    w = re.search(r"background worker (\d+) carries on; its log: (\S+)\n", err)
    expect(code == 0 and w, "--detach %s: %d %s" % (args[0], code, err))
    expect(w.group(2) == os.path.join(e.env["IMC_DATA_DIR"], "worker.log"), err)
    wait_worker(int(w.group(1)))
    with open(w.group(2), encoding="utf-8") as f:
        log = f.read()  # the worker's stderr: a sanitizer report lands here, not in ours
    expect(not re.search(r"Sanitizer|runtime error:", log), log)
    return out


def test_detach_runs_the_work_in_a_background_worker(e):
    code, _, err = e.run("--detach", "list")
    expect(code == 2 and "--detach is for create, addresource and destroy" in err, err)
    if e.server:
        code, _, err = e.run("--detach", "create", e.radl)
        expect(code == 2 and "local mode" in err, err)
        return
    out = detached(e, "create", e.radl)
    i = re.fullmatch(r"Infrastructure successfully created with ID: (%s)\n" % UUID, out).group(1)
    state = e.run("getstate", i)
    expect(state[1].startswith("The infrastructure is in state: configured\n"), state)
    out = detached(e, "addresource", i, e.radl)
    expect(out == "Resources with IDs: 2,3 successfully added.\n", out)
    expect(detached(e, "-y", "destroy", i) == "Infrastructure successfully destroyed\n", i)
    expect(i not in e.run("list")[1], "destroyed by the worker")
    code, _, err = e.run("--detach", "destroy", i)
    expect(code == 1 and "ERROR destroying the infrastructure" in err and
           "carries on" not in err, "a failure is the caller's: " + err)


def interrupted_destroy(e, i, signals):
    """imc destroy I, interrupted signals times at its question, then answered yes."""
    p = subprocess.Popen([IMC, "-a", e.auth, "destroy", i], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e.env)
    asked = b""
    while not asked.endswith(b"(yes/no):"):
        chunk = os.read(p.stdout.fileno(), 4096)
        expect(chunk, "no question: " + asked.decode())
        asked += chunk
    said = b""
    for answer in (b"stopping at the next safe point", b"leaving now")[:signals]:
        p.send_signal(signal.SIGINT)
        # the next signal only once this one was handled: two pending SIGINTs would be one
        while answer not in said:
            chunk = os.read(p.stderr.fileno(), 4096)
            expect(chunk, "no answer to SIGINT: " + said.decode())
            said += chunk
    out, err = p.communicate(b"yes\n" if p.poll() is None else None, timeout=120)
    return p.returncode, said.decode() + err.decode()


def test_interrupt_ends_at_a_safe_point(e):
    if e.server:
        return
    i = e.create()
    code, err = interrupted_destroy(e, i, 1)
    expect("stopping at the next safe point" in err, err)
    expect(code == 0 and i not in e.run("list")[1], "the operation went to its end: " + err)
    j = e.create()
    code, err = interrupted_destroy(e, j, 2)
    expect(code == 130 and "leaving now: the store is consistent" in err, "%d %s" % (code, err))
    expect(j in e.run("list")[1] and e.run("getstate", j)[0] == 0, "nothing half done")


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
