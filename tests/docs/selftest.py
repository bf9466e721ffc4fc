#!/usr/bin/env python3
"""Self-test of check_docs.py (ctest docs_check_selftest).

Proves that the checker passes a miniature repository whose pages match
(tests/docs/fixtures/root) and fails, at the right page:line, on each kind of
drift: a page that drifts (tests/docs/fixtures/drift/*.md, whose first line
says the failure expected) and sources, programs, README commands and link
targets that drift under an unchanged page. The example and snippet programs
are shell scripts in a temporary build directory, so nothing is compiled.
Standard library only.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "check_docs.py")
FIXTURES = os.path.join(HERE, "fixtures")
EXPECT_RE = re.compile(r"^<!-- expect(?: (\d+))?: (.*) -->$")  # [how many failures]: the first one

PROGRAMS = {
    "examples/01_demo": """#!/bin/sh
echo "started at 0.00"
echo "took 1.01 s"
for i in 1 2 3; do echo "item $i"; done
echo "done"
if [ "$1" = --verbose ]; then echo "verbose 127.0.0.1 1.2.3  "; fi
""",
    "examples/02_fails": """#!/bin/sh
echo half
echo boom >&2
exit 3
""",
    "examples/06_database": """#!/bin/sh
[ -n "$DATABASE_URL" ] || { echo "DATABASE_URL is not set" >&2; exit 1; }
echo "users: 2 rows"
""",
    "docs/snippets/docs_snippet_demo": """#!/bin/sh
echo hello
""",
}

failures = []
passes = 0


def write(path, text, executable=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if executable:
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def edit(path, old, new):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert old in text, f"self-test bug: {old!r} not in {path}"
    write(path, text.replace(old, new, 1), os.access(path, os.X_OK))


class Sandbox:
    """A fresh copy of the fixture repository and its fake build directory."""

    def __init__(self, base, name):
        self.dir = os.path.join(base, name)
        self.root = os.path.join(self.dir, "repo")
        self.bin = os.path.join(self.dir, "build")
        shutil.copytree(os.path.join(FIXTURES, "root"), self.root)
        for rel, text in PROGRAMS.items():
            write(os.path.join(self.bin, rel), text, executable=True)

    def run(self, env_extra=None, extra_args=()):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AIO_TEST_DATABASE_URL")}
        env.update(env_extra or {})
        proc = subprocess.run(
            [sys.executable, CHECKER, "--root", self.root, "--bin-dir", self.bin, *extra_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=120,
        )
        return proc.returncode, proc.stdout.decode("utf-8", "replace")


def expect_pass(name, sandbox, skipped=0, **kw):
    global passes
    rc, out = sandbox.run(**kw)
    wanted = f"{skipped} outputs skipped; 0 failures"
    if rc != 0 or wanted not in out:
        failures.append(f"{name}: expected a pass with {skipped} skipped outputs, got exit status {rc}:\n{out}")
    else:
        passes += 1


def expect_fail(name, sandbox, fragment, count=1, **kw):
    """The checker must fail with `count` failures, the first containing `fragment`."""
    global passes
    rc, out = sandbox.run(**kw)
    reported = [l for l in out.split("\n") if l.startswith("FAILED ")]
    if rc != 1:
        failures.append(f"{name}: expected exit status 1, got {rc}:\n{out}")
    elif len(reported) != count or fragment not in reported[0]:
        failures.append(f"{name}: expected {count} failure(s), the first containing {fragment!r}, got:\n{out}")
    else:
        passes += 1


def expect_run(name, sandbox, accept, expected, status=1, **kw):
    """The checker must exit with `status` and print what `accept(out)` accepts;
    `expected` says what that is, for the report."""
    global passes
    rc, out = sandbox.run(**kw)
    if rc != status or not accept(out):
        failures.append(f"{name}: expected {expected}:\n{out}")
    else:
        passes += 1


def unit_tests():
    """The comparison rules of output blocks, directly."""
    global passes
    sys.path.insert(0, HERE)
    import check_docs as c

    cases = [
        (("took 1.00 s", "took 1.01 s"), True),
        (("took 1.00 s", "took 1.15 s"), True),  # 0.05 + 10% of 1.00
        (("took 1.00 s", "took 1.16 s"), False),
        (("took 3.00 s", "took 2.70 s"), True),
        (("took 3.00 s", "took 2.60 s"), False),
        (("took 0.00 s", "took 0.04 s"), True),
        (("took 0.00 s", "took 0.06 s"), False),
        (("took -0.50 s", "took -0.48 s"), True),
        (("count 10", "count 11"), False),  # integers: exact
        (("count 10", "count 10.0"), False),
        (("at 127.0.0.1", "at 127.0.0.2"), False),  # dotted: exact
        (("v 1.2.3", "v 1.2.3"), True),
        (("ends 1.5.", "ends 1.52."), True),
        (("a 1.0 b 2.0", "a 1.0 c 2.0"), False),
        (("trailing  ", "trailing"), True),
        (("  leading", "leading"), False),
    ]
    for (doc, actual), want in cases:
        if c.line_matches(doc, actual) != want:
            failures.append(f"line_matches({doc!r}, {actual!r}) should be {want}")
        else:
            passes += 1
    wild = [
        (["a", "...", "d"], ["a", "b", "c", "d"], True),
        (["a", "...", "d"], ["a", "d"], True),
        (["...", "x"], ["x"], True),
        (["a", "..."], ["a"], True),
        (["a", "...", "d"], ["a", "b"], False),
        (["a"], ["a", "b"], False),
        (["a", "b"], ["a"], False),
        ([], [], True),
        ([], ["a"], False),
    ]
    for doc, actual, want in wild:
        if c.output_matches(doc, actual) != want:
            failures.append(f"output_matches({doc!r}, {actual!r}) should be {want}")
        else:
            passes += 1
    slugs = [("Where `task<T>` lives", "where-taskt-lives"), ("C++ pitfalls: co_await & lifetimes", "c-pitfalls-co_await--lifetimes"),
             ("asyncio → aio", "asyncio--aio"), ("[Linked](x.md) heading", "linked-heading")]
    for text, want in slugs:
        if c.github_slug(text) != want:
            failures.append(f"github_slug({text!r}) = {c.github_slug(text)!r}, expected {want!r}")
        else:
            passes += 1


def main():
    global passes
    unit_tests()
    base = tempfile.mkdtemp(prefix="aio-docs-selftest-")
    try:
        n = 0

        def sandbox():
            nonlocal n
            n += 1
            return Sandbox(base, f"s{n}")

        # The fixture repository passes; the database output is skipped
        # without a server, checked with one (DATABASE_URL or AIO_TEST_DATABASE_URL).
        expect_pass("fixture repository", sandbox(), skipped=1)
        expect_pass("with DATABASE_URL", sandbox(), skipped=0, env_extra={"DATABASE_URL": "x"})
        expect_pass("with AIO_TEST_DATABASE_URL", sandbox(), skipped=0, env_extra={"AIO_TEST_DATABASE_URL": "x"})
        s = sandbox()
        edit(os.path.join(s.bin, "examples/06_database"), "users: 2 rows", "users: 3 rows")
        expect_fail("database output drifts", s, "good.md:57: output of `06_database` differs",
                    env_extra={"DATABASE_URL": "x"})
        expect_pass("database drift is skipped without a server", s, skipped=1)

        # Pages that drift.
        drift_dir = os.path.join(FIXTURES, "drift")
        for name in sorted(os.listdir(drift_dir)):
            with open(os.path.join(drift_dir, name), encoding="utf-8") as f:
                text = f.read()
            m = EXPECT_RE.match(text.split("\n", 1)[0])
            if not m:
                failures.append(f"fixtures/drift/{name}: first line must be <!-- expect[ COUNT]: FRAGMENT -->")
                continue
            s = sandbox()
            write(os.path.join(s.root, "docs", "drift.md"), text)
            expect_fail(f"drift/{name}", s, "docs/" + m.group(2), count=int(m.group(1) or 1))

        # Sources, programs and targets that drift under an unchanged page.
        s = sandbox()
        edit(os.path.join(s.root, "examples/01_demo.cpp"), "return 42; }", "return 43; }")
        expect_fail("example region edited", s, "good.md:15: snippet differs from examples/01_demo.cpp#helper")
        s = sandbox()
        edit(os.path.join(s.root, "docs/snippets/demo.cpp"), "#include <cstdio>\n", "#include <cstdio>\n#include <string>\n")
        expect_fail("snippet file edited", s, "good.md:20: snippet differs from docs/snippets/demo.cpp")
        s = sandbox()
        edit(os.path.join(s.root, "examples/01_demo.cpp"), "// [helper]", "// [answer]")
        edit(os.path.join(s.root, "examples/01_demo.cpp"), "// [/helper]", "// [/answer]")
        expect_fail("region renamed", s, "good.md:15: region `helper` does not exist")
        s = sandbox()
        edit(os.path.join(s.root, "examples/01_demo.cpp"), "  // [/body]\n", "")
        expect_fail("region never closed", s, "good.md:5: `examples/01_demo.cpp` has malformed region markers", count=2)
        s = sandbox()
        edit(os.path.join(s.bin, "examples/01_demo"), 'echo "done"', 'echo "finished"')
        expect_run("program output drifts", s, lambda out: out.count("output of `01_demo") == 2,
                   "both 01_demo blocks to fail")
        s = sandbox()
        edit(os.path.join(s.bin, "examples/01_demo"), '"took 1.01 s"', '"took 1.40 s"')
        expect_run("program slows down", s, lambda out: out.count("FAILED ") == 2, "both 01_demo blocks to fail")
        s = sandbox()
        os.remove(os.path.join(s.bin, "docs/snippets/docs_snippet_demo"))
        expect_fail("snippet program not built", s, "good.md:50: program `docs_snippet_demo` is not built")
        s = sandbox()
        os.remove(os.path.join(s.root, "docs/snippets/demo.cpp"))
        expect_run("snippet source deleted", s,
                   lambda out: "unknown program `docs_snippet_demo`" in out
                   and "snippet source `docs/snippets/demo.cpp` does not exist" in out,
                   "its snippet and output blocks to fail")
        s = sandbox()
        edit(os.path.join(s.bin, "examples/01_demo"), "#!/bin/sh\n", "#!/bin/sh\nsleep 10\n")
        expect_run("program hangs", s, lambda out: "did not finish within 1.0 s" in out, "a timeout failure",
                   extra_args=["--timeout", "1"])
        s = sandbox()
        edit(os.path.join(s.root, "README.md"), "cmake --build build -j2", "cmake --build build")
        expect_fail("README command changes", s, "good.md:65: command `cmake --build build -j2` appears in none")
        s = sandbox()
        edit(os.path.join(s.root, "docs/other.md"), "## Where `task<T>` lives", "## Where tasks live")
        expect_fail("heading renamed", s, "good.md:70: broken link `other.md#where-taskt-lives`")
        s = sandbox()
        os.remove(os.path.join(s.root, "examples/01_demo.cpp"))
        expect_run("example deleted", s,
                   lambda out: "broken link `../examples/01_demo.cpp`" in out and "unknown program `01_demo`" in out,
                   "its link, snippets and outputs to fail")
        # Checking one page only.
        s = sandbox()
        write(os.path.join(s.root, "docs", "drift.md"), "```cpp\nx\n```\n")
        expect_run("checking one page", s, lambda out: True, "the other page's drift not to count", status=0,
                   extra_args=[os.path.join(s.root, "docs", "good.md")])
    finally:
        shutil.rmtree(base, ignore_errors=True)

    for f in failures:
        print("FAILED " + f)
    print(f"docs_check_selftest: {passes} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
