#!/usr/bin/env python3
"""check_cli.py LOX — the `lox` command's behaviour outside a program's text:
usage errors (64), unreadable files (74), malformed collector settings (64,
with the setting named), the REPL, --stats, gctrace only when asked, and a
quiet stderr on normal runs. Exits 1 naming every check that failed."""
import os
import subprocess
import sys
import tempfile

failures = []


def run(lox, args, stdin="", env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "TRICOLOR_"))}
    full_env.update(env or {})
    return subprocess.run([lox] + args, input=stdin, capture_output=True, text=True, env=full_env, timeout=60)


def check(name, condition, result):
    if not condition:
        failures.append(f"{name}: exit {result.returncode}, stdout {result.stdout!r}, stderr {result.stderr!r}")


def main():
    if len(sys.argv) != 2:
        print("usage: check_cli.py PATH/TO/lox", file=sys.stderr)
        return 2
    lox = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "p.lox")
        with open(program, "w") as f:
            f.write('var s = "";\nfor (var i = 0; i < 2000; i = i + 1) s = s + "x";\nprint s == s;\ngc();\n')

        r = run(lox, [program, "extra"])
        check("two paths: usage, 64", r.returncode == 64 and "Usage: lox [--stats] [path]" in r.stderr, r)
        r = run(lox, ["--bogus"])
        check("unknown flag: usage, 64", r.returncode == 64 and "Usage:" in r.stderr, r)
        r = run(lox, [os.path.join(tmp, "missing.lox")])
        check("missing file: 74", r.returncode == 74 and 'Could not open file "' in r.stderr, r)
        r = run(lox, [tmp])  # a directory cannot be read as a file
        check("directory: 74", r.returncode == 74 and "Could not" in r.stderr, r)

        r = run(lox, [program], env={"GOGC": "fast"})
        check("malformed GOGC: 64, named", r.returncode == 64 and "GOGC" in r.stderr and r.stdout == "", r)
        r = run(lox, [program], env={"GOMEMLIMIT": "12 parsecs"})
        check("malformed GOMEMLIMIT: 64, named", r.returncode == 64 and "GOMEMLIMIT" in r.stderr, r)

        r = run(lox, [program])
        check("normal run: output, quiet stderr", r.returncode == 0 and r.stdout == "true\n" and r.stderr == "", r)
        r = run(lox, [program], env={"GODEBUG": "gctrace=1"})
        check("gctrace on stderr when asked", r.returncode == 0 and r.stdout == "true\n" and "gc " in r.stderr, r)
        r = run(lox, ["--stats", program])
        check("--stats: a line on stderr", r.returncode == 0 and r.stdout == "true\n"
              and "collections" in r.stderr and "pauses" in r.stderr, r)
        for mode in ("stw", "concurrent"):
            r = run(lox, [program], env={"TRICOLOR_MODE": mode, "TRICOLOR_VERIFY": "1"})
            check(f"mode {mode} with the verifier", r.returncode == 0 and r.stdout == "true\n", r)

    r = run(lox, [], stdin="var a = 1;\nprint a + 2;\nprint nil + 1;\nprint a;\n")
    check("REPL: state kept across lines, errors do not end it",
          r.returncode == 0 and r.stdout == "> > 3\n> > 1\n> \n"
          and r.stderr.startswith("Operands must be two numbers or two strings.\n[line 1] in script"), r)
    r = run(lox, [], stdin="print (;\nprint 4;\n")
    check("REPL: compile errors do not end it", r.returncode == 0 and r.stdout == "> > 4\n> \n"
          and "[line 1] Error at ';': Expect expression." in r.stderr, r)

    for failure in failures:
        print("FAILED " + failure)
    print(f"lox cli: {'all passed' if not failures else str(len(failures)) + ' failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
