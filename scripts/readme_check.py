#!/usr/bin/env python3
"""The README and the guide cannot go stale: every command they show runs, and prints what
they show.

    scripts/readme_check.py check [BUILD_DIR]    # exit 1 on any difference
    scripts/readme_check.py update [BUILD_DIR]   # rewrite the documents' output blocks

The documents: README.md and docs/guide.md (each in its own scratch directory).

BUILD_DIR (default target/release) holds `microsim` and `examples/NAME`, built with
`cargo build --release --bins --examples`.

What is checked:

- Every ```console block: each `$ COMMAND` line is run (in order, in one scratch directory
  that sees the repository's scenarios/ and tests/, so result directories start afresh), and
  what it prints (stdout and stderr together) must be the lines under it. `microsim` is the
  built binary, `cargo run --release --example NAME --` the example's, `ls DIR` lists a
  folder (names only). A line `…` stands for
  any lines (at the end of a block: the rest). Before comparing, both sides are masked: times
  (`0.41 s`), thread counts (`2 threads`) and memory sizes that depend on the machine (an
  estimate counts the replications the machine's threads run at once).
- Every ```rust block under a `<!-- file: PATH -->` line is the file PATH, byte for byte (so
  the README's model is the one that compiles and runs).
- The README is at most 400 lines.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENTS = ["README.md", os.path.join("docs", "guide.md")]
MAX_LINES = 400  # the README's

MASKS = [
    (re.compile(r"\b\d+(\.\d+)? (s|ms|min)\b"), "<time>"),
    (re.compile(r"\b\d+ threads?\b"), "<threads>"),
    (re.compile(r"\b\d+(\.\d+)? [KMGT]iB allowed"), "<mem> allowed"),
    (re.compile(r"\b\d+(\.\d+)? [KMGT]iB of memory"), "<mem> of memory"),
    (re.compile(r"\b\d+ host threads?\b"), "<threads>"),
]


def mask(line):
    for rx, to in MASKS:
        line = rx.sub(to, line)
    return line.rstrip()


def blocks(lines):
    """(kind, start, end, file) for each fenced block: lines[start+1:end] is its body."""
    out, i, pending_file = [], 0, None
    while i < len(lines):
        m = re.match(r"^<!-- file: (\S+) -->$", lines[i])
        if m:
            pending_file = m.group(1)
        fence = re.match(r"^```(\w*)", lines[i])
        if fence:
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append((fence.group(1), i, j, pending_file))
            pending_file = None
            i = j
        i += 1
    return out


def command_argv(cmd, build):
    argv = shlex.split(cmd)
    if argv[:4] == ["cargo", "run", "--release", "--example"] and argv[5:6] == ["--"]:
        return [os.path.join(build, "examples", argv[4])] + argv[6:]
    if argv and argv[0] == "microsim":
        return [os.path.join(build, "microsim")] + argv[1:]
    if len(argv) == 2 and argv[0] == "ls" and not argv[1].startswith("-"):
        return argv
    raise SystemExit(f"readme: cannot run `{cmd}`: only microsim, ls DIR and cargo run --example")


def run(cmd, build, cwd):
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.run(command_argv(cmd, build), cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return [l.rstrip() for l in p.stdout.replace(cwd + "/", "").splitlines()]


def matches(want, got):
    """Whether `got` fits `want`, where a `…` line in `want` stands for any lines."""
    if not want:
        return not got
    if want[0] == "…":
        return any(matches(want[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and mask(want[0]) == mask(got[0]) and matches(want[1:], got[1:])


def console(body, build, cwd):
    """[(command, expected lines, printed lines)] of one console block."""
    steps = []
    for line in body:
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif steps:
            steps[-1][1].append(line)
    return [(cmd, want, run(cmd, build, cwd)) for cmd, want in steps]


def updated(want, got):
    """The block's new lines: as they are if they fit what was printed; else what was printed,
    keeping a trailing `…` where there was one."""
    if matches(want, got):
        return want
    if want and want[-1] == "…":
        return got[: len(want) - 1] + ["…"]
    return got


def check_document(name, build):
    """(problems, commands run, the document's lines with refreshed output blocks)."""
    with open(os.path.join(ROOT, name)) as f:
        lines = f.read().split("\n")
    problems = []
    if name == "README.md" and len(lines) - 1 > MAX_LINES:
        problems.append(f"README.md has {len(lines) - 1} lines, more than {MAX_LINES}")
    scratch = tempfile.mkdtemp(prefix="microsim-readme-")
    for d in ("scenarios", "tests"):
        os.symlink(os.path.join(ROOT, d), os.path.join(scratch, d))
    replaced = []
    commands = 0
    try:
        for kind, start, end, path in blocks(lines):
            body = lines[start + 1:end]
            if kind == "rust" and path:
                with open(os.path.join(ROOT, path)) as f:
                    text = f.read().rstrip("\n").split("\n")
                if text != body:
                    problems.append(f"{name}:{start + 1}: the rust block is not {path}")
                replaced.append((start, end, text))
            if kind != "console":
                continue
            new_body = []
            for cmd, want, got in console(body, build, scratch):
                commands += 1
                if not matches(want, got):
                    problems.append(f"{name}:{start + 1}: `{cmd}` printed:\n  "
                                    + "\n  ".join(got) + "\n  where the document shows:\n  "
                                    + "\n  ".join(want))
                new_body += ["$ " + cmd] + updated(want, got)
            replaced.append((start, end, new_body))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for start, end, new_body in reversed(replaced):
        lines[start + 1:end] = new_body
    return problems, commands, lines


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in ("check", "update"):
        print(__doc__)
        sys.exit(2)
    mode = sys.argv[1]
    build = os.path.abspath(sys.argv[2] if len(sys.argv) == 3 else os.path.join(ROOT, "target", "release"))
    problems, commands = [], 0
    for name in DOCUMENTS:
        found, ran, lines = check_document(name, build)
        problems += found
        commands += ran
        if mode == "update":
            with open(os.path.join(ROOT, name), "w") as f:
                f.write("\n".join(lines))
            print(f"readme: {name} rewritten ({ran} commands run)")
    if mode == "update":
        return
    for p in problems:
        print("readme:", p)
    print(f"readme: {commands} commands run, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
