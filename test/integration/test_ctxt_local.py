#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The contextualizer's SSH client and Ansible runner against a real sshd that this test starts
on 127.0.0.1 at a free port (its own sshd_config, host key and AuthorizedKeysFile in a
temporary directory; UsePAM no, StrictModes no), through ctxt_tool:

- key auth with a key pair made by imc_ssh_keypair; the host key is recorded at first contact;
- exec gives the command's output and exit status; a bastion (the same sshd) is crossed;
- a changed host key is refused with a message that says so; a wrong key is refused;
- password auth, for a temporary user (only when run as root: the user is removed after);
- ansible-playbook with imc's inventory and ansible.cfg: the IM_* variables reach the tasks,
  the libssh-recorded key satisfies OpenSSH's strict checking (and an unknown key does not),
  a failing task is reported per host, the deadline kills the run, and no ssh ControlPersist
  master outlives a run;
- the whole contextualizer behind a real engine (ctxt_tool deploy), with this sshd as the VM
  and a stand-in ansible-playbook first on PATH that keeps a copy of each run directory and
  prints what Ansible prints: SSH wait and host key record, the inventory and playbooks it
  writes, steps in order, a failing step retried PLAYBOOK_RETRIES times on the failed VM only,
  configured/unconfigured, the failing task in the VM's log, no secret in the logs, and the
  run directory removed.  (The real basic step changes a host's name and /etc/hosts: it runs
  on network-namespace hosts in another test, not on this machine.)

The tasks only write inside the temporary directory; IM's basic step is not run here (it
would change this machine's hostname).  Usage: test_ctxt_local.py CTXT_TOOL"""

import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import yaml

TOOL = sys.argv[1]
SSHD = "/usr/sbin/sshd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def tool(*args, env=None, timeout=120, stdin=None):
    return subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env, input=stdin)


class Sshd:
    def __init__(self, tmp, port):
        self.tmp, self.port, self.proc = tmp, port, None
        self.conf = os.path.join(tmp, "sshd_config")
        self.auth_keys = os.path.join(tmp, "authorized_keys")

    def new_host_key(self):
        key = os.path.join(self.tmp, "host_key")
        for f in (key, key + ".pub"):
            if os.path.exists(f):
                os.unlink(f)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("ListenAddress 127.0.0.1\nPort %d\nHostKey %s\nPidFile %s\n"
                    "AuthorizedKeysFile %s\nUsePAM no\nStrictModes no\n"
                    "PasswordAuthentication yes\nPermitRootLogin yes\nAllowTcpForwarding yes\n"
                    "LogLevel ERROR\n" % (self.port, key, os.path.join(self.tmp, "sshd.pid"),
                                          self.auth_keys))

    def start(self):
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.conf],
                                     stderr=open(os.path.join(self.tmp, "sshd.log"), "a"))
        # Ready when it accepts a connection (bounded wait, not a timing assumption).
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sshd did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


FAKE_ANSIBLE = r"""#!/usr/bin/python3
# Stand-in for ansible-playbook: keeps a copy of the run directory (without ssh sockets) and
# prints what Ansible prints for each --limit host.  IMC_FAKE_FAIL names a playbook that fails
# (for every host, so that a site.yml run ends there as Ansible's would, with no host left).
import os, shutil, sys
import yaml
cap = os.environ["IMC_FAKE_CAPTURE"]
dst = os.path.join(cap, "call%d" % len(os.listdir(cap)))
shutil.copytree(os.getcwd(), dst, ignore=shutil.ignore_patterns("cp", "tmp"))
with open(os.path.join(dst, "argv"), "w") as f:
    f.write(" ".join(sys.argv[1:]))
book = sys.argv[1]
hosts = sys.argv[sys.argv.index("--limit") + 1].split(",")

def play(book):
    bad = os.environ.get("IMC_FAKE_FAIL") == book
    print("[WARNING]: fake warning for %s" % book)
    print("PLAY [%s] ****" % book)
    print("TASK [the task of %s] ****" % book)
    for h in hosts:
        if bad:
            print('fatal: [%s]: FAILED! => {"changed": false, "msg": "broken on purpose"}' % h)
            print('...ignoring')
            print('ok: [%s] => {' % h)
            print('    "msg": "second line of %s"' % h)
            print('}')
        else:
            print('ok: [%s] => {"msg": "%s"}' % (h, os.environ.get("IMC_FAKE_ECHO", "")))
    if bad:
        print("NO MORE HOSTS LEFT ****")
    return bad

bad = False
if book == "site.yml":
    with open(book) as f:
        for item in yaml.safe_load(f):
            if "ansible.builtin.import_playbook" in item:
                bad = play(item["ansible.builtin.import_playbook"])
                if bad:
                    break
            else:
                print("PLAY [%s] ****" % item["name"])
else:
    bad = play(book)
print("PLAY RECAP ****")
for h in hosts:
    print("%s : ok=1 changed=0 unreachable=0 failed=%d skipped=0" % (h, 1 if bad else 0))
sys.exit(2 if bad else 0)
"""


def mux_left(run_dir):
    """Processes whose command line names the run directory (ssh ControlPersist masters)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if run_dir in l and "ps -eo" not in l]


def main():
    if not os.path.exists(SSHD) or not shutil.which("ansible-playbook"):
        print("SKIP sshd or ansible-playbook missing")
        return 77
    failures = 0
    user = pwd.getpwuid(os.geteuid()).pw_name
    with tempfile.TemporaryDirectory(prefix="imc-ctxt-") as tmp:
        port = free_port()
        sshd = Sshd(tmp, port)
        sshd.new_host_key()
        key, pub = os.path.join(tmp, "id"), os.path.join(tmp, "id.pub")
        known = os.path.join(tmp, "known_hosts")
        run_dir = os.path.join(tmp, "run")
        os.mkdir(run_dir, 0o700)
        r = tool("keypair", key, pub)
        check(r.returncode == 0, "keypair: %s" % r.stderr)
        shutil.copy(pub, sshd.auth_keys)
        sshd.start()

        def key_auth_records_host_key():
            r = tool("probe", "127.0.0.1", port, user, key, known)
            check(r.returncode == 0, "probe: %s" % r.stderr)
            with open(known, encoding="utf-8") as f:
                text = f.read()
            check("[127.0.0.1]:%d ssh-ed25519 " % port in text, "recorded: %r" % text)
            r = tool("probe", "127.0.0.1", port, user, key, known)
            check(r.returncode == 0, "second probe against the record: %s" % r.stderr)

        def exec_gives_output_and_status():
            r = tool("exec", "127.0.0.1", port, user, key, known,
                     "echo out; echo err >&2; exit 3")
            check(r.returncode == 3, "status 3: %d %s" % (r.returncode, r.stderr))
            check(r.stdout == "out\nerr\n", "output: %r" % r.stdout)

        def exec_with_input_streams_both_ways():
            # 3 MB in, through many 32 KB writes; its sum and the output come back.
            data = "".join("line %07d of the input\n" % i for i in range(120000))
            r = tool("execin", "127.0.0.1", port, user, key, known,
                     "wc -c; echo err >&2; exit 5", stdin=data)
            check(r.returncode == 5, "status 5: %d %s" % (r.returncode, r.stderr))
            check(r.stdout == "%d\nerr\n" % len(data), "output: %r" % r.stdout)

        def exec_through_a_bastion():
            r = tool("proxyexec", "127.0.0.1", port, user, key, known, "127.0.0.1", port, user,
                     "echo via-proxy")
            check(r.returncode == 0 and r.stdout == "via-proxy\n",
                  "through the bastion: %d %r %s" % (r.returncode, r.stdout, r.stderr))

        def wrong_key_is_refused():
            other = os.path.join(tmp, "other")
            check(tool("keypair", other, other + ".pub").returncode == 0, "second key pair")
            r = tool("probe", "127.0.0.1", port, user, other, known)
            check(r.returncode == 2 and "error auth:" in r.stderr and "refused" in r.stderr,
                  "refused: %s" % r.stderr)
            check("PRIVATE" not in r.stderr, "no key in the message")

        def ansible_runs_with_imc_inventory():
            r = tool("prepare", run_dir, "127.0.0.1", port, user, key, known)
            check(r.returncode == 0, "prepare: %s" % r.stderr)
            with open(os.path.join(run_dir, "ok.yml"), "w", encoding="utf-8") as f:
                f.write("- hosts: local\n  gather_facts: false\n  tasks:\n"
                        "  - ansible.builtin.copy:\n      dest: %s/out.txt\n"
                        "      content: \"{{ IM_NODE_FQDN }} {{ IM_INFRASTRUCTURE_ID }} "
                        "{{ IM_NODE_NUM + 1 }}\\n\"\n" % tmp)
            r = tool("run", run_dir, "ok.yml", 240, timeout=300)
            check("status=0 timed_out=0" in r.stdout, "run: %s %s" % (r.stdout, r.stderr))
            check("recap local0 ok" in r.stdout, "recap: %s" % r.stdout)
            with open(os.path.join(tmp, "out.txt"), encoding="utf-8") as f:
                check(f.read() == "local0.localdomain test-infra 1\n", "variables reached")
            check(not mux_left(run_dir), "ssh masters left: %s" % mux_left(run_dir))

        def ansible_through_a_bastion():
            d = os.path.join(tmp, "run3")
            os.mkdir(d, 0o700)
            r = tool("prepareproxy", d, "127.0.0.1", port, user, key, known, "127.0.0.1", port,
                     user)
            check(r.returncode == 0, "prepare: %s" % r.stderr)
            with open(os.path.join(d, "hosts"), encoding="utf-8") as f:
                check("ProxyCommand=ssh -W %h:%p" in f.read(), "ProxyCommand in the inventory")
            with open(os.path.join(d, "proxy.yml"), "w", encoding="utf-8") as f:
                f.write("- hosts: local\n  gather_facts: false\n  tasks:\n"
                        "  - ansible.builtin.command: echo through-the-bastion\n"
                        "    register: out\n"
                        "  - ansible.builtin.copy:\n      dest: %s/proxy.txt\n"
                        "      content: \"{{ out.stdout }}\"\n" % tmp)
            r = tool("run", d, "proxy.yml", 240, timeout=300)
            check("status=0 timed_out=0" in r.stdout, "run: %s" % r.stdout)
            with open(os.path.join(tmp, "proxy.txt"), encoding="utf-8") as f:
                check(f.read() == "through-the-bastion", "ran through the bastion")
            check(not mux_left(d), "ssh masters left: %s" % mux_left(d))

        def ansible_failure_is_per_host():
            with open(os.path.join(run_dir, "bad.yml"), "w", encoding="utf-8") as f:
                f.write("- hosts: local\n  gather_facts: false\n  tasks:\n"
                        "  - name: this one fails\n    ansible.builtin.command: /bin/false\n")
            r = tool("run", run_dir, "bad.yml", 240, timeout=300)
            check("status=2 timed_out=0" in r.stdout, "status 2: %s" % r.stdout)
            check("fatal: [local0]: FAILED!" in r.stdout, "fatal line: %s" % r.stdout)
            check("TASK [this one fails]" in r.stdout, "failing task named")
            check("recap local0 failed" in r.stdout, "recap failed: %s" % r.stdout)

        def ansible_deadline_kills_the_run():
            with open(os.path.join(run_dir, "slow.yml"), "w", encoding="utf-8") as f:
                f.write("- hosts: local\n  gather_facts: false\n  tasks:\n"
                        "  - ansible.builtin.command: sleep 45\n")
            r = tool("run", run_dir, "slow.yml", 8, timeout=120)
            check("status=-1 timed_out=1" in r.stdout, "killed at the deadline: %s" % r.stdout)
            check(not mux_left(run_dir), "ssh masters left: %s" % mux_left(run_dir))

        def ansible_refuses_an_unknown_host_key():
            empty = os.path.join(tmp, "empty_known_hosts")
            open(empty, "w").close()
            d = os.path.join(tmp, "run2")
            os.mkdir(d, 0o700)
            check(tool("prepare", d, "127.0.0.1", port, user, key, empty).returncode == 0,
                  "prepare")
            shutil.copy(os.path.join(run_dir, "ok.yml"), d)
            r = tool("run", d, "ok.yml", 240, timeout=300)
            check("status=4 timed_out=0" in r.stdout, "unreachable: %s" % r.stdout)
            check("Host key verification failed" in r.stdout, "says why: %s" % r.stdout)
            check("recap local0 failed" in r.stdout, "recap: %s" % r.stdout)

        def password_auth_for_a_temporary_user():
            if os.geteuid() != 0:
                print("skip password auth: not root")
                return
            name = "imcctx%d" % random.randint(10000, 99999)
            password = "Pw-%d-x!" % random.randint(10 ** 8, 10 ** 9)
            subprocess.run(["useradd", "-M", "-N", "-d", "/", "-s", "/bin/sh", name], check=True)
            try:
                subprocess.run(["chpasswd"], input="%s:%s\n" % (name, password), text=True,
                               check=True)
                env = dict(os.environ, IMC_TEST_PASSWORD=password)
                r = tool("exec", "127.0.0.1", port, name, "-", known, "id -un", env=env)
                check(r.returncode == 0 and r.stdout == name + "\n",
                      "password login: %d %r %s" % (r.returncode, r.stdout, r.stderr))
                env["IMC_TEST_PASSWORD"] = password + "wrong"
                r = tool("probe", "127.0.0.1", port, name, "-", known, env=env)
                check(r.returncode == 2 and "refused" in r.stderr, "bad password refused")
                check(password not in r.stderr, "no password in the message")
            finally:
                subprocess.run(["userdel", "-f", name], check=False, capture_output=True)

        def changed_host_key_is_refused():
            sshd.stop()
            sshd.new_host_key()
            sshd.start()
            r = tool("probe", "127.0.0.1", port, user, key, known)
            check(r.returncode == 2 and "error auth:" in r.stderr and "changed" in r.stderr,
                  "changed key refused: %s" % r.stderr)

        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        with open(os.path.join(bindir, "ansible-playbook"), "w", encoding="utf-8") as f:
            f.write(FAKE_ANSIBLE)
        os.chmod(os.path.join(bindir, "ansible-playbook"), 0o755)
        with open(key, encoding="utf-8") as f:
            key_text = f.read()
        new_pw = "N3w-Secret-%d!" % random.randint(10 ** 6, 10 ** 7)

        def deploy(name, fail, retries):
            work = os.path.join(tmp, name)
            cap = os.path.join(work, "capture")
            os.makedirs(cap)
            radl = os.path.join(work, "infra.radl")
            with open(radl, "w", encoding="utf-8") as f:
                f.write("network pub (outbound = 'yes' and outports = '%d-22')\n"
                        "system front (net_interface.0.connection = 'pub' and "
                        "net_interface.0.dns_name = 'head' and "
                        "disk.0.image.url = 'x://y' and disk.0.os.credentials.username = '%s' "
                        "and disk.0.os.credentials.private_key = '%s' and "
                        "disk.0.os.credentials.new.password = '%s')\n"
                        "configure front (\n@begin\n- ansible.builtin.debug: msg=front\n@end\n)\n"
                        "configure later (\n@begin\n- ansible.builtin.debug: msg=later\n@end\n)\n"
                        "contextualize (\n  system front configure later step 2\n"
                        "  system front configure front step 1\n)\n"
                        "deploy front 1 c1\n" % (port, user, key_text, new_pw))
            env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"],
                       IMC_FAKE_CAPTURE=cap, IMC_FAKE_ECHO="pw is " + new_pw)
            if fail:
                env["IMC_FAKE_FAIL"] = fail
            r = tool("deploy", work, radl, retries, env=env, timeout=600)
            check(r.returncode == 0, "deploy: %d %s %s" % (r.returncode, r.stdout, r.stderr))
            calls = []
            for i in range(len(os.listdir(cap))):
                with open(os.path.join(cap, "call%d" % i, "argv"), encoding="utf-8") as f:
                    calls.append(f.read())
            return work, r.stdout, calls

        def engine_run_configures_the_vm():
            work, out, calls = deploy("eng-ok", None, 1)
            check("\nvm 0 configured\n" in out, "configured: %s" % out)
            check(calls == ["site.yml --limit head.localdomain"], "one run: %s" % calls)
            infra = out.split("\n", 1)[0].split()[1]
            first = os.path.join(work, "capture", "call0")
            with open(os.path.join(first, "hosts"), encoding="utf-8") as f:
                inv = f.read()
            for want in ("[front]\nhead.localdomain ", "ansible_host=\"'127.0.0.1'\"",
                         "ansible_port=%d" % port, "IM_NODE_FQDN=\"'head.localdomain'\"",
                         "IM_INFRASTRUCTURE_ID = '%s'" % infra,
                         "IM_NODE_CLOUD_TYPE=\"'LocalTest'\"",
                         "IM_NODE_NET_0_FQDN=\"'head.localdomain'\"",
                         "IM_NODE_NET_0_IP=\"'127.0.0.1'\"",
                         "UserKnownHostsFile=%s/ctxt/%s/known_hosts" % (work, infra)):
                check(want in inv, "inventory has %s:\n%s" % (want, inv))
            check(oct(os.stat(os.path.join(first, "keys", "vm0")).st_mode & 0o777) == "0o600",
                  "key file 0600")
            with open(os.path.join(first, "step_0.yml"), encoding="utf-8") as f:
                check('include_tasks: "front.yml"' in f.read(), "step 1 runs configure front")
            with open(os.path.join(first, "step_1.yml"), encoding="utf-8") as f:
                check('include_tasks: "later.yml"' in f.read(), "step 2 runs configure later")
            with open(os.path.join(first, "site.yml"), encoding="utf-8") as f:
                books = [i.get("ansible.builtin.import_playbook") for i in yaml.safe_load(f)]
            check(books == [None, "basic.yml", None, "step_0.yml", None, "step_1.yml", None,
                            "creds.yml", None], "site.yml runs the parts in order: %s" % books)
            with open(os.path.join(work, "ctxt", infra, "known_hosts"), encoding="utf-8") as f:
                check("[127.0.0.1]:%d " % port in f.read(), "host key recorded")
            check(os.listdir(os.path.join(work, "ctxt", infra)) == ["known_hosts"],
                  "run directory removed: %s" % os.listdir(os.path.join(work, "ctxt", infra)))
            for want in ("Step basic: done.", "Step 1: done.", "Step 2: done.",
                         "Step credentials: done.", "TASK [the task of step_0.yml]",
                         "ok: [head.localdomain]", "the VM is configured"):
                check(want in out, "log has %s" % want)
            check(out.index("Step 1: done.") < out.index("Step 2: running"), "steps in order")
            check(new_pw not in out and "pw is ***" in out, "new password scrubbed: %s" % out)
            check("PRIVATE KEY" not in out, "no key in the log")

        def engine_run_failed_step_leaves_vm_unconfigured():
            work, out, calls = deploy("eng-bad", "step_0.yml", 2)
            check("\nvm 0 unconfigured\n" in out, "unconfigured: %s" % out)
            check(calls == ["site.yml --limit head.localdomain",
                            "site.yml --limit head.localdomain"],
                  "run again from the failed step: %s" % calls)
            with open(os.path.join(work, "capture", "call1", "site.yml"), encoding="utf-8") as f:
                books = [i.get("ansible.builtin.import_playbook") for i in yaml.safe_load(f)]
            check(books == [None, "step_0.yml", None, "step_1.yml", None, "creds.yml", None],
                  "the second run starts at the failed step: %s" % books)
            check("Step 1: running again for VM 0." in out, "retry logged: %s" % out)
            check("Step 2: running" not in out, "no later step: %s" % out)
            vm_log = out[out.index("VM 0:"):]
            check('fatal: [head.localdomain]: FAILED! => {"changed": false, "msg": "broken on '
                  'purpose"}' in vm_log, "failing task in the VM log: %s" % vm_log)
            check("TASK [the task of step_0.yml]" in vm_log, "task named")
            check('    "msg": "second line of head.localdomain"\n}' in vm_log,
                  "a result on several lines stays whole: %s" % vm_log)
            check("...ignoring" not in vm_log, "lines about no host are left out")
            infra_log = out[:out.index("VM 0:")]
            check("[WARNING]: fake warning for basic.yml" in infra_log,
                  "Ansible's warnings in the infrastructure log: %s" % infra_log)
            check("Step 1: VM 0 failed." in out, "infrastructure log names the step: %s" % out)
            check("the VM is unconfigured" in out, "outcome in the VM log")

        try:
            for name, fn in (("key auth records the host key", key_auth_records_host_key),
                             ("exec gives output and exit status", exec_gives_output_and_status),
                             ("exec with input streams both ways",
                              exec_with_input_streams_both_ways),
                             ("exec through a bastion", exec_through_a_bastion),
                             ("a wrong key is refused", wrong_key_is_refused),
                             ("ansible-playbook with imc's inventory",
                              ansible_runs_with_imc_inventory),
                             ("Ansible through a bastion (ProxyCommand)",
                              ansible_through_a_bastion),
                             ("a failing task is reported per host", ansible_failure_is_per_host),
                             ("the deadline kills the run", ansible_deadline_kills_the_run),
                             ("Ansible refuses an unknown host key",
                              ansible_refuses_an_unknown_host_key),
                             ("password auth", password_auth_for_a_temporary_user),
                             ("the engine's contextualizer configures the VM",
                              engine_run_configures_the_vm),
                             ("a failing step leaves the VM unconfigured",
                              engine_run_failed_step_leaves_vm_unconfigured),
                             ("a changed host key is refused", changed_host_key_is_refused)):
                try:
                    fn()
                    print("ok   " + name)
                except Exception:
                    failures += 1
                    print("FAIL " + name)
                    traceback.print_exc(file=sys.stdout)
        finally:
            sshd.stop()
            with open(os.path.join(tmp, "sshd.log"), encoding="utf-8") as f:
                log = f.read()
            if log.strip():
                print("sshd said:\n" + log)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
