#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""imc's shell completions (scripts/completion/imc.bash and _imc) and its man page (doc/imc.1)
against the real `imc` binary: each names every operation `imc --help` lists and nothing else,
so the three cannot drift apart; the bash completion offers files, radl subcommands and the
ids of the local store, and starts `imc` only once an operation is typed; the man page renders
with no warning.

The bash completion runs as bash runs it: the script sourced in `bash --norc`, COMP_WORDS cut
as readline cuts them (at blanks, '=' and ':'), COMP_CWORD, COMP_LINE and COMP_POINT set, then
the function `complete -p imc` names is called and COMPREPLY printed.

Usage: test_completion.py IMC SOURCE_ROOT

Each test_* function is one behaviour; every one runs (a failure does not stop the others)
and the script exits 1 if any failed.  Each command has a timeout."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

IMC, ROOT = os.path.abspath(sys.argv[1]), sys.argv[2]
BASH_SCRIPT = os.path.join(ROOT, "scripts", "completion", "imc.bash")
ZSH_SCRIPT = os.path.join(ROOT, "scripts", "completion", "_imc")
MAN_PAGE = os.path.join(ROOT, "doc", "imc.1")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
TIMEOUT = 60

AUTH = "id = im; type = InfrastructureManager; username = u; password = p\nid = d; type = Dummy\n"
RADL = ("network net (outbound = 'no')\nsystem node (cpu.count >= 1 and "
        "net_interface.0.connection = 'net' and disk.0.image.url = 'dummy://img')\n"
        "deploy node 1\n")

# What `imc -q list` prints: the shape the completion reads ids from.
FAKE_IDS = ["0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002"]

# Sources the script, calls the function registered for imc with the words given as
# arguments: SCRIPT LINE CWORD WORD...  Prints COMPREPLY, one candidate a line.
BASH_DRIVER = r'''
source "$1" || exit 3
COMP_LINE=$2 COMP_POINT=${#2} COMP_CWORD=$3
shift 3
COMP_WORDS=("$@")
spec=$(complete -p imc) || exit 4
fn=${spec#*-F }
fn=${fn%% *}
"$fn" imc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def clean_env(tmp):
    """No IMC_* setting and a HOME of the test's own: no configuration file is read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMC_")}
    env["HOME"] = tmp
    env["IMC_DATA_DIR"] = os.path.join(tmp, "data")
    env.pop("XDG_DATA_HOME", None)
    return env


def comp_words(line):
    """COMP_WORDS and COMP_CWORD as bash builds them for `line` with the cursor at its end:
    words at blanks, and each run of '=' or ':' (COMP_WORDBREAKS) a word of its own."""
    words = []
    for w in line.split():
        words.extend(p for p in re.split(r"([=:]+)", w) if p)
    if not line or line[-1].isspace():
        words.append("")
    return words, len(words) - 1


def bash_complete(line, cwd=None, env=None, command=None, script=BASH_SCRIPT):
    """The candidates bash's completion offers for `line` (cursor at its end); command, when
    given, replaces the first word (the imc the completion runs for ids)."""
    words, cword = comp_words(line)
    if command:
        line = command + line[len(words[0]):]
        words[0] = command
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "bash", script,
                        line, str(cword)] + words, capture_output=True, text=True, cwd=cwd,
                       env=env, timeout=TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("completion of %r exited %d: %s" % (line, p.returncode, p.stderr))
    return [c for c in p.stdout.split("\n") if c]


def help_operations():
    """The operation and command names `imc --help` lists: its `  imc NAME ARGS` lines and the
    first word of each line of its "Commands:" list."""
    p = subprocess.run([IMC, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("imc --help exited %d: %s" % (p.returncode, p.stderr))
    names, in_commands = set(), False
    for line in p.stdout.splitlines():
        m = re.match(r"^\s+imc\s+([a-z_|]+)", line)
        if m:
            names.update(m.group(1).split("|"))
        if line.strip() == "Commands:":
            in_commands = True
        elif in_commands and not line.strip():
            in_commands = False
        elif in_commands:
            m = re.match(r"^\s+([a-z_]+)\s", line)
            if m:
                names.add(m.group(1))
    # A parser that found nothing would make every comparison below pass: a few names that
    # imc has always had must be there.
    for known in ("list", "create", "getversion", "radl", "help"):
        if known not in names:
            raise AssertionError("could not read '%s' from imc --help:\n%s" % (known, p.stdout))
    return names


def man_operations():
    """The first word of each entry (.TP/.TQ) in the man page's OPERATIONS section, but for
    the entries of `imc radl`'s options."""
    names, in_ops, heading = set(), False, False
    with open(MAN_PAGE, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(".SH"):
                in_ops = line.split(None, 1)[1:] == ["OPERATIONS"]
                continue
            if not in_ops:
                continue
            if line in (".TP", ".TQ"):
                heading = True
                continue
            if heading:
                text = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-")
                if text.startswith("."):
                    text = text.split(None, 1)[1] if " " in text else ""
                word = text.strip('"').split()
                if word and not word[0].startswith("-"):  # not the options of imc radl
                    names.add(word[0])
                heading = False
    return names


def zsh_operations():
    """The operation names of _imc's two tables: `args` (what each takes) and `ops` (the
    descriptions offered after `imc`)."""
    with open(ZSH_SCRIPT, encoding="utf-8") as f:
        text = f.read()

    def table(name):
        m = re.search(r"\n\s*%s=\(\n(.*?)\n\s*\)\n" % name, text, re.S)
        if not m:
            raise AssertionError("no %s=( ... ) table in %s" % (name, ZSH_SCRIPT))
        return m.group(1)

    args = table("args")
    keys = set(re.findall(r"(?:^|\s)([a-z_]+) (?:'[^']*')", args))
    ops = set(re.findall(r"'([a-z_]+):", table("ops")))
    return keys, ops


def diff(a_name, a, b_name, b):
    return "in %s, not in %s: %s; in %s, not in %s: %s" % (
        a_name, b_name, sorted(a - b), b_name, a_name, sorted(b - a))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def write(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def fake_imc(tmp):
    """An imc that records each run in `calls` and answers like `imc -q list`."""
    calls = os.path.join(tmp, "calls")
    body = "\n".join('    "%s"%s' % (i, "," if n < len(FAKE_IDS) - 1 else "")
                     for n, i in enumerate(FAKE_IDS))
    path = write(os.path.join(tmp, "fake-imc"),
                 "#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\nprintf '[\\n%s\\n]\\n'\n" % (
                     calls, body.replace("\n", "\\n")), 0o755)
    return path, calls


# --- the operations: imc --help, bash, zsh and the man page agree ---------------------------

def test_every_help_operation_is_offered_by_bash():
    help_ops, offered = help_operations(), set(bash_complete("imc "))
    expect(help_ops <= offered, diff("imc --help", help_ops, "bash", offered))


def test_every_bash_operation_is_in_help():
    help_ops, offered = help_operations(), set(bash_complete("imc "))
    expect(offered <= help_ops, diff("bash", offered, "imc --help", help_ops))


def test_every_help_operation_is_in_the_man_page():
    help_ops, man = help_operations(), man_operations()
    expect(help_ops <= man, diff("imc --help", help_ops, "doc/imc.1", man))


def test_every_man_page_operation_is_in_help():
    help_ops, man = help_operations(), man_operations()
    expect(man <= help_ops, diff("doc/imc.1", man, "imc --help", help_ops))


def test_zsh_tables_name_the_help_operations():
    help_ops = help_operations()
    keys, ops = zsh_operations()
    expect(keys == help_ops, "zsh args: " + diff("zsh", keys, "imc --help", help_ops))
    expect(ops == help_ops, "zsh ops: " + diff("zsh", ops, "imc --help", help_ops))


def test_prefix_offers_only_matching_operations():
    expect(sorted(bash_complete("imc getv")) == sorted(["getversion", "getvm", "getvminfo",
                                                       "getvmcontmsg"]),
           "imc getv<TAB>: %s" % bash_complete("imc getv"))


# --- values: files, flags, radl -------------------------------------------------------------

def test_auth_file_option_offers_files():
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("auth.dat", "other.dat", "recipe.radl"):
            write(os.path.join(tmp, name), "")
        os.mkdir(os.path.join(tmp, "keys"))
        got = sorted(bash_complete("imc -a ", cwd=tmp))
        expect(got == ["auth.dat", "keys", "other.dat", "recipe.radl"], "imc -a <TAB>: %s" % got)


def test_long_auth_file_option_with_equals_offers_files():
    with tempfile.TemporaryDirectory() as tmp:
        write(os.path.join(tmp, "auth.dat"), "")
        write(os.path.join(tmp, "other.dat"), "")
        # bash replaces only the piece after '=': the candidates carry no "--auth_file=".
        got = bash_complete("imc --auth_file=au", cwd=tmp)
        expect(got == ["auth.dat"], "imc --auth_file=au<TAB>: %s" % got)


def test_radl_file_argument_offers_files():
    with tempfile.TemporaryDirectory() as tmp:
        write(os.path.join(tmp, "web.radl"), "")
        got = bash_complete("imc -a auth.dat create w", cwd=tmp)
        expect(got == ["web.radl"], "imc create w<TAB>: %s" % got)


def test_flag_argument_offers_zero_and_one():
    got = sorted(bash_complete("imc create web.radl "))
    expect(got == ["0", "1"], "imc create web.radl <TAB>: %s" % got)


def test_url_value_is_skipped_whole():
    # bash cuts http://127.0.0.1:9/ into five words; none of them is the operation.
    got = sorted(bash_complete("imc -u http://127.0.0.1:9/ sto"))
    expect(got == ["stop", "stopvm"], "imc -u URL sto<TAB>: %s" % got)


def test_options_are_offered_after_a_dash():
    got = set(bash_complete("imc --"))
    want = {"--auth_file", "--xmlrpc-url", "--rest-url", "--verify-ssl", "--force", "--quiet",
            "--name", "--system_name", "--yes", "--json", "--local", "--wait", "--detach",
            "--config", "--help", "--version"}
    expect(got == want, diff("bash", got, "expected", want))


def test_radl_subcommands_are_offered():
    got = sorted(bash_complete("imc radl "))
    expect(got == ["check", "fmt", "fromjson", "inputs", "json"], "imc radl <TAB>: %s" % got)


def test_radl_json_offers_its_own_options():
    got = sorted(bash_complete("imc radl json --"))
    expect(got == ["--help", "--input", "--pretty", "--strict"], "radl json --<TAB>: %s" % got)


# --- infrastructure ids ---------------------------------------------------------------------

def test_operation_names_never_run_imc():
    with tempfile.TemporaryDirectory() as tmp:
        imc, calls = fake_imc(tmp)
        for line in ("imc ", "imc ge", "imc -a auth.dat ", "imc -a auth.dat -"):
            bash_complete(line, cwd=tmp, command=imc)
        expect(not os.path.exists(calls), "imc ran before an operation was typed")


def test_ids_come_from_quiet_list_with_the_typed_connection_options():
    with tempfile.TemporaryDirectory() as tmp:
        imc, calls = fake_imc(tmp)
        got = bash_complete("imc -a auth.dat -r http://127.0.0.1:9/ -q getstate ", cwd=tmp,
                            command=imc)
        expect(sorted(got) == FAKE_IDS, "getstate <TAB>: %s" % got)
        with open(calls, encoding="utf-8") as f:
            ran = f.read().splitlines()
        expect(ran == ["-a auth.dat -r http://127.0.0.1:9/ -q list"], "imc ran as %s" % ran)


def test_ids_of_the_local_store_are_offered():
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(tmp)
        auth = write(os.path.join(tmp, "auth.dat"), AUTH)
        radl = write(os.path.join(tmp, "r.radl"), RADL)
        p = subprocess.run([IMC, "-a", auth, "create", radl], capture_output=True, text=True,
                           env=env, timeout=TIMEOUT)
        expect(p.returncode == 0, "imc create exited %d: %s" % (p.returncode, p.stderr))
        ids = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                         p.stdout)
        expect(len(ids) == 1, "no id in create's output: %r" % p.stdout)
        got = bash_complete("imc -a auth.dat getstate ", cwd=tmp, env=env, command=IMC)
        expect(got == ids, "getstate <TAB>: %s, want %s" % (got, ids))
        got = bash_complete("imc -a auth.dat destroy " + ids[0][:6], cwd=tmp, env=env,
                            command=IMC)
        expect(got == ids, "destroy %s<TAB>: %s" % (ids[0][:6], got))


def test_failing_list_offers_nothing():
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(tmp)
        # No auth file: `imc -q list` fails with a usage error, which must not show.
        p = subprocess.run(["bash", "--norc", "-c", BASH_DRIVER, "bash", BASH_SCRIPT,
                            IMC + " getstate ", "2", IMC, "getstate", ""],
                           capture_output=True, text=True, cwd=tmp, env=env, timeout=TIMEOUT)
        expect(p.returncode == 0 and p.stdout == "\n" and p.stderr == "",
               "exit %d, out %r, err %r" % (p.returncode, p.stdout, p.stderr))


# --- installation, zsh, the man page --------------------------------------------------------

def test_bash_completion_loads_the_installed_name():
    """bash-completion loads completions/imc on the first `imc <TAB>`: the file, installed
    under that name (meson renames imc.bash), must register _imc from inside its loader."""
    expect(os.path.exists(BASH_COMPLETION),
           "%s is missing: run scripts/setup (package bash-completion)" % BASH_COMPLETION)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "user", "completions"))
        shutil.copy(BASH_SCRIPT, os.path.join(tmp, "user", "completions", "imc"))
        env = dict(os.environ, BASH_COMPLETION_USER_DIR=os.path.join(tmp, "user"))
        script = write(os.path.join(tmp, "load.bash"),
                       "source %s\n__load_completion imc\n" % BASH_COMPLETION)
        got = sorted(bash_complete("imc radl ", env=env, script=script))
        expect(got == ["check", "fmt", "fromjson", "inputs", "json"],
               "after bash-completion's loader, imc radl <TAB>: %s" % got)


def test_zsh_parses_its_completion():
    zsh = shutil.which("zsh")
    if not zsh:
        print("SKIP test_zsh_parses_its_completion: zsh is not installed (scripts/setup "
              "installs it)")
        return
    p = subprocess.run([zsh, "-n", ZSH_SCRIPT], capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 0 and not p.stderr, "zsh -n: %d %s" % (p.returncode, p.stderr))


def test_zsh_completion_starts_with_compdef():
    with open(ZSH_SCRIPT, encoding="utf-8") as f:
        first = f.readline()
    expect(first == "#compdef imc\n", "zsh autoloads by the first line; it is %r" % first)


def test_groff_prints_no_warning():
    p = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", MAN_PAGE], capture_output=True,
                       text=True, timeout=TIMEOUT)
    expect(p.returncode == 0 and p.stderr == "", "groff: %d %s" % (p.returncode, p.stderr))


def test_man_prints_no_warning():
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0")
    p = subprocess.run(["man", "--warnings", "-l", MAN_PAGE], capture_output=True, text=True,
                       env=env, timeout=TIMEOUT)
    expect(p.returncode == 0 and p.stderr == "", "man: %d %s" % (p.returncode, p.stderr))
    text = re.sub(".\b", "", p.stdout)  # no overstrike: bold is "X\bX"
    expect("OPERATIONS" in text and "EXIT STATUS" in text, "man printed: %r" % text[:400])


def main():
    for tool in ("bash", "groff", "man", "timeout"):
        if not shutil.which(tool):
            print("%s is missing: run scripts/setup" % tool)
            return 1
    failed = 0
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    for name, fn in tests:
        try:
            fn()
            print("ok   %s" % name)
        except Exception:  # one failure must not hide the others
            failed += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()))
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
