#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the real `imc` binary and checks what it prints and what it does to files.

Usage: test_cli.py IMC SOURCE_ROOT VERSION

Each test_* function is one behaviour; every one runs (a failure does not stop the others)
and the script exits 1 if any failed.  Each imc run has a timeout."""

import os
import re
import stat
import subprocess
import sys
import tempfile
import traceback

IMC, ROOT, VERSION = sys.argv[1], sys.argv[2], sys.argv[3]
RECIPE = os.path.join(ROOT, "recipes", "web-cluster.radl")
TIMEOUT = 60

# A small valid document written the way people write (no canonical spacing).
LOOSE = """network net (outbound='no')
system node (cpu.count>=1 and memory.size>=512M and
  net_interface.0.connection='net')
deploy node 1
"""

# Line 3, column 16: a comparator with no value after it.
BROKEN = """network net ( outbound = 'no' )
system node (
  cpu.count >= )
"""
BROKEN_MSG = "3:16: expected a number, a string or a list, found ')'"

# Numbers in base units, no strict comparators, features in name order: what JSON keeps.
JSONABLE = """description plain (
  name = 'plain'
)

network net (
  outbound = 'no'
)

system node (
  cpu.count >= 1 and
  cpu.count <= 4 and
  disk.0.os.name = 'linux' and
  memory.size >= 512000000 and
  net_interface.0.connection = 'net'
)

configure node (
@begin
---
- tasks:
    - name: say hello
      ansible.builtin.debug:
        msg: "hello"
@end
)

contextualize 600 (
  system node configure node step 1
)

deploy node 2
"""

# Two distinct parameters, one used twice.
TEMPLATE = """system node (
  cpu.count >= 1 and
  disk.0.os.credentials.username = '@input.user@' and
  instance_tags = 'owner=@input.owner@,user=@input.user@'
)
"""


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.code, self.out, self.err)


SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def imc(*args, stdin=None, cwd=None):
    proc = subprocess.run([IMC] + list(args), input=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=cwd)
    # Under the sanitizer build a report may not change the exit status a test expects: any
    # report fails the run, whatever the test checks next.
    if SANITIZER_REPORT.search(proc.stderr):
        sys.stderr.write(proc.stderr)
        sys.exit("sanitizer report from: imc %s" % " ".join(args))
    return Result(proc)


def expect(cond, what, result=None):
    if not cond:
        raise AssertionError(what + ("\n" + repr(result) if result is not None else ""))


def ok(result):
    """The run succeeded and wrote nothing to stderr."""
    expect(result.code == 0 and result.err == "", "expected success, quiet stderr", result)
    return result


def write(dirname, name, text, mode=None):
    path = os.path.join(dirname, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# --- check --------------------------------------------------------------------------------

def test_check_sample_recipe_passes(tmp):
    r = ok(imc("radl", "check", RECIPE))
    expect(r.out == "", "check prints nothing on success", r)


def test_check_verbose_says_ok(tmp):
    good = write(tmp, "good.radl", LOOSE)
    r = ok(imc("radl", "check", "-v", good, RECIPE))
    expect(r.out == "%s: ok\n%s: ok\n" % (good, RECIPE), "one ok line per file", r)


def test_check_invalid_file_reports_position(tmp):
    bad = write(tmp, "bad.radl", BROKEN)
    r = imc("radl", "check", bad)
    expect(r.code == 1, "exit 1", r)
    expect(r.err == "%s:%s\n" % (bad, BROKEN_MSG), "exactly FILE:L:C: message", r)
    expect(r.out == "", "nothing on stdout", r)


def test_check_goes_on_after_a_failed_file(tmp):
    bad = write(tmp, "bad.radl", BROKEN)
    good = write(tmp, "good.radl", LOOSE)
    r = imc("radl", "check", "-v", bad, good, bad)
    expect(r.code == 1, "exit 1 when any file failed", r)
    expect(r.err == "%s:%s\n%s:%s\n" % (bad, BROKEN_MSG, bad, BROKEN_MSG),
           "one error per failed file", r)
    expect(r.out == "%s: ok\n" % good, "the good file is still checked", r)


def test_check_missing_file_fails(tmp):
    missing = os.path.join(tmp, "nope.radl")
    r = imc("radl", "check", missing)
    expect(r.code == 1, "exit 1", r)
    expect(r.err == "%s: No such file or directory\n" % missing, "names the file", r)


def test_check_semantic_error_fails(tmp):
    # A network interface connected to a network the document does not define.
    bad = write(tmp, "sem.radl", "system node ( net_interface.0.connection = 'nowhere' )\n")
    r = imc("radl", "check", bad)
    expect(r.code == 1, "exit 1", r)
    expect(r.err.startswith(bad + ":1:") and r.err.count("\n") == 1,
           "one FILE:1:C: message line", r)


def test_check_warns_on_skipped_characters(tmp):
    odd = write(tmp, "odd.radl", '"network net ()\n')
    r = imc("radl", "check", odd)
    expect(r.code == 0, "a skipped character is only a warning", r)
    expect(r.err == "%s:1:1: warning: skipped character '\"'\n" % odd, "warning with position", r)


def test_check_strict_rejects_skipped_characters(tmp):
    odd = write(tmp, "odd.radl", '"network net ()\n')
    r = imc("radl", "check", "--strict", odd)
    expect(r.code == 1, "--strict makes it an error", r)
    expect(r.err.startswith(odd + ":1:1: "), "error at 1:1", r)


def test_check_reads_json_files(tmp):
    js = write(tmp, "doc.json", ok(imc("radl", "json", RECIPE)).out)
    ok(imc("radl", "check", js))


# --- fmt ----------------------------------------------------------------------------------

def test_fmt_prints_canonical_text(tmp):
    loose = write(tmp, "loose.radl", LOOSE)
    r = ok(imc("radl", "fmt", loose))
    expect(r.out == ("network net (\n  outbound = 'no'\n)\n\n"
                     "system node (\n  cpu.count >= 1 and\n  memory.size >= 512M and\n"
                     "  net_interface.0.connection = 'net'\n)\n\n"
                     "deploy node 1\n"), "canonical text", r)


def test_fmt_is_idempotent(tmp):
    once = ok(imc("radl", "fmt", RECIPE)).out
    again = ok(imc("radl", "fmt", write(tmp, "once.radl", once))).out
    expect(once == again, "fmt of fmt output changes nothing")
    ok(imc("radl", "check", write(tmp, "again.radl", again)))


def test_fmt_write_rewrites_file(tmp):
    path = write(tmp, "loose.radl", LOOSE, mode=0o640)
    want = ok(imc("radl", "fmt", path)).out
    r = ok(imc("radl", "fmt", "-w", path))
    expect(r.out == "", "-w prints nothing", r)
    expect(read(path) == want, "the file holds the canonical text")
    expect(stat.S_IMODE(os.stat(path).st_mode) == 0o640, "the mode is kept")
    expect(sorted(os.listdir(tmp)) == ["loose.radl"], "no temporary file left")


def test_fmt_write_leaves_canonical_file_alone(tmp):
    path = write(tmp, "canon.radl", ok(imc("radl", "fmt", RECIPE)).out)
    before = os.stat(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))
    before = os.stat(path)
    ok(imc("radl", "fmt", "--write", path))
    after = os.stat(path)
    expect(after.st_ino == before.st_ino and after.st_mtime_ns == before.st_mtime_ns,
           "an unchanged file is not rewritten")


def test_fmt_write_error_leaves_file_untouched(tmp):
    path = write(tmp, "bad.radl", BROKEN)
    before = os.stat(path)
    r = imc("radl", "fmt", "-w", path)
    expect(r.code == 1 and r.err == "%s:%s\n" % (path, BROKEN_MSG), "parse error reported", r)
    expect(read(path) == BROKEN and os.stat(path).st_ino == before.st_ino, "file untouched")
    expect(sorted(os.listdir(tmp)) == ["bad.radl"], "no temporary file left")


def test_fmt_write_refuses_when_characters_were_skipped(tmp):
    path = write(tmp, "odd.radl", '"network net ()\n')
    r = imc("radl", "fmt", "-w", path)
    expect(r.code == 1, "rewriting would drop the skipped character", r)
    expect(read(path) == '"network net ()\n', "file untouched")


def test_fmt_write_follows_symlink(tmp):
    target = write(tmp, "real.radl", LOOSE)
    link = os.path.join(tmp, "link.radl")
    os.symlink("real.radl", link)
    ok(imc("radl", "fmt", "-w", link))
    expect(os.path.islink(link), "the link stays a link")
    expect(read(target) == ok(imc("radl", "fmt", target)).out, "the target is rewritten")


# --- json / fromjson ----------------------------------------------------------------------

def test_json_round_trip_equals_fmt(tmp):
    # JSON has no units and no strict comparators, and --pretty sorts keys: a document with
    # numbers in base units, >=/<=/= only and features in name order comes back unchanged.
    path = write(tmp, "plain.radl", JSONABLE)
    text = ok(imc("radl", "fmt", path)).out
    for flags in ([], ["--pretty"]):
        js = write(tmp, "doc.json", ok(imc("radl", "json", *flags, path)).out)
        back = ok(imc("radl", "fromjson", js)).out
        expect(back == text, "fromjson(json%s) equals fmt" % (" --pretty" if flags else ""))


def test_json_is_a_fixed_point_for_the_recipe(tmp):
    for flags in ([], ["--pretty"]):
        first = ok(imc("radl", "json", *flags, RECIPE)).out
        text = write(tmp, "back.radl", ok(imc("radl", "fromjson",
                                               write(tmp, "a.json", first))).out)
        second = ok(imc("radl", "json", *flags, text)).out
        expect(first == second, "json(fromjson(json(recipe))) == json(recipe)")


def test_json_loses_units_as_im(tmp):
    js = write(tmp, "doc.json", ok(imc("radl", "json", RECIPE)).out)
    r = ok(imc("radl", "fromjson", js))
    expect("memory.size >= 256000000 and" in r.out, "256M comes back in base units", r)


def test_json_compact_is_one_line(tmp):
    r = ok(imc("radl", "json", RECIPE))
    expect(r.out.startswith("[") and r.out.count("\n") == 1, "one line of JSON", r)


def test_json_pretty_indents(tmp):
    r = ok(imc("radl", "json", "--pretty", RECIPE))
    expect(r.out.startswith("[\n  {"), "two-space indentation", r)


def test_fromjson_reports_bad_json(tmp):
    js = write(tmp, "bad.json", '[{"class": "system", "id": "a"}\n')
    r = imc("radl", "fromjson", js)
    expect(r.code == 1 and r.err.startswith(js + ":"), "error names the file", r)


# --- inputs -------------------------------------------------------------------------------

def test_inputs_lists_each_name_once(tmp):
    path = write(tmp, "tpl.radl", TEMPLATE)
    r = ok(imc("radl", "inputs", path))
    expect(r.out == "user\t%s:3:37\nowner\t%s:4:26\n" % (path, path), "NAME<TAB>FILE:L:C", r)


def test_inputs_of_plain_file_is_empty(tmp):
    r = ok(imc("radl", "inputs", RECIPE))
    expect(r.out == "", "no references", r)


def test_check_substitutes_inputs(tmp):
    path = write(tmp, "tpl.radl", TEMPLATE)
    ok(imc("radl", "check", "--input", "user=root", "-i", "owner=ops", path))


def test_check_fails_on_input_without_value(tmp):
    path = write(tmp, "tpl.radl", TEMPLATE)
    r = imc("radl", "check", "-i", "user=root", path)
    expect(r.code == 1, "exit 1", r)
    expect(r.err == "%s:4:26: no value for input 'owner'\n" % path, "names the input", r)


def test_fmt_with_inputs_prints_values(tmp):
    path = write(tmp, "tpl.radl", TEMPLATE)
    r = ok(imc("radl", "fmt", "-i", "user=root", "-i", "owner=ops", path))
    expect("disk.0.os.credentials.username = 'root'" in r.out, "value substituted", r)
    expect("instance_tags = 'owner=ops,user=root'" in r.out, "every reference substituted", r)


def test_fmt_without_inputs_keeps_references(tmp):
    path = write(tmp, "tpl.radl", TEMPLATE)
    r = ok(imc("radl", "fmt", path))
    expect("'@input.user@'" in r.out, "references inside strings are kept", r)


# --- standard input -----------------------------------------------------------------------

def test_check_reads_stdin(tmp):
    ok(imc("radl", "check", "-", stdin=LOOSE))
    r = imc("radl", "check", "-", stdin=BROKEN)
    expect(r.code == 1 and r.err == "<stdin>:%s\n" % BROKEN_MSG, "<stdin> names the source", r)


def test_fmt_reads_stdin(tmp):
    r = ok(imc("radl", "fmt", "-", stdin=LOOSE))
    expect(r.out == ok(imc("radl", "fmt", write(tmp, "l.radl", LOOSE))).out, "same as a file", r)


# --- usage and global options -------------------------------------------------------------

def usage_error(*args):
    r = imc(*args)
    expect(r.code == 2, "exit 2 for: imc %s" % " ".join(args), r)
    expect(r.err.startswith("imc: ") and "Usage: imc" in r.err, "message and usage", r)
    expect(r.out == "", "nothing on stdout", r)


def test_usage_errors_exit_2(tmp):
    good = write(tmp, "good.radl", LOOSE)
    usage_error()
    usage_error("frobnicate")
    usage_error("--bogus")
    usage_error("radl")
    usage_error("radl", "frobnicate", good)
    usage_error("radl", "check")
    usage_error("radl", "check", "--bogus", good)
    usage_error("radl", "check", "--input", "novalue", good)
    usage_error("radl", "check", good, "--input")
    usage_error("radl", "json", "-w", good)
    usage_error("radl", "fmt", good, good)
    usage_error("radl", "fmt", "-w", "-")
    usage_error("radl", "inputs")
    usage_error("help", "frobnicate")


def test_version(tmp):
    r = ok(imc("--version"))
    expect(r.out == "imc %s\n" % VERSION, "imc VERSION", r)


def test_help(tmp):
    r = ok(imc("--help"))
    expect(r.out.startswith("Usage: imc") and "  radl " in r.out, "lists the commands", r)
    r = ok(imc("help", "radl"))
    for sub in ("check", "fmt", "json", "fromjson", "inputs"):
        expect("imc radl %s" % sub in r.out, "help radl shows " + sub, r)
    expect(ok(imc("radl", "check", "--help")).out == r.out, "--help after a subcommand")


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="imc-cli-") as tmp:
            try:
                fn(tmp)
                print("ok   %s" % name)
            except Exception:  # a failed expectation or a crashed helper alike
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc(file=sys.stdout)
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
