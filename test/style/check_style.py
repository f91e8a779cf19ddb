#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""House-style checks that a compiler does not make (as curl's checksrc):

- no unbounded or unsafe libc calls (sprintf, strcpy, ...) in the C sources;
- no raw malloc/calloc/realloc/free outside lib/util/alloc.c, so that every allocation goes
  through the wrappers the failure-injection tests count;
- every C file starts with the SPDX licence line;
- .ci/run runs exactly the README's test command.

Usage: check_style.py SOURCE_ROOT.  Prints one "path:line: message" per finding and exits 1
if there is any."""

import os
import re
import sys

C_DIRS = ["lib", "radl", "tosca", "connectors", "server", "cli"]
BANNED = ["sprintf", "vsprintf", "strcpy", "strcat", "strtok", "atoi", "gets", "system", "popen"]
RAW_ALLOC = ["malloc", "calloc", "realloc", "free"]
ALLOC_HOME = os.path.join("lib", "util", "alloc.c")
SPDX = "/* SPDX-License-Identifier: GPL-3.0-or-later */"

# A call: the name as a whole word, not a member (`ops->free(`, `s.free(`), then `(`.
CALL = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(BANNED + RAW_ALLOC))


def blank_comments_and_literals(text):
    """Replaces comments, string and character literals by spaces, keeping newlines, so that
    names inside them do not count and line numbers stay right."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif c in "\"'":
            end = i + 1
            while end < n and text[end] != c and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            out.append(c)
            i += 1
            continue
        out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))
        i = end
    return "".join(out)


def check_c_file(root, rel, findings):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not text.startswith(SPDX):
        findings.append("%s:1: the file must start with %s" % (rel, SPDX))
    code = blank_comments_and_literals(text)
    for m in CALL.finditer(code):
        name = m.group(1)
        if name in RAW_ALLOC and rel == ALLOC_HOME:
            continue
        line = code.count("\n", 0, m.start()) + 1
        if name in RAW_ALLOC:
            use = "imc_" + name if name != "free" else "imc_free"
            findings.append("%s:%d: raw %s(): use %s() (lib/include/imc/alloc.h)"
                            % (rel, line, name, use))
        else:
            findings.append("%s:%d: %s() is banned (unbounded or unsafe)" % (rel, line, name))


def c_files(root):
    for top in C_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def readme_test_command(root):
    """The first line of a fenced code block in README.md that runs scripts/test."""
    fenced = False
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                fenced = not fenced
            elif fenced and "scripts/test" in line:
                return line.strip()
    return None


def ci_commands(root):
    """The lines of .ci/run that do something besides the shell preamble."""
    preamble = {"set -euo pipefail", 'cd "$(dirname "$0")/.."'}
    with open(os.path.join(root, ".ci", "run"), encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and not line.startswith("#") and line not in preamble]


def check_ci(root, findings):
    for rel in ("README.md", os.path.join(".ci", "run")):
        if not os.path.isfile(os.path.join(root, rel)):
            findings.append("%s:1: missing" % rel)
            return
    want = readme_test_command(root)
    got = ci_commands(root)
    if want is None:
        findings.append("README.md:1: no code block line runs scripts/test")
    elif got != [want]:
        findings.append(".ci/run:1: must run exactly README's test command %r, runs %r"
                        % (want, got))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: check_style.py SOURCE_ROOT\n")
        return 2
    root = sys.argv[1]
    findings = []
    nfiles = 0
    for rel in c_files(root):
        check_c_file(root, rel, findings)
        nfiles += 1
    check_ci(root, findings)
    for f in findings:
        print(f)
    print("%d C files checked, %d finding(s)" % (nfiles, len(findings)))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
