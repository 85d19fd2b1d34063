#!/usr/bin/env python3
"""Runs the Lox conformance corpus against a Lox interpreter.

Usage:
  python3 tests/lox/run_tests.py --lox PATH/TO/lox [--env NAME=VALUE ...]
                                 [--jobs N] [--timeout SECONDS] [PATHS...]
  python3 tests/lox/run_tests.py --self-test

Each .lox file states what it expects in comments (see README.md beside this
script for the full syntax):

  // expect: TEXT                the next line of stdout
  // expect runtime error: MSG   exit 70; stderr = MSG, then "[line N] in ..."
                                 where N is this comment's line
  // expect trace: TEXT          (with a runtime error) the exact stack trace
                                 lines after the message, innermost first
  // Error at 'LEXEME': MSG      compile error reported on this comment's line
  // Error at end: MSG           ... at end of file
  // Error: MSG                  ... from the scanner
  // [line N] Error...           compile error reported on line N
  // expect exit: N              explicit exit code

Exit status: 0 all passed, 1 some failed, 2 bad usage.
Standard library only.
"""

import argparse
import concurrent.futures
import os
import re
import signal
import subprocess
import sys

EXIT_COMPILE_ERROR = 65
EXIT_RUNTIME_ERROR = 70

_EXPECT_RE = re.compile(r"// expect:(.*)$")
_RUNTIME_RE = re.compile(r"// expect runtime error: (.+)$")
_TRACE_RE = re.compile(r"// expect trace: (.+)$")
_EXIT_RE = re.compile(r"// expect exit: (\d+)\s*$")
_ERROR_LINE_RE = re.compile(r"// \[line (\d+)\] (Error.*)$")
_ERROR_RE = re.compile(r"// (Error(?: at '.*'| at end)?: .*)$")


class TestFileError(Exception):
    """The test file's expectations are malformed."""


class Expectations:
    def __init__(self):
        self.stdout = []          # expected stdout lines
        self.compile_errors = []  # full expected stderr lines, in order
        self.runtime_error = None  # (message, line)
        self.trace = []           # expected lines after the runtime message
        self.exit_code = None     # explicit override

    def expected_exit(self):
        if self.exit_code is not None:
            return self.exit_code
        if self.compile_errors:
            return EXIT_COMPILE_ERROR
        if self.runtime_error is not None:
            return EXIT_RUNTIME_ERROR
        return 0


def parse_expectations(text):
    """Parses the expectation comments of a test file's source text."""
    exp = Expectations()
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        m = _EXPECT_RE.search(line)
        if m:
            text = m.group(1)
            exp.stdout.append(text[1:] if text.startswith(" ") else text)
            continue
        m = _RUNTIME_RE.search(line)
        if m:
            if exp.runtime_error is not None:
                raise TestFileError(
                    "line %d: a second 'expect runtime error'" % lineno)
            exp.runtime_error = (m.group(1), lineno)
            continue
        m = _TRACE_RE.search(line)
        if m:
            exp.trace.append(m.group(1))
            continue
        m = _EXIT_RE.search(line)
        if m:
            exp.exit_code = int(m.group(1))
            continue
        m = _ERROR_LINE_RE.search(line)
        if m:
            exp.compile_errors.append("[line %s] %s" % (m.group(1), m.group(2)))
            continue
        m = _ERROR_RE.search(line)
        if m:
            exp.compile_errors.append("[line %d] %s" % (lineno, m.group(1)))
            continue
    if exp.compile_errors and exp.runtime_error is not None:
        raise TestFileError("both compile-error and runtime-error expectations")
    if exp.compile_errors and exp.stdout:
        raise TestFileError("compile-error expectations with '// expect:' lines "
                            "(a file that fails to compile prints nothing)")
    if exp.trace and exp.runtime_error is None:
        raise TestFileError("'expect trace' without 'expect runtime error'")
    return exp


def _show(line):
    return "(nothing)" if line is None else repr(line)


def _split_lines(text):
    """Splits output into lines; a final newline does not start a new line."""
    if text == "":
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _first_difference(what, wanted, got_lines):
    """A problem naming the first line where `got_lines` differs from
    `wanted` (either may be longer), or None when they are equal."""
    for i in range(max(len(wanted), len(got_lines))):
        want = wanted[i] if i < len(wanted) else None
        got = got_lines[i] if i < len(got_lines) else None
        if want != got:
            return "%s line %d: expected %s, got %s" % (what, i + 1, _show(want), _show(got))
    return None


def check_result(exp, returncode, stdout, stderr):
    """Compares one run with the expectations; returns a list of problems
    (empty when the run passed)."""
    problems = []
    out_lines = _split_lines(stdout)
    err_lines = _split_lines(stderr)

    # stdout: exactly the expect lines, each ending in a newline.
    difference = _first_difference("stdout", exp.stdout, out_lines)
    if difference:
        problems.append(difference)
    elif stdout and not stdout.endswith("\n"):
        problems.append("stdout does not end with a newline")

    if exp.compile_errors:
        difference = _first_difference("stderr", exp.compile_errors, err_lines)
        if difference:
            problems.append(difference)
    elif exp.runtime_error is not None:
        message, lineno = exp.runtime_error
        got = err_lines[0] if err_lines else None
        if got != message:
            problems.append("runtime error: expected %s, got %s"
                            % (_show(message), _show(got)))
        elif exp.trace:
            difference = _first_difference("stack trace", exp.trace, err_lines[1:])
            if difference:
                problems.append(difference)
        else:
            prefix = "[line %d] in " % lineno
            got = err_lines[1] if len(err_lines) > 1 else None
            if got is None or not got.startswith(prefix):
                problems.append("runtime error location: expected %s, got %s"
                                % (_show(prefix + "..."), _show(got)))
    elif err_lines or stderr:
        problems.append("stderr: expected nothing, got %s" % _show(err_lines[0]
                                                                   if err_lines else stderr))

    want_rc = exp.expected_exit()
    if returncode != want_rc:
        problems.insert(0, "exit code: expected %d, got %d" % (want_rc, returncode))
    return problems


def run_one(lox, path, env, timeout):
    """Runs one test file; returns (path, list of problems)."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        exp = parse_expectations(text)
    except (OSError, TestFileError) as e:
        return path, ["bad test file: %s" % e]
    try:
        # A session of its own, so that a timeout ends the whole process
        # group (the interpreter may be a wrapper script).
        proc = subprocess.Popen([lox, path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
    except OSError as e:
        return path, ["could not run %s: %s" % (lox, e)]
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.communicate()
        return path, ["timed out after %g s" % timeout]
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    returncode = proc.returncode
    if returncode < 0:
        first = _split_lines(stderr)
        return path, ["killed by signal %d%s" % (
            -returncode, "; stderr: %r" % first[0] if first else "")]
    return path, check_result(exp, returncode, stdout, stderr)


def collect(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in names:
                    if n.endswith(".lox"):
                        files.append(os.path.join(root, n))
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise FileNotFoundError(p)
    return sorted(set(files))


# ---------------------------------------------------------------- self test

def self_test():
    failures = []

    def check(name, cond):
        if not cond:
            failures.append(name)

    src = "\n".join([
        'print 1; // expect: 1',                       # 1
        'print ""; // expect: ',                       # 2
        'print ""; // expect:',                        # 3
        'print "a  "; // expect: a  ',                 # 4
        '// a comment',                                # 5
        'print "x"; // expect: // expect: x',          # 6
    ])
    e = parse_expectations(src)
    check("expect lines", e.stdout == ["1", "", "", "a  ", "// expect: x"])
    check("no errors", not e.compile_errors and e.runtime_error is None)
    check("exit 0", e.expected_exit() == 0)
    check("pass", check_result(e, 0, "1\n\n\na  \n// expect: x\n", "") == [])
    check("extra line", check_result(e, 0, "1\n\n\na  \n// expect: x\n2\n", "") != [])
    check("missing line", check_result(e, 0, "1\n\n\na  \n", "") != [])
    check("missing newline", check_result(e, 0, "1\n\n\na  \n// expect: x", "") != [])
    check("stderr noise", check_result(e, 0, "1\n\n\na  \n// expect: x\n", "w\n") != [])
    check("wrong rc", check_result(e, 1, "1\n\n\na  \n// expect: x\n", "") != [])

    src = "\n".join([
        'print 1; // expect: 1',                       # 1
        'print nil + 1; // expect runtime error: Operands must be two numbers or two strings.',
    ])
    e = parse_expectations(src)
    check("runtime error parsed",
          e.runtime_error == ("Operands must be two numbers or two strings.", 2))
    check("exit 70", e.expected_exit() == 70)
    msg = "Operands must be two numbers or two strings.\n"
    check("runtime pass", check_result(e, 70, "1\n", msg + "[line 2] in script\n") == [])
    check("runtime wrong line",
          check_result(e, 70, "1\n", msg + "[line 1] in script\n") != [])
    check("runtime missing location", check_result(e, 70, "1\n", msg) != [])
    check("runtime wrong message",
          check_result(e, 70, "1\n", "Oops.\n[line 2] in script\n") != [])
    check("runtime wrong rc",
          check_result(e, 65, "1\n", msg + "[line 2] in script\n") != [])
    check("runtime deeper trace ok",
          check_result(e, 70, "1\n", msg + "[line 2] in f()\n[line 9] in script\n") == [])

    src = "\n".join([
        'fun f() {',
        '  x; // expect runtime error: Undefined variable \'x\'.',
        '}',
        'f();',
        '// expect trace: [line 2] in f()',
        '// expect trace: [line 4] in script',
    ])
    e = parse_expectations(src)
    check("trace parsed", e.trace == ["[line 2] in f()", "[line 4] in script"])
    err = "Undefined variable 'x'.\n[line 2] in f()\n[line 4] in script\n"
    check("trace pass", check_result(e, 70, "", err) == [])
    check("trace extra", check_result(e, 70, "", err + "[line 9] in g()\n") != [])
    check("trace short", check_result(e, 70, "", err.rsplit("[line 4]", 1)[0]) != [])

    src = "\n".join([
        'print "a" = 1; // Error at \'=\': Invalid assignment target.',  # 1
        'var; // Error at \';\': Expect variable name.',                 # 2
        'print "ab',                                                     # 3
        '// Error: Unexpected character.',                               # 4
        '// [line 7] Error: Unterminated string.',                       # 5
        'print 1 // Error at end: Expect \';\' after value.',            # 6
    ])
    e = parse_expectations(src)
    check("compile errors parsed", e.compile_errors == [
        "[line 1] Error at '=': Invalid assignment target.",
        "[line 2] Error at ';': Expect variable name.",
        "[line 4] Error: Unexpected character.",
        "[line 7] Error: Unterminated string.",
        "[line 6] Error at end: Expect ';' after value.",
    ])
    check("exit 65", e.expected_exit() == 65)
    err = "\n".join(e.compile_errors) + "\n"
    check("compile pass", check_result(e, 65, "", err) == [])
    check("compile order matters", check_result(
        e, 65, "", "\n".join(reversed(e.compile_errors)) + "\n") != [])
    check("compile missing one", check_result(
        e, 65, "", "\n".join(e.compile_errors[:-1]) + "\n") != [])
    check("compile extra one", check_result(e, 65, "", err + "[line 9] Error: x\n") != [])
    check("compile stdout", check_result(e, 65, "x\n", err) != [])
    check("compile rc", check_result(e, 70, "", err) != [])

    e = parse_expectations("print 1; // expect: 1\n// expect exit: 3\n")
    check("exit override", e.expected_exit() == 3)
    check("exit override pass", check_result(e, 3, "1\n", "") == [])

    e = parse_expectations("print 1;\r\n// expect: 1\r\n")
    check("CRLF", e.stdout == ["1"])

    e = parse_expectations("// expect: a\n// expect: b\n// expect runtime error: M.\n")
    check("rt with stdout", check_result(e, 70, "a\nb\n", "M.\n[line 3] in script\n") == [])
    check("rt stdout mismatch", check_result(e, 70, "a\n", "M.\n[line 3] in script\n") != [])

    for bad in ["// Error: x\n// expect runtime error: y\n",
                "// Error: x\n// expect: 1\n",
                "// expect trace: [line 1] in script\n",
                "// expect runtime error: a\n// expect runtime error: b\n"]:
        try:
            parse_expectations(bad)
            failures.append("malformed accepted: %r" % bad)
        except TestFileError:
            pass

    check("split lines", _split_lines("a\n\nb\n") == ["a", "", "b"]
          and _split_lines("") == [] and _split_lines("\n") == [""])

    if failures:
        for f in failures:
            print("self-test FAILED: %s" % f)
        print("lox runner self-test: %d failed" % len(failures))
        return 1
    print("lox runner self-test: all checks passed")
    return 0


# ---------------------------------------------------------------- main

def main(argv):
    parser = argparse.ArgumentParser(
        description="Run the Lox conformance corpus against an interpreter.")
    parser.add_argument("--lox", help="path to the Lox interpreter executable")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment variable for the interpreter "
                             "(repeatable)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="tests run at once (default: the number of CPUs)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds allowed per test (default 60)")
    parser.add_argument("--self-test", action="store_true",
                        help="check the runner's expectation parser and exit")
    parser.add_argument("paths", nargs="*",
                        help=".lox files or directories (default: the corpus "
                             "beside this script)")
    args = parser.parse_args(argv)

    if args.self_test:
        return self_test()

    if not args.lox:
        print("run_tests.py: error: --lox PATH is required (the interpreter to test)",
              file=sys.stderr)
        return 2
    lox = args.lox
    if os.sep not in lox and not os.path.exists(lox):
        import shutil
        found = shutil.which(lox)
        if found:
            lox = found
    if not os.path.isfile(lox) or not os.access(lox, os.X_OK):
        print("run_tests.py: error: --lox %s: not an executable file" % args.lox,
              file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("run_tests.py: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("run_tests.py: error: --timeout must be positive", file=sys.stderr)
        return 2

    env = dict(os.environ)
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print("run_tests.py: error: --env %r: expected NAME=VALUE" % item,
                  file=sys.stderr)
            return 2
        env[name] = value

    paths = args.paths or [os.path.dirname(os.path.abspath(__file__))]
    try:
        files = collect(paths)
    except FileNotFoundError as e:
        print("run_tests.py: error: no such file or directory: %s" % e,
              file=sys.stderr)
        return 2
    if not files:
        print("run_tests.py: error: no .lox files found in %s" % " ".join(paths),
              file=sys.stderr)
        return 2

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda p: run_one(lox, p, env, args.timeout), files))

    failed = 0
    for path, problems in results:
        if problems:
            failed += 1
            print("FAIL %s: %s" % (os.path.relpath(path), "; ".join(problems)))
    passed = len(results) - failed
    print("lox tests: %d passed, %d failed (of %d)" % (passed, failed, len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
