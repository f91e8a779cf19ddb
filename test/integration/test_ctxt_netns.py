#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contextualization end to end on real Netns hosts: the real `imc` in local mode and a real
`imcd`, Debian's ansible-playbook and OpenSSH against hosts with their own sshd.  Checked: a
three-step contextualization whose later steps read what earlier ones wrote over the private
network, with IM's variables in the recipes; a failing recipe; a data disk formatted and
mounted; a private-only VM configured through the automatic bastion; AddResource then
Reconfigure; kill -9 of imcd in the middle of a run, then a restart and a Reconfigure.

Needs root (skipped with 77 otherwise).  No timing assertion: states are polled with generous
deadlines.  Every host lives under this test's own state directory, whose name prefix keeps it
apart from any other run; everything is destroyed at the end, even on failure, and the test
checks that no namespace, link, loop device, mount or process of its directory is left.

Usage: test_ctxt_netns.py IMC IMCD"""

import functools
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

import netns_hosts
from netns_hosts import fnv_prefix, run

IMC, IMCD = sys.argv[1], sys.argv[2]
DEADLINE = 300  # seconds any poll may wait: generous, never part of an assertion


def poll(what, fn):
    return netns_hosts.poll(what, fn, DEADLINE, 0.5)




def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Imcd:
    """A real imcd on loopback with its store and contextualization directory in tmp."""

    def __init__(self, tmp):
        self.port, self.xport = free_port(), free_port()
        self.conf = os.path.join(tmp, "imcd.conf")
        self.work = os.path.join(tmp, "imcd-ctxt")
        os.makedirs(self.work, mode=0o700, exist_ok=True)
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("[im]\nREST_PORT = %d\nXMLRCP_PORT = %d\nDATA_DB = %s\nLOG_FILE = %s\n"
                    "CTXT_WORK_DIR = %s\n" % (
                        self.port, self.xport, os.path.join(tmp, "imcd.db"),
                        os.path.join(tmp, "imcd.log"), self.work))
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMC_")}
        self.proc = subprocess.Popen([IMCD, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env)
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/version", timeout=5):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > end:
                    self.proc.kill()
                    raise RuntimeError("imcd did not start: " + self.proc.communicate()[1])
                time.sleep(0.1)

    def kill9(self):
        self.proc.kill()
        self.proc.communicate(timeout=60)
        self.proc = None

    def stop(self):
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        err = self.proc.communicate(timeout=120)[1]
        self.proc = None
        if "runtime error:" in err or "Sanitizer" in err:
            raise AssertionError("imcd: " + err)


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.dir = os.path.join(tmp, "netns")
        os.makedirs(self.dir, mode=0o700)
        self.prefix = fnv_prefix(self.dir)
        self.auth = os.path.join(tmp, "auth")
        with open(self.auth, "w", encoding="utf-8") as f:
            f.write("id = im; type = InfrastructureManager; username = u; password = p\n"
                    "id = local; type = Netns; host = %s\n" % self.dir)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IMC_")}
        self.env["IMC_DATA_DIR"] = os.path.join(tmp, "data")
        # A failed step is run again once, alone, for the VM that failed it (local mode).
        self.env["IMC_PLAYBOOK_RETRIES"] = "2"
        # Galaxy names come from this directory (the machine has no Internet access).
        self.env["IMC_GALAXY_OFFLINE_SOURCE"] = os.path.join(tmp, "galaxy")
        # Where an external Ansible host keeps its runs: short, as ssh's sockets live there.
        self.env["IMC_REMOTE_CONF_DIR"] = tempfile.mkdtemp(prefix="imcr")
        self.server = []    # imc options that choose the API (empty: local mode)
        self.infras = []    # (infrastructure, server options) to destroy at the end

    def imc(self, *args, check=True):
        r = run([IMC, "-a", self.auth] + self.server + list(args), check=check, timeout=600,
                env=self.env)
        if r.stdout.startswith("Connected with: "):
            r.stdout = r.stdout.split("\n", 1)[1] if "\n" in r.stdout else ""
        return r

    def file(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def create(self, name, text):
        out = self.imc("create", self.file(name, text)).stdout
        infra = out.strip().rsplit(" ", 1)[-1]
        assert "successfully created" in out, out
        self.infras.append((infra, list(self.server)))
        return infra

    def states(self, infra):
        return json.loads(self.imc("--json", "getstate", infra).stdout)["vm_states"]

    def contmsg(self, infra, vm=None):
        if vm is None:
            return self.imc("getcontmsg", infra).stdout
        return self.imc("getvmcontmsg", infra, str(vm)).stdout

    def sshvm(self, infra, vm, cmd, check=True):
        """cmd runs on VM vm (one word: imc reads words starting with '-' as its options).
        im-client's note on a VM reached through VM 0 is left out of stdout."""
        r = self.imc("sshvm", infra, str(vm), "0", cmd, check=check)
        r.stdout = "".join(l for l in r.stdout.splitlines(True)
                           if not l.startswith("VM ID %d does not has public IP" % 0))
        return r

    def hosts(self):
        d = os.path.join(self.dir, "hosts")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def pids(self):
        return netns_hosts.host_pids(self.dir)


def procs_under(path):
    """Processes whose working directory or command line is under path (this test's)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(path) or path in cmd:
            found.append((int(pid), cmd.strip()))
    return found


def leftovers(env):
    """Everything of this state directory's prefix the machine still has, and the
    contextualization files (known_hosts) of destroyed infrastructures."""
    works = (os.path.join(env.tmp, "data", "ctxt"), os.path.join(env.tmp, "imcd-ctxt"))
    return (netns_hosts.leftovers(env.prefix, env.dir) +
            ["process %d (%s)" % p for p in procs_under(env.tmp)] +
            ["contextualization files %s/%s" % (d, n) for d in works if os.path.isdir(d)
             for n in os.listdir(d)])


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

HOST = ("disk.0.image.url = 'netns://host' and disk.0.os.name = 'linux' and "
        "disk.0.os.credentials.username = 'root'")

# a serves what it writes at step 1 on its private address; b fetches it at step 2 and serves
# its own copy; c, only on the private network (reached through a, the automatic bastion),
# fetches b's at step 3.  f's recipe fails.
SERVE = """
    - name: See whether the file server already runs
      ansible.builtin.wait_for:
        host: "{{ IM_NODE_PRIVATE_IP }}"
        port: 8080
        timeout: 1
      register: running
      ignore_errors: true
    - name: Serve /srv/www on the private network
      ansible.builtin.shell: >
        setsid -f python3 -m http.server 8080 --bind {{ IM_NODE_PRIVATE_IP }}
        --directory /srv/www </dev/null >/var/log/www.log 2>&1
      when: running is failed
    - name: Wait until the file server answers
      ansible.builtin.wait_for:
        host: "{{ IM_NODE_PRIVATE_IP }}"
        port: 8080
        timeout: 30
"""

FETCH = """
    - name: Fetch the file of step %(prev)d from %(src)s
      ansible.builtin.uri:
        url: "http://{{ hostvars[groups['%(src)s'][0]]['IM_NODE_PRIVATE_IP'] }}:8080/step%(prev)d"
        return_content: true
      register: prev
      until: prev.status == 200
      retries: 10
      delay: 2
"""

NETS = "network pub (outbound = 'yes')\nnetwork priv (outbound = 'no')\n"
SYS_B = """system b (net_interface.0.connection = 'pub' and net_interface.0.dns_name = 'b-#N#' and
  net_interface.1.connection = 'priv' and %s)""" % HOST

MAIN = """network pub (outbound = 'yes')
network priv (outbound = 'no')
system a (net_interface.0.connection = 'pub' and net_interface.0.dns_name = 'a' and
  net_interface.1.connection = 'priv' and disk.1.size = 64M and disk.1.fstype = 'ext4' and
  disk.1.mount_path = '/data' and
  disk.0.applications contains (name = 'ansible.roles.imc.web') and
  disk.0.applications contains (name = 'ansible.collections.@COLLECTION_URL@') and %(host)s)
system f (net_interface.0.connection = 'pub' and net_interface.0.dns_name = 'f' and %(host)s)
%(sys_b)s
system c (net_interface.0.connection = 'priv' and net_interface.0.dns_name = 'c' and %(host)s)
configure a (
@begin
---
- tasks:
    - name: Make the directory the file server serves
      ansible.builtin.file:
        path: /srv/www
        state: directory
        mode: "0755"
    - name: Write the file of step 1
      ansible.builtin.copy:
        dest: /srv/www/step1
        content: "step1 {{ IM_INFRASTRUCTURE_ID }} {{ IM_NODE_VMID }}\\n"
    - name: Use the Galaxy role
      ansible.builtin.include_role:
        name: imc.web
    - name: Use the collection's role
      ansible.builtin.include_role:
        name: imctest.tools.greet
%(serve)s
@end
)
configure b (
@begin
---
- tasks:
%(fetch_a)s
    - name: Make the directory the file server serves
      ansible.builtin.file:
        path: /srv/www
        state: directory
        mode: "0755"
    - name: Write the file of step 2
      ansible.builtin.copy:
        dest: /srv/www/step2
        content: "{{ prev.content }}step2 {{ IM_MASTER_FQDN }}\\n"
%(serve)s
@end
)
configure c (
@begin
---
- tasks:
%(fetch_b)s
    - name: Write the file of step 3
      ansible.builtin.copy:
        dest: /root/step3
        content: "{{ prev.content }}step3\\n"
@end
)
configure f (
@begin
---
- tasks:
    - name: This task fails on purpose
      ansible.builtin.command: /bin/false
@end
)
contextualize (
  system a configure a step 1
  system f configure f step 1
  system b configure b step 2
  system c configure c step 3
)
deploy a 1
deploy f 1
deploy b 1
deploy c 1
""" % {"host": HOST, "sys_b": SYS_B, "serve": SERVE, "fetch_a": FETCH % {"prev": 1, "src": "a"},
       "fetch_b": FETCH % {"prev": 2, "src": "b"}}

# The step waits for a file the test makes, so imcd is killed while ansible-playbook runs it.
GATED = """network pub (outbound = 'yes')
system w (net_interface.0.connection = 'pub' and net_interface.0.dns_name = 'w' and %s)
configure w (
@begin
---
- tasks:
    - name: Say the step has started
      ansible.builtin.copy:
        dest: /root/started
        content: "started\n"
    - name: Wait for the go file
      ansible.builtin.wait_for:
        path: /root/go
        timeout: 900
    - name: Write the done file
      ansible.builtin.copy:
        dest: /root/done
        content: "done\\n"
@end
)
contextualize (
  system w configure w step 1
)
deploy w 1
""" % HOST


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Galaxy:
    """What a's disk.0.applications asks for: the role imc.web as a tarball in the offline
    directory, and the collection imctest.tools built by ansible-galaxy and served over HTTP
    on 127.0.0.1 (a tarball URL)."""

    def __init__(self, tmp):
        offline, www = os.path.join(tmp, "galaxy"), os.path.join(tmp, "galaxy-www")
        src = os.path.join(tmp, "galaxy-src")
        for d in ("web/tasks", "web/meta"):
            os.makedirs(os.path.join(src, d))
        os.makedirs(offline)
        os.makedirs(www)
        with open(os.path.join(src, "web/tasks/main.yml"), "w", encoding="utf-8") as f:
            f.write("- name: The role of the offline directory\n  ansible.builtin.copy:\n"
                    "    dest: /root/role-ran\n    content: \"imc.web\\n\"\n")
        with open(os.path.join(src, "web/meta/main.yml"), "w", encoding="utf-8") as f:
            f.write("galaxy_info:\n  author: imc\n  license: GPL-3.0-or-later\n"
                    "dependencies: []\n")
        run(["tar", "-C", src, "-czf", os.path.join(offline, "imc.web.tar.gz"), "web"])
        run(["ansible-galaxy", "collection", "init", "--init-path", src, "imctest.tools"])
        greet = os.path.join(src, "imctest/tools/roles/greet/tasks")
        os.makedirs(greet)
        with open(os.path.join(greet, "main.yml"), "w", encoding="utf-8") as f:
            f.write("- name: The role of the collection\n  ansible.builtin.copy:\n"
                    "    dest: /root/collection-ran\n    content: \"imctest.tools\\n\"\n")
        run(["ansible-galaxy", "collection", "build", os.path.join(src, "imctest/tools"),
             "--output-path", www])
        handler = functools.partial(QuietFiles, directory=www)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/imctest-tools-1.0.0.tar.gz" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# A bastion this test makes itself: not a VM of the infrastructure, and its address is known
# before the document is written, so the network can name it in proxy_host.
PROXIED = """network hidden (outbound = 'no' and proxy_host = 'root@%(bastion)s' and
  proxy_key = '%(key)s')
system d (net_interface.0.connection = 'hidden' and net_interface.0.dns_name = 'd' and %(host)s)
configure d (
@begin
---
- name: Write the file of the proxied VM
  ansible.builtin.copy:
    dest: /root/proxied
    content: "{{ IM_NODE_FQDN }}\\\\n"
@end
)
deploy d 1
"""


class Bastion:
    """A namespace with its own sshd, reached from this machine on a /30 of its own; attach()
    gives it a leg on a private network of the backend (an address on that network's bridge),
    which this machine itself has no route to."""

    def __init__(self, env):
        self.env, self.ns = env, env.prefix + "tb"
        self.outer, self.inner = env.prefix + "tbo", env.prefix + "tbi"
        self.dir = tempfile.mkdtemp(prefix="bastion-", dir=env.tmp)
        self.key = os.path.join(self.dir, "id")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key])
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.dir, "hk")])
        self.addr = None
        for third in range(100, 250):  # a /30 that no connected route of this machine covers
            r = run(["ip", "route", "get", "10.214.%d.2" % third], check=False)
            if r.returncode != 0 or " via " in r.stdout:
                self.addr = "10.214.%d." % third
                break
        assert self.addr, "no free 10.214.X.0/30 for the bastion"
        run(["ip", "netns", "add", self.ns])
        run(["ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner])
        run(["ip", "link", "set", self.inner, "netns", self.ns])
        run(["ip", "addr", "add", self.addr + "1/30", "dev", self.outer])
        run(["ip", "link", "set", self.outer, "up"])
        self.nsrun("ip", "addr", "add", self.addr + "2/30", "dev", self.inner)
        self.nsrun("ip", "link", "set", self.inner, "up")
        self.nsrun("ip", "link", "set", "lo", "up")
        conf = os.path.join(self.dir, "sshd_config")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("ListenAddress %s2\nHostKey %s/hk\nPidFile %s/pid\nAuthorizedKeysFile %s.pub\n"
                    "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
                    "AllowTcpForwarding yes\nLogLevel VERBOSE\n"
                    % (self.addr, self.dir, self.dir, self.key))
        os.makedirs("/run/sshd", exist_ok=True)
        self.nsrun("/usr/sbin/sshd", "-f", conf, "-E", os.path.join(self.dir, "log"))
        with open(self.key, encoding="utf-8") as f:
            self.private_key = f.read()

    def nsrun(self, *argv):
        return run(["ip", "netns", "exec", self.ns] + list(argv))

    def attach(self, subnet):
        """A leg on the bridge of 10.213.<subnet>.0/24, at .250."""
        bridge = "%sb%02x" % (self.env.prefix, subnet & 0xFF)
        leg, peer = self.env.prefix + "tbh", self.env.prefix + "tbp"
        run(["ip", "link", "add", leg, "type", "veth", "peer", "name", peer])
        run(["ip", "link", "set", leg, "master", bridge, "up"])
        run(["ip", "link", "set", peer, "netns", self.ns])
        self.nsrun("ip", "addr", "add", "10.213.%d.250/24" % subnet, "dev", peer)
        self.nsrun("ip", "link", "set", peer, "up")

    def log(self):
        with open(os.path.join(self.dir, "log"), encoding="utf-8") as f:
            return f.read()

    def close(self):
        try:
            with open(os.path.join(self.dir, "pid"), encoding="utf-8") as f:
                os.kill(int(f.read().split()[0]), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        run(["ip", "netns", "del", self.ns], check=False)
        run(["ip", "link", "del", self.outer], check=False)
        run(["ip", "link", "del", self.env.prefix + "tbh"], check=False)


def host_subnets(env, before):
    """The subnets of the hosts made since before (a list of host names)."""
    found = []
    for h in env.hosts():
        if h in before:
            continue
        try:
            with open(os.path.join(env.dir, "hosts", h, "ifaces"), encoding="utf-8") as f:
                found += [int(l.split()[1]) for l in f if l.strip()]
        except OSError:
            pass
    return found


def test_explicit_proxy_host_reaches_a_vm_without_a_route(env):
    bastion = Bastion(env)
    try:
        infra, subnet = create_behind_bastion(env, bastion, "proxied.radl", PROXIED % {
            "bastion": bastion.addr + "2", "key": bastion.private_key, "host": HOST})
        assert env.states(infra) == {"0": "configured"}, env.states(infra)
        log = env.contmsg(infra, 0)
        assert "Write the file of the proxied VM" in log and "changed: [d.localdomain]" in log, log
        ip = env.imc("getvminfo", infra, "0", "net_interface.0.ip").stdout.strip()
        assert ip.startswith("10.213.%d." % subnet), ip
        # This machine has no route of its own to the VM: only the bastion could reach it.
        r = run(["ip", "route", "get", ip], check=False)
        assert r.returncode != 0 or " via " in r.stdout, r.stdout
        blog = bastion.log()
        assert "Accepted publickey for root" in blog, blog
        with open(os.path.join(env.tmp, "data", "ctxt", infra, "known_hosts"),
                  encoding="utf-8") as f:
            recorded = f.read()
        assert bastion.addr + "2" in recorded, recorded
        assert bastion.private_key.split("\n")[1] not in env.contmsg(infra), "key in the log"
        env.imc("-y", "destroy", infra)
        env.infras.remove((infra, []))
    finally:
        bastion.close()


# Ansible runs on an external host (the `ansible` sentence): the bastion namespace, which alone
# reaches the VM's private network.  The recipe shows where its controller runs.
EXTERNAL = """ansible ext (host = '%(bastion)s' and credentials.username = 'root' and
  credentials.private_key = '%(key)s')
network lan (outbound = 'no')
system e (net_interface.0.connection = 'lan' and net_interface.0.dns_name = 'e' and %(host)s)
configure e (
@begin
---
- name: Look at the controller's addresses
  ansible.builtin.command: ip -o -4 addr show
  delegate_to: localhost
  register: where
  changed_when: false
- name: Show them
  ansible.builtin.debug:
    var: where.stdout_lines
- name: Write the file of the VM
  ansible.builtin.copy:
    dest: /root/external
    content: "{{ IM_NODE_FQDN }}\\n"
@end
)
deploy e 1
"""


# A recipe that waits: Ctrl-C comes while ansible-playbook runs it on the Ansible host.
GATE = """configure e (
@begin
---
- name: Wait for a file nobody writes
  ansible.builtin.wait_for:
    path: /root/go
    timeout: 900
@end
)
"""


def create_behind_bastion(env, bastion, name, text):
    """Creates text (local mode) while the bastion joins the new VM's network, once that
    exists; returns the infrastructure and the network's subnet."""
    before = env.hosts()
    known_ids = set(re.findall(UUID, env.imc("list").stdout))
    create = subprocess.Popen([IMC, "-a", env.auth, "create", env.file(name, text)], env=env.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        subnet = netns_hosts.poll("the new VM's network", lambda: host_subnets(env, before),
                                  300, 0.2)[0]
        bastion.attach(subnet)
        out, err = create.communicate(timeout=600)
    finally:
        if create.poll() is None:
            create.kill()
            create.communicate()
        # Whatever it made, cleanup() destroys.
        for infra in set(re.findall(UUID, env.imc("list").stdout)) - known_ids:
            env.infras.append((infra, []))
    assert create.returncode == 0 and "successfully created" in out, out + err
    return out.strip().rsplit(" ", 1)[-1], subnet


def test_external_ansible_host_configures_a_vm_only_it_reaches(env):
    bastion = Bastion(env)
    try:
        infra, _ = create_behind_bastion(env, bastion, "external.radl", EXTERNAL % {
            "bastion": bastion.addr + "2", "key": bastion.private_key, "host": HOST})
        assert env.states(infra) == {"0": "configured"}, env.states(infra)
        msg = env.contmsg(infra)
        assert "Ansible runs on the Ansible host %s2" % bastion.addr in msg, msg
        log = env.contmsg(infra, 0)
        # The controller's own address: Ansible ran in the bastion's namespace.
        assert "inet %s2/30" % bastion.addr in log, log
        assert "changed: [e.localdomain]" in log, log
        assert bastion.private_key.split("\n")[1] not in msg + log, "key in the log"
        # Ctrl-C of imc stops the run on the Ansible host too, not only this side's wait.
        remote = env.env["IMC_REMOTE_CONF_DIR"]

        def playbooks():
            return [p for p in procs_under(remote) if "ansible-playbook" in p[1]]
        rec = subprocess.Popen([IMC, "-a", env.auth, "reconfigure", infra,
                                env.file("gate.radl", GATE)], env=env.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            netns_hosts.poll("ansible-playbook on the Ansible host", playbooks, 300, 0.2)
            rec.send_signal(signal.SIGINT)
            out, err = rec.communicate(timeout=120)
        finally:
            if rec.poll() is None:
                rec.kill()
                rec.communicate()
        assert rec.returncode == 130, (rec.returncode, out, err)
        netns_hosts.poll("the run on the Ansible host to end", lambda: not playbooks(), 30, 0.2)
        assert env.states(infra) == {"0": "unconfigured"}, env.states(infra)
        env.imc("-y", "destroy", infra)
        env.infras.remove((infra, []))
        left = [os.path.join(d, n) for d, dirs, files in os.walk(env.env["IMC_REMOTE_CONF_DIR"])
                for n in dirs + files]
        assert not left, "left on the Ansible host: %s" % left
    finally:
        bastion.close()


class Main:
    """The four-system infrastructure, made once in local mode (create waits for the
    contextualization in local mode)."""

    def __init__(self, env, galaxy):
        self.env = env
        self.infra = env.create("main.radl", MAIN.replace("@COLLECTION_URL@", galaxy.url))
        self.ids = {}
        for vm in env.states(self.infra):
            self.ids[self.system_of(vm)] = int(vm)

    def system_of(self, vm):
        radl = self.env.imc("getvminfo", self.infra, str(vm)).stdout
        for line in radl.splitlines():
            if line.startswith("system "):
                return line.split()[1]
        raise AssertionError("no system in VM %s's RADL: %s" % (vm, radl))


def test_steps_run_in_order_with_im_variables(env, m):
    st = env.states(m.infra)
    for s in ("a", "b", "c"):
        assert st[str(m.ids[s])] == "configured", (s, st)
    step2 = env.sshvm(m.infra, m.ids["b"], "cat /srv/www/step2").stdout
    assert step2.splitlines() == ["step1 %s %d" % (m.infra, m.ids["a"]),
                                  "step2 a.localdomain"], step2
    msg = env.contmsg(m.infra)
    for task in ("Write the file of step 1", "Write the file of step 2",
                 "Write the file of step 3"):
        assert task in msg, msg
    assert msg.index("Write the file of step 1") < msg.index("Write the file of step 2") < \
        msg.index("Write the file of step 3"), msg


def test_failing_recipe_leaves_its_vm_unconfigured(env, m):
    st = env.states(m.infra)
    assert st[str(m.ids["f"])] == "unconfigured", st
    log = env.contmsg(m.infra, m.ids["f"])
    assert "fatal: [" in log and "This task fails on purpose" in log, log
    assert log.count("TASK [This task fails on purpose]") == 2, log
    msg = env.contmsg(m.infra)
    assert "Step 1: running again for VM %d." % m.ids["f"] in msg, msg
    assert "Step 1: VM %d failed." % m.ids["f"] in msg, msg
    # The run stopped after step 1 for the retry, then went on without f: a did step 1 once.
    log = env.contmsg(m.infra, m.ids["a"])
    assert log.count("TASK [Write the file of step 1]") == 1, msg + log


def test_galaxy_role_and_collection_are_installed_and_used(env, m):
    msg = env.contmsg(m.infra)
    for line in ("Installing the Ansible roles of disk.0.applications with ansible-galaxy.",
                 "Installing the Ansible collections of disk.0.applications with ansible-galaxy.",
                 "imc.web was installed successfully",
                 "imctest.tools:1.0.0 was installed successfully"):
        assert line in msg, msg
    out = env.sshvm(m.infra, m.ids["a"], "cat /root/role-ran /root/collection-ran").stdout
    assert out.splitlines() == ["imc.web", "imctest.tools"], out


def test_data_disk_is_formatted_and_mounted(env, m):
    out = env.sshvm(m.infra, m.ids["a"], "findmnt -n -o FSTYPE /data").stdout
    assert out.strip() == "ext4", out


def test_private_vm_is_configured_through_the_automatic_bastion(env, m):
    c = m.ids["c"]
    assert env.imc("getvminfo", m.infra, str(c), "net_interface.0.ip").stdout.strip()
    assert env.states(m.infra)[str(c)] == "configured"
    log = env.contmsg(m.infra, c)
    assert "Write the file of step 3" in log, log
    assert "VM %d has no public IP: it is reached through VM %d" % (c, m.ids["a"]) in \
        env.contmsg(m.infra)
    out = env.sshvm(m.infra, c, "cat /root/step3").stdout
    assert out.splitlines() == ["step1 %s %d" % (m.infra, m.ids["a"]), "step2 a.localdomain",
                                "step3"], out


def test_reconfigure_after_addresource_configures_the_new_vm(env, m):
    # IM completes an AddResource document with the infrastructure's systems; imc asks for the
    # system to be given again.
    more = env.file("more.radl", NETS + SYS_B + "\ndeploy b 1\n")
    env.imc("addresource", m.infra, more)
    env.imc("reconfigure", m.infra)
    st = env.states(m.infra)
    new = [int(v) for v in st if int(v) not in m.ids.values()]
    assert len(new) == 1, st
    assert st[str(new[0])] == "configured", st
    assert m.system_of(new[0]) == "b"
    for old in (m.ids["a"], m.ids["b"]):
        hosts = env.sshvm(m.infra, old, "cat /etc/hosts").stdout
        assert "b-%d" % new[0] in hosts, hosts
    step2 = env.sshvm(m.infra, new[0], "cat /srv/www/step2").stdout
    assert step2.startswith("step1 %s" % m.infra), step2


def test_kill_9_of_imcd_mid_run_then_reconfigure(env, imcd):
    env.server = ["-r", imcd.url]
    imcd.start()
    infra = env.create("gated.radl", GATED)
    # /root/started exists and /root/go does not: ansible-playbook is inside the step.
    poll("the run to start the gated step",
         lambda: env.sshvm(infra, 0, "test -e /root/started", check=False).returncode == 0)
    assert env.states(infra)["0"] == "running", env.states(infra)
    imcd.kill9()
    assert procs_under(imcd.work), "no ansible-playbook was running"
    imcd.start()
    # ansible-playbook runs in its own process group and outlives a killed imcd: the restarted
    # imcd's contextualizer ends it (and its ssh masters), so it cannot go on once the gate
    # opens.
    poll("the killed imcd's ansible-playbook to end", lambda: not procs_under(imcd.work))
    poll("VM 0 unconfigured", lambda: env.states(infra)["0"] == "unconfigured")
    assert "Contextualization stopped" in env.contmsg(infra, 0), env.contmsg(infra, 0)
    env.sshvm(infra, 0, "touch /root/go")
    env.imc("reconfigure", infra)
    env.imc("wait", infra, "600")
    assert env.states(infra)["0"] == "configured", env.states(infra)
    assert env.sshvm(infra, 0, "cat /root/done").stdout.strip() == "done"
    env.imc("-y", "destroy", infra)
    env.infras.remove((infra, env.server))


def cleanup(env, imcd):
    for infra, server in env.infras:
        if server and not imcd.proc:
            try:
                imcd.start()
            except RuntimeError:
                continue
        env.server = server
        env.imc("-y", "-f", "destroy", infra, check=False)
    env.infras = []
    try:
        imcd.stop()
    except AssertionError as e:
        print("imcd:", e)
    for pid in env.pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid, _ in procs_under(env.tmp):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(env.env["IMC_REMOTE_CONF_DIR"], ignore_errors=True)
    for name in leftovers(env):
        if name.startswith(env.prefix):
            run(["ip", "netns", "del", name], check=False)
            run(["ip", "link", "del", name], check=False)
    for line in run(["losetup", "-a"]).stdout.splitlines():
        if env.dir in line:
            run(["losetup", "-d", line.split(":")[0]], check=False)


WITH_MAIN = [test_steps_run_in_order_with_im_variables,
             test_failing_recipe_leaves_its_vm_unconfigured,
             test_galaxy_role_and_collection_are_installed_and_used,
             test_data_disk_is_formatted_and_mounted,
             test_private_vm_is_configured_through_the_automatic_bastion,
             test_reconfigure_after_addresource_configures_the_new_vm]


def main():
    if os.geteuid() != 0:
        print("SKIP: the Netns backend makes network namespaces: run as root")
        return 77
    for tool in ("ansible-playbook", "ssh"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "").split(os.pathsep)):
            print("SKIP: %s is not installed" % tool)
            return 77
    failed = 0
    with tempfile.TemporaryDirectory(prefix="imc-ctxt-netns-") as tmp:
        os.chmod(tmp, 0o700)
        env = Env(tmp)
        imcd = Imcd(tmp)
        galaxy = None
        try:
            try:
                galaxy = Galaxy(tmp)
                m = Main(env, galaxy)
            except Exception:  # pylint: disable=broad-except
                traceback.print_exc()
                print("not ok - the main infrastructure could not be made")
                m, failed = None, failed + 1
            for t in WITH_MAIN if m else []:
                try:
                    t(env, m)
                    print("ok -", t.__name__)
                except Exception:  # pylint: disable=broad-except
                    failed += 1
                    traceback.print_exc()
                    print("not ok -", t.__name__)
                env.server = []
            for t in [test_explicit_proxy_host_reaches_a_vm_without_a_route,
                      test_external_ansible_host_configures_a_vm_only_it_reaches]:
                try:
                    t(env)
                    print("ok -", t.__name__)
                except Exception:  # pylint: disable=broad-except
                    failed += 1
                    traceback.print_exc()
                    print("not ok -", t.__name__)
            for t in [test_kill_9_of_imcd_mid_run_then_reconfigure]:
                try:
                    t(env, imcd)
                    print("ok -", t.__name__)
                except Exception:  # pylint: disable=broad-except
                    failed += 1
                    traceback.print_exc()
                    print("not ok -", t.__name__)
        finally:
            if galaxy:
                galaxy.close()
            cleanup(env, imcd)
        left = leftovers(env)
        if left:
            print("not ok - left behind:", left)
            failed += 1
        else:
            print("ok - nothing left behind")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
