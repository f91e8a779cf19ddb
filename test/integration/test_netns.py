#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Netns backend with the real `imc` binary in local mode: real hosts (network, mount, UTS
and PID namespaces, overlayfs root, own sshd) reached with OpenSSH.  Needs root; as another
user it checks the one-line error and is skipped (77).  Every host lives on bridges of this
test's own state directory, whose prefix keeps its names apart from any other run; the test
removes all it made, even when it fails.  Traffic goes only to the hosts it made.

Usage: test_netns.py IMC"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import netns_hosts
from netns_hosts import fnv_prefix, run

IMC = sys.argv[1]
DEADLINE = 60  # seconds any poll may wait: generous, never part of an assertion


def poll(what, fn):
    return netns_hosts.poll(what, fn, DEADLINE, 0.1)


def leftovers(env):
    return netns_hosts.leftovers(env.prefix, env.dir)




class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.dir = os.path.join(tmp, "netns")
        self.auth = os.path.join(tmp, "auth")
        with open(self.auth, "w", encoding="utf-8") as f:
            f.write("id = im; type = InfrastructureManager; username = u; password = p\n"
                    "id = local; type = Netns; host = %s\n" % self.dir)
        os.makedirs(self.dir, mode=0o700)
        self.prefix = fnv_prefix(self.dir)
        self.key = os.path.join(tmp, "key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", self.key])
        with open(self.key + ".pub", encoding="utf-8") as f:
            self.pub = f.read().strip()
        with open(self.key, encoding="utf-8") as f:
            self.priv = f.read().strip()
        self.ssh_config = os.path.join(tmp, "ssh_config")
        with open(self.ssh_config, "w", encoding="utf-8") as f:
            f.write("Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n"
                    "  UserKnownHostsFile %s\n  StrictHostKeyChecking accept-new\n"
                    "  BatchMode yes\n  ConnectTimeout 10\n  LogLevel ERROR\n"
                    % (self.key, os.path.join(tmp, "known_hosts")))
        self.env = dict(os.environ, IMC_DATA_DIR=os.path.join(tmp, "data"))
        self.infras = []

    def imc(self, *args, check=True):
        return run([IMC, "-a", self.auth] + list(args), check=check, env=self.env)

    def radl(self, text):
        path = os.path.join(self.tmp, "r%d.radl" % len(os.listdir(self.tmp)))
        creds = ("disk.0.os.credentials.public_key = '%s' and "
                 "disk.0.os.credentials.private_key = '%s'" % (self.pub, self.priv))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("@CREDS@", creds))
        return path

    def create(self, text):
        out = self.imc("--json", "create", self.radl(text)).stdout
        infra = json.loads(out)["id"]
        self.infras.append(infra)
        return infra

    def vm_value(self, infra, vm, attr):
        return self.imc("getvminfo", infra, str(vm), attr).stdout.strip()

    def states(self, infra):
        out = self.imc("--json", "getstate", infra).stdout
        return json.loads(out)["vm_states"]

    def ssh(self, ip, cmd, jump=None, check=True):
        argv = ["ssh", "-F", self.ssh_config] + (["-J", jump] if jump else []) + [ip, cmd]
        return run(argv, check=check)

    def hosts(self):
        d = os.path.join(self.dir, "hosts")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def host_of(self, infra, vm):
        """The host name (instance id) of VM vm, from the backend's records."""
        for h in self.hosts():
            with open(os.path.join(self.dir, "hosts", h, "host"), encoding="utf-8") as f:
                rec = dict(l.split(" ", 1) for l in f.read().splitlines())
            if rec.get("infra") == infra and rec.get("vm") == str(vm):
                return h
        raise AssertionError("no host for VM %s of %s" % (vm, infra))

    def pids(self):
        return netns_hosts.host_pids(self.dir)


def live(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


UP = ("running", "configured")  # with `contextualize ()` a VM may be marked configured


def wait_running(env, infra, n):
    poll("%d running VMs" % n,
         lambda: sum(s in UP for s in env.states(infra).values()) == n)


def sshd_answers(ip):
    """An SSH banner from ip:22 (a bare connect proves nothing where the uplink is a proxy
    that accepts any connection)."""
    try:
        with socket.create_connection((ip, 22), timeout=5) as s:
            s.settimeout(5)
            return s.recv(8).startswith(b"SSH-")
    except OSError:
        return False


THREE = """network pub (outbound = 'yes')
network priv (outbound = 'no')
system front (net_interface.0.connection = 'pub' and net_interface.0.dns_name = 'front-#N#'
  and net_interface.1.connection = 'priv' and disk.0.image.url = 'netns://host' and
  disk.1.size = 64M and @CREDS@)
system back (net_interface.0.connection = 'priv' and net_interface.0.dns_name = 'back' and
  @CREDS@)
deploy front 2
deploy back 1
contextualize ()
"""

ONE = """network pub (outbound = 'yes')
system solo (net_interface.0.connection = 'pub' and @CREDS@)
deploy solo 1
contextualize ()
"""


class ThreeHosts:
    """Two hosts on a public and a private network, one only on the private one."""

    def __init__(self, env):
        self.env = env
        self.infra = env.create(THREE)
        wait_running(env, self.infra, 3)
        self.front = [env.vm_value(self.infra, i, "net_interface.0.ip") for i in (0, 1)]
        self.front_priv = env.vm_value(self.infra, 0, "net_interface.1.ip")
        self.back = env.vm_value(self.infra, 2, "net_interface.0.ip")


def test_hosts_answer_ssh_with_their_own_hostname(env, t):
    for i, ip in enumerate(t.front):
        out = env.ssh(ip, "hostname; cat /etc/hostname").stdout.split()
        assert out == ["front-%d" % i] * 2, out
    assert run(["hostname"]).stdout.strip() != "front-0"


def test_files_stay_on_their_host(env, t):
    marker = "/root/netns-test-%d" % os.getpid()
    env.ssh(t.front[0], "echo here > " + marker)
    assert env.ssh(t.front[0], "cat " + marker).stdout.strip() == "here"
    assert not os.path.exists(marker)
    r = env.ssh(t.front[1], "test -e " + marker, check=False)
    assert r.returncode == 1, r


def test_hosts_have_their_own_pid_namespace(env, t):
    out = env.ssh(t.front[0], "cat /proc/1/cmdline | tr '\\0' ' '").stdout
    assert "sshd" in out, out
    assert env.ssh(t.front[0], "cat /etc/resolv.conf").stdout == ""


def test_private_host_is_reachable_only_through_a_proxy(env, t):
    # The machine's own uplink may accept any TCP connection (a proxy), so "unreachable" is
    # checked as: no address of ours on the private bridge, no route through a bridge of
    # ours, and no SSH server answering; the host itself has no default route.
    bridge = "%sb%02x" % (env.prefix, int(t.back.split(".")[2]))
    assert run(["ip", "-o", "addr", "show", "dev", bridge]).stdout == ""
    route = run(["ip", "route", "get", t.back]).stdout
    assert " dev " + env.prefix not in route, route
    assert env.ssh(t.back, "hostname", check=False).returncode == 255
    assert env.ssh(t.back, "hostname", jump=t.front[0]).stdout.strip() == "back"
    assert "default" not in env.ssh(t.back, "ip route", jump=t.front[0]).stdout
    assert t.front_priv.rsplit(".", 1)[0] == t.back.rsplit(".", 1)[0]


def test_data_disk_formats_and_mounts_inside_the_host(env, t):
    dev = env.vm_value(t.infra, 0, "disk.1.device")
    assert re.fullmatch(r"/dev/loop\d+", dev), dev
    out = env.ssh(t.front[0], "mkfs.ext4 -q %s && mkdir -p /mnt/d && mount %s /mnt/d && "
                  "echo data > /mnt/d/f && cat /mnt/d/f" % (dev, dev)).stdout.strip()
    assert out == "data", out
    with open("/proc/mounts", encoding="utf-8") as f:
        assert dev not in f.read()


def test_stop_then_start_keeps_the_upper_layer(env, t):
    env.ssh(t.front[1], "echo kept > /root/kept")
    env.imc("stopvm", t.infra, "1")
    assert env.states(t.infra)["1"] == "stopped"
    assert not sshd_answers(t.front[1])
    env.imc("startvm", t.infra, "1")
    poll("VM 1 running", lambda: env.states(t.infra)["1"] in UP)
    assert env.ssh(t.front[1], "cat /root/kept").stdout.strip() == "kept"


def test_start_makes_again_what_the_machine_lost(env, t):
    """After a reboot of the machine a stopped host's namespace, veths and loop devices are
    gone: start makes them again from its records."""
    env.imc("stopvm", t.infra, "1")
    host = env.host_of(t.infra, 1)
    veth = env.prefix + "v" + host[len(env.prefix) + 1:] + "i"
    for name in os.listdir("/sys/class/net"):
        if name.startswith(veth):
            run(["ip", "link", "del", name])
    run(["ip", "netns", "del", host])
    dev = env.vm_value(t.infra, 1, "disk.1.device")
    run(["losetup", "-d", dev])
    env.imc("startvm", t.infra, "1")
    poll("VM 1 running", lambda: env.states(t.infra)["1"] in UP)
    assert env.ssh(t.front[1], "cat /root/kept").stdout.strip() == "kept"
    dev = env.vm_value(t.infra, 1, "disk.1.device")
    assert env.ssh(t.front[1], "test -b " + dev, check=False).returncode == 0, dev


def test_destroy_leaves_nothing(env, t):
    pids = env.pids()
    assert len(pids) == 3, pids
    env.imc("-y", "destroy", t.infra)
    env.infras.remove(t.infra)
    assert env.hosts() == []
    assert leftovers(env) == [], leftovers(env)
    poll("the hosts' processes to end", lambda: not any(live(p) for p in pids))


def test_half_made_host_is_removed_by_the_next_open(env):
    """A host as a crash leaves it (no "complete" marker, no pid file, creator dead) and
    strays that no state records: all go when the next operation opens the backend."""
    infra = env.create(ONE)
    wait_running(env, infra, 1)
    host = env.host_of(infra, 0)
    pid = env.pids()[0]
    hdir = os.path.join(env.dir, "hosts", host)
    os.remove(os.path.join(hdir, "complete"))
    os.remove(os.path.join(hdir, "pid"))  # killed after the boot, before recording its pid
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(os.path.join(hdir, "creator"), "w", encoding="utf-8") as f:
        f.write("%d 1\n" % dead.pid)
    stray_ns, stray_br = env.prefix + "hfff0", env.prefix + "bfe"
    run(["ip", "netns", "add", stray_ns])
    run(["ip", "link", "add", stray_br, "type", "bridge"])
    run(["ip", "link", "add", env.prefix + "vfff1i0", "type", "veth", "peer", "name",
         env.prefix + "peer"])
    img_dir = os.path.join(env.dir, "hosts", env.prefix + "hfff2")
    os.makedirs(img_dir)
    img = os.path.join(img_dir, "disk1.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    run(["losetup", "--find", "--show", img])
    shutil.rmtree(img_dir)
    env.imc("cloudimages", "local")  # opens the backend
    assert host not in env.hosts(), env.hosts()
    assert leftovers(env) == [], leftovers(env)
    poll("the half-made host's sshd to end", lambda: not live(pid))
    env.imc("-y", "destroy", infra)
    env.infras.remove(infra)


def test_kill_9_during_create_leaves_nothing_after_destroy(env):
    """imc killed while it makes a host: whatever point it reached, the next runs remove or
    adopt what it made, and destroying the infrastructure leaves nothing."""
    proc = subprocess.Popen([IMC, "-a", env.auth, "create", env.radl(ONE)], env=env.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    poll("a host directory", lambda: env.hosts() or proc.poll() is not None)
    proc.kill()
    proc.wait()
    ids = json.loads(env.imc("--json", "list").stdout)
    known = [i for i in ids if i not in env.infras]
    env.create(ONE)  # opens the backend: a half-made host goes now
    for infra in known:
        env.imc("getstate", infra, check=False)  # settles the launch intent (find)
        env.imc("-y", "-f", "destroy", infra)
    for infra in list(env.infras):
        env.imc("-y", "destroy", infra)
        env.infras.remove(infra)
    assert env.hosts() == [], env.hosts()
    assert leftovers(env) == [], leftovers(env)


def test_not_root_gets_one_clear_line(env):
    home = os.path.join(env.tmp, "nobody")
    os.makedirs(home, mode=0o777)
    os.chmod(home, 0o777)
    os.chmod(env.tmp, 0o755)
    auth = os.path.join(home, "auth")
    with open(auth, "w", encoding="utf-8") as f:
        f.write("id = im; type = InfrastructureManager; username = u; password = p\n"
                "id = local; type = Netns; host = %s\n" % os.path.join(home, "netns"))
    os.chmod(auth, 0o644)
    radl = os.path.join(home, "r.radl")
    with open(radl, "w", encoding="utf-8") as f:
        f.write("system s (disk.0.image.url = 'netns://host')\ndeploy s 1\n")
    os.chmod(radl, 0o644)
    env_nobody = dict(env.env, IMC_DATA_DIR=os.path.join(home, "data"), HOME=home)
    r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", IMC, "-a", auth,
             "create", radl], check=False, env=env_nobody)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "the Netns backend needs root: " in lines[0], r.stderr


def cleanup(env):
    for infra in env.infras:
        env.imc("-y", "-f", "destroy", infra, check=False)
    for pid in env.pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for name in leftovers(env):
        if name.startswith(env.prefix):
            run(["ip", "netns", "del", name], check=False)
            run(["ip", "link", "del", name], check=False)
    for line in run(["losetup", "-a"]).stdout.splitlines():
        if env.dir in line:
            run(["losetup", "-d", line.split(":")[0]], check=False)


WITH_THREE = [test_hosts_answer_ssh_with_their_own_hostname, test_files_stay_on_their_host,
              test_hosts_have_their_own_pid_namespace,
              test_private_host_is_reachable_only_through_a_proxy,
              test_data_disk_formats_and_mounts_inside_the_host,
              test_stop_then_start_keeps_the_upper_layer,
              test_start_makes_again_what_the_machine_lost, test_destroy_leaves_nothing]
ALONE = [test_half_made_host_is_removed_by_the_next_open,
         test_kill_9_during_create_leaves_nothing_after_destroy, test_not_root_gets_one_clear_line]


def run_test(fn, *args):
    start = time.monotonic()
    try:
        fn(*args)
        print("ok - %s (%.1f s)" % (fn.__name__, time.monotonic() - start))
        return 0
    except Exception:  # pylint: disable=broad-except
        print("FAIL - %s (%.1f s)" % (fn.__name__, time.monotonic() - start))
        traceback.print_exc()
        return 1


def main():
    if os.geteuid() != 0:
        print("not root: the Netns backend's real hosts need root; skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="imc-netns-")
    failures = 0
    env = None
    try:
        env = Env(tmp)
        three = ThreeHosts(env)
        failures += sum(run_test(fn, env, three) for fn in WITH_THREE)
        failures += sum(run_test(fn, env) for fn in ALONE)
    except Exception:  # pylint: disable=broad-except
        failures += 1
        traceback.print_exc()
    finally:
        if env:
            cleanup(env)
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
