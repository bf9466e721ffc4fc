#!/usr/bin/env python3
"""Checks that the documentation under docs/ cannot drift from the code.

Every fenced code block in docs/**/*.md must be preceded (on its previous
non-blank line) by exactly one marker:

  <!-- snippet: PATH#NAME -->   then a ```cpp block equal to the lines strictly
                                 between `// [NAME]` and `// [/NAME]` in PATH
                                 (examples/NN_*.cpp or docs/snippets/*.cpp),
                                 common indentation removed.
  <!-- snippet: PATH -->        the whole file, minus region-marker lines.
  <!-- output: PROGRAM ARGS -->  then a ```text block: PROGRAM's stdout. Lines
                                 compare after stripping trailing spaces;
                                 decimal numbers (with a '.') match within
                                 0.05 + 10% of the page's value; a line that is
                                 exactly `...` matches zero or more lines.
  <!-- command -->              then a ```sh block: every non-empty line must
                                 appear verbatim in README.md,
                                 examples/README.md or a file under scripts/.

Relative links (and #anchors to headings of .md pages) must resolve.

Usage: check_docs.py --root REPO --bin-dir BUILD [PAGE...]
Exit status 0 when everything matches, 1 on drift (each failure reported as
page:line with a diff), 2 on bad usage. Standard library only.
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import subprocess
import sys
import unicodedata

FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
MARKER_RE = re.compile(r"^\s*<!--\s*(snippet|output|command)\s*(?::\s*(.*?))?\s*-->\s*$")
ANY_MARKER_RE = re.compile(r"<!--\s*(snippet|output|command)\b")
REGION_RE = re.compile(r"^[ \t]*// \[(/?)([A-Za-z0-9_.\-]+)\][ \t]*$")
SNIPPET_PATH_RE = re.compile(r"^(examples/[0-9][0-9]_[^/]*\.cpp|docs/snippets/[^/]+\.cpp)$")
# A decimal number: digits '.' digits, not part of a dotted sequence such as
# an IP address or a version (127.0.0.1, 1.2.3).
NUMBER_RE = re.compile(r"(?<![\d.])-?\d+\.\d+(?!\.?\d)")
LINK_RE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_LINK_RE = re.compile(r"""<a\s[^>]*href=["']([^"']+)["']""", re.I)
HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR_RE = re.compile(r"""<a\s[^>]*(?:name|id)=["']([^"']+)["']""", re.I)
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")

LANG_FOR = {"snippet": "cpp", "output": "text", "command": "sh"}
DATABASE_PROGRAMS = {"06_database", "13_fastapi_server"}
NUMBER_ABS_TOLERANCE = 0.05
NUMBER_REL_TOLERANCE = 0.10


class Failure:
    def __init__(self, page, line, message, detail=None):
        self.page, self.line, self.message, self.detail = page, line, message, detail

    def __str__(self):
        text = f"{self.page}:{self.line}: {self.message}"
        if self.detail:
            text += "\n" + "\n".join("    " + l for l in self.detail.rstrip("\n").split("\n"))
        return text


# ---------------------------------------------------------------- markdown


def parse_blocks(lines):
    """Yields (fence_line_index, info_lang, body_lines, closed) for each fenced block."""
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(2), m.group(3)
        start = i
        body = []
        i += 1
        closed = False
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]} and len(lines[i]) - len(lines[i].lstrip(" ")) <= 3:
                closed = True
                break
            body.append(lines[i])
            i += 1
        yield start, lang, body, closed
        i += 1


def fenced_line_mask(lines):
    mask = [False] * len(lines)
    for start, _, body, _ in parse_blocks(lines):
        for k in range(start, min(len(lines), start + len(body) + 2)):
            mask[k] = True
    return mask


def github_slug(text):
    """The anchor GitHub gives a heading."""
    # Inline HTML goes, except inside code spans (`task<T>` is text).
    pieces = re.split(r"(`+[^`]*`+)", text)
    text = "".join(p if p.startswith("`") else re.sub(r"<[^>]+>", "", p) for p in pieces)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_" or cat[0] in "LN" or cat == "Mn":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def anchors_of(path, cache):
    if path in cache:
        return cache[path]
    anchors = set()
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError:
        cache[path] = anchors
        return anchors
    mask = fenced_line_mask(lines)
    counts = {}
    for k, line in enumerate(lines):
        if mask[k]:
            continue
        for a in HTML_ANCHOR_RE.findall(line):
            anchors.add(a)
        m = HEADING_RE.match(line)
        if not m:
            continue
        slug = github_slug(m.group(2))
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    cache[path] = anchors
    return anchors


# ---------------------------------------------------------------- snippets


class SourceError(Exception):
    pass


def read_regions(path, cache):
    """Returns (whole_file_lines_without_markers, {name: region_lines})."""
    if path in cache:
        return cache[path]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    regions, open_regions, whole, errors = {}, {}, [], []
    for k, line in enumerate(lines):
        m = REGION_RE.match(line)
        if not m:
            whole.append(line)
            for name in open_regions:
                regions[name].append(line)
            continue
        closing, name = m.group(1) == "/", m.group(2)
        if closing:
            if name not in open_regions:
                errors.append(f"line {k + 1}: `// [/{name}]` closes a region that is not open")
            else:
                del open_regions[name]
        else:
            if name in regions:
                errors.append(f"line {k + 1}: region `{name}` is defined twice")
            regions[name] = []
            open_regions[name] = k + 1
    for name, line in open_regions.items():
        errors.append(f"line {line}: region `{name}` is never closed (no `// [/{name}]`)")
    result = (whole, regions, errors)
    cache[path] = result
    return result


def dedent(lines):
    indents = [len(l) - len(l.lstrip(" \t")) for l in lines if l.strip()]
    cut = min(indents) if indents else 0
    return [l[cut:] if l.strip() else "" for l in lines]


# ---------------------------------------------------------------- outputs


def split_numbers(line):
    parts = NUMBER_RE.split(line)
    numbers = NUMBER_RE.findall(line)
    return parts, numbers


def line_matches(doc, actual):
    doc, actual = doc.rstrip(), actual.rstrip()
    if doc == actual:
        return True
    dparts, dnums = split_numbers(doc)
    aparts, anums = split_numbers(actual)
    if dparts != aparts or len(dnums) != len(anums):
        return False
    for d, a in zip(dnums, anums):
        dv, av = float(d), float(a)
        if abs(dv - av) > NUMBER_ABS_TOLERANCE + NUMBER_REL_TOLERANCE * abs(dv):
            return False
    return True


def output_matches(doc_lines, actual_lines):
    """Line-by-line match where a doc line `...` matches zero or more lines."""
    n, m = len(doc_lines), len(actual_lines)
    # ok[i][j]: doc_lines[i:] matches actual_lines[j:]
    ok = [[False] * (m + 1) for _ in range(n + 1)]
    ok[n][m] = True
    for i in range(n - 1, -1, -1):
        is_ellipsis = doc_lines[i].strip() == "..."
        for j in range(m, -1, -1):
            if is_ellipsis:
                ok[i][j] = ok[i + 1][j] or (j < m and ok[i][j + 1])
            else:
                ok[i][j] = j < m and ok[i + 1][j + 1] and line_matches(doc_lines[i], actual_lines[j])
    return ok[0][0]


# ---------------------------------------------------------------- programs


class Programs:
    def __init__(self, root, bin_dir, timeout, env):
        self.root, self.bin_dir, self.timeout, self.env = root, bin_dir, timeout, env
        self.results = {}

    def known(self, name):
        """Returns None when `name` is a program the docs may run, else why not."""
        if name.startswith("docs_snippet_"):
            stem = name[len("docs_snippet_"):]
            if os.path.isfile(os.path.join(self.root, "docs", "snippets", stem + ".cpp")):
                return None
            return f"unknown program `{name}` (no docs/snippets/{stem}.cpp)"
        if re.match(r"^[0-9][0-9]_[A-Za-z0-9_]+$", name) and os.path.isfile(
            os.path.join(self.root, "examples", name + ".cpp")
        ):
            return None
        return f"unknown program `{name}` (neither an example target examples/NAME.cpp nor docs_snippet_<stem>)"

    def skipped(self, name):
        if name in DATABASE_PROGRAMS and not self.env.get("DATABASE_URL"):
            return "needs PostgreSQL: set DATABASE_URL (or AIO_TEST_DATABASE_URL)"
        return None

    def path(self, name):
        sub = ["docs", "snippets"] if name.startswith("docs_snippet_") else ["examples"]
        for candidate in (os.path.join(self.bin_dir, *sub, name), os.path.join(self.bin_dir, name)):
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    def run(self, key):
        name, args = key[0], list(key[1:])
        exe = self.path(name)
        if exe is None:
            return None, f"program `{name}` is not built in {self.bin_dir} (build it first)"
        try:
            proc = subprocess.run(
                [exe] + args,
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            return None, f"`{' '.join(key)}` did not finish within {self.timeout} s"
        except OSError as e:
            return None, f"`{' '.join(key)}` could not be started: {e}"
        out = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            return None, (
                f"`{' '.join(key)}` failed (exit status {proc.returncode})"
                + (f"\nstderr:\n{err.rstrip()}" if err.strip() else "")
            )
        return out, None

    def run_all(self, keys, jobs):
        todo = [k for k in dict.fromkeys(keys) if k not in self.results]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for key, result in zip(todo, pool.map(self.run, todo)):
                self.results[key] = result


# ---------------------------------------------------------------- the check


class Checker:
    def __init__(self, root, bin_dir, jobs=4, timeout=120, env=None):
        self.root = os.path.abspath(root)
        self.failures = []
        self.skipped = []
        self.checked = {"snippet": 0, "output": 0, "command": 0, "link": 0}
        self.region_cache = {}
        self.anchor_cache = {}
        self.jobs = jobs
        env = dict(os.environ if env is None else env)
        if not env.get("DATABASE_URL") and env.get("AIO_TEST_DATABASE_URL"):
            env["DATABASE_URL"] = env["AIO_TEST_DATABASE_URL"]
        self.programs = Programs(self.root, os.path.abspath(bin_dir), timeout, env)
        self._command_sources = None

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def fail(self, page, line, message, detail=None):
        self.failures.append(Failure(self.rel(page), line, message, detail))

    def command_sources(self):
        if self._command_sources is None:
            texts = []
            candidates = [os.path.join(self.root, "README.md"), os.path.join(self.root, "examples", "README.md")]
            scripts = os.path.join(self.root, "scripts")
            for dirpath, _, files in os.walk(scripts):
                candidates += [os.path.join(dirpath, f) for f in sorted(files)]
            for path in candidates:
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        texts.append(f.read())
                except OSError:
                    pass
            self._command_sources = texts
        return self._command_sources

    # -- pages

    def pages(self, selected):
        if selected:
            return [os.path.abspath(p) for p in selected]
        found = []
        for dirpath, dirs, files in os.walk(os.path.join(self.root, "docs")):
            dirs.sort()
            found += [os.path.join(dirpath, f) for f in sorted(files) if f.endswith(".md")]
        return found

    def check(self, selected=()):
        pages = self.pages(selected)
        parsed = []
        for page in pages:
            try:
                with open(page, encoding="utf-8") as f:
                    lines = f.read().split("\n")
            except OSError as e:
                self.fail(page, 0, f"cannot read the page: {e}")
                continue
            parsed.append((page, lines, self.collect(page, lines)))
        # Run every program once (in parallel: most examples sleep for real).
        keys = [
            blk["key"]
            for _, _, blocks in parsed
            for blk in blocks
            if blk["kind"] == "output" and blk.get("key") and not self.programs.skipped(blk["key"][0])
        ]
        self.programs.run_all(keys, self.jobs)
        for page, lines, blocks in parsed:
            for blk in blocks:
                getattr(self, "check_" + blk["kind"])(page, blk)
            self.check_links(page, lines)
        return not self.failures

    def collect(self, page, lines):
        """Pairs each fenced block with its marker; reports unpaired ones."""
        blocks = []
        used_markers = set()
        for start, lang, body, closed in parse_blocks(lines):
            line_no = start + 1
            prev = start - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            m = MARKER_RE.match(lines[prev]) if prev >= 0 else None
            if not closed:
                if m:
                    used_markers.add(prev)
                self.fail(page, line_no, "code block is never closed")
                continue
            if not m:
                self.fail(
                    page,
                    line_no,
                    "code block without a marker: put `<!-- snippet: PATH#NAME -->`, "
                    "`<!-- output: PROGRAM -->` or `<!-- command -->` on the line before it",
                )
                continue
            used_markers.add(prev)
            kind, arg = m.group(1), (m.group(2) or "").strip()
            if lang != LANG_FOR[kind]:
                self.fail(page, prev + 1, f"a `{kind}` marker must be followed by a ```{LANG_FOR[kind]} block, not ```{lang}")
                continue
            # Failures of a block are reported at its marker's line.
            blk = {"kind": kind, "arg": arg, "line": prev + 1, "fence": line_no, "body": [l.rstrip() for l in body]}
            if kind == "output":
                words = arg.split()
                if not words:
                    self.fail(page, prev + 1, "`<!-- output: -->` names no program")
                    continue
                reason = self.programs.known(words[0])
                if reason:
                    self.fail(page, prev + 1, reason)
                    continue
                blk["key"] = tuple(words)
            elif kind == "snippet" and not arg:
                self.fail(page, prev + 1, "`<!-- snippet: -->` names no file")
                continue
            elif kind == "command" and arg:
                self.fail(page, prev + 1, "`<!-- command -->` takes no argument")
                continue
            blocks.append(blk)
        mask = fenced_line_mask(lines)
        for k, line in enumerate(lines):
            if mask[k] or k in used_markers:
                continue
            if MARKER_RE.match(line):
                self.fail(page, k + 1, "marker not followed by a code block")
            elif ANY_MARKER_RE.search(line):
                self.fail(page, k + 1, "malformed marker (a marker is a line of its own: `<!-- snippet: PATH#NAME -->`, `<!-- output: PROGRAM ARGS -->` or `<!-- command -->`)")
        return blocks

    def check_snippet(self, page, blk):
        self.checked["snippet"] += 1
        arg = blk["arg"]
        path, _, name = arg.partition("#")
        if not SNIPPET_PATH_RE.match(path):
            self.fail(page, blk["line"], f"snippet path `{path}` must be examples/NN_*.cpp or docs/snippets/*.cpp (repository-relative)")
            return
        full = os.path.join(self.root, path)
        if not os.path.isfile(full):
            self.fail(page, blk["line"], f"snippet source `{path}` does not exist")
            return
        whole, regions, errors = read_regions(full, self.region_cache)
        if errors:
            self.fail(page, blk["line"], f"`{path}` has malformed region markers", "\n".join(errors))
            return
        if name:
            if name not in regions:
                known = ", ".join(sorted(regions)) or "none"
                self.fail(page, blk["line"], f"region `{name}` does not exist in {path} (regions: {known})")
                return
            expected = dedent(regions[name])
        else:
            expected = whole
        expected = [l.rstrip() for l in expected]
        if expected != blk["body"]:
            diff = difflib.unified_diff(blk["body"], expected, f"{self.rel(page)} (page)", f"{arg} (source)", lineterm="", n=2)
            self.fail(page, blk["line"], f"snippet differs from {arg}", "\n".join(diff))

    def check_output(self, page, blk):
        key = blk["key"]
        skip = self.programs.skipped(key[0])
        if skip:
            self.skipped.append(f"{self.rel(page)}:{blk['line']}: output of `{' '.join(key)}` not checked: {skip}")
            return
        self.checked["output"] += 1
        out, error = self.programs.results[key]
        if error:
            self.fail(page, blk["line"], error)
            return
        actual = out.split("\n")
        if actual and actual[-1] == "":
            actual.pop()
        actual = [l.rstrip() for l in actual]
        if not output_matches(blk["body"], actual):
            diff = difflib.unified_diff(blk["body"], actual, f"{self.rel(page)} (page)", f"{' '.join(key)} (stdout)", lineterm="", n=2)
            self.fail(
                page,
                blk["line"],
                f"output of `{' '.join(key)}` differs (decimals match within {NUMBER_ABS_TOLERANCE} + "
                f"{int(NUMBER_REL_TOLERANCE * 100)}%, `...` matches any lines)",
                "\n".join(diff),
            )

    def check_command(self, page, blk):
        self.checked["command"] += 1
        sources = self.command_sources()
        for k, line in enumerate(blk["body"]):
            text = line.strip()
            if not text:
                continue
            if not any(text in s for s in sources):
                self.fail(
                    page,
                    blk["fence"] + 1 + k,
                    f"command `{text}` appears in none of README.md, examples/README.md, scripts/*",
                )

    def check_links(self, page, lines):
        mask = fenced_line_mask(lines)
        base = os.path.dirname(page)
        for k, line in enumerate(lines):
            if mask[k]:
                continue
            text = re.sub(r"(`+)(?:(?!\1).)+\1", "", line)  # code spans
            targets = LINK_RE.findall(text) + HTML_LINK_RE.findall(text)
            m = REFDEF_RE.match(text)
            if m:
                targets.append(m.group(1))
            for target in targets:
                self.check_link(page, k + 1, base, target)

    def check_link(self, page, line, base, target):
        if SCHEME_RE.match(target) or target.startswith("//"):
            return
        self.checked["link"] += 1
        path, _, anchor = target.partition("#")
        path = path.split("?")[0]
        if path.startswith("/"):
            self.fail(page, line, f"link `{target}` is absolute: use a relative link")
            return
        full = os.path.normpath(os.path.join(base, path)) if path else page
        if not os.path.exists(full):
            self.fail(page, line, f"broken link `{target}`: {self.rel(full)} does not exist")
            return
        if anchor and full.endswith(".md") and os.path.isfile(full):
            if anchor not in anchors_of(full, self.anchor_cache):
                self.fail(page, line, f"broken link `{target}`: no heading with anchor #{anchor} in {self.rel(full)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, help="the repository (pages are docs/**/*.md under it)")
    parser.add_argument("--bin-dir", required=True, help="the CMake build directory holding the examples and snippets")
    parser.add_argument("--jobs", type=int, default=4, help="programs run at the same time (default 4)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a program may run (default 120)")
    parser.add_argument("pages", nargs="*", help="check only these pages (default: docs/**/*.md)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.root):
        parser.error(f"--root {args.root} is not a directory")
    checker = Checker(args.root, args.bin_dir, jobs=args.jobs, timeout=args.timeout)
    checker.check(args.pages)
    for s in checker.skipped:
        print("SKIPPED " + s)
    for f in checker.failures:
        print("FAILED " + str(f))
    c = checker.checked
    summary = (
        f"{c['snippet']} snippets, {c['output']} outputs, {c['command']} command blocks, {c['link']} links checked; "
        f"{len(checker.skipped)} outputs skipped; {len(checker.failures)} failures"
    )
    print(("docs check FAILED: " if checker.failures else "docs check passed: ") + summary)
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
