#!/usr/bin/env python3
"""test_summary.py BUILD_DIR... — totals over the meson test logs of build dirs.

Reads BUILD_DIR/meson-logs/testlog.json (one JSON object per test). A doctest
suite counts its test cases, taken from its "[doctest] test cases: X | Y passed
| Z failed" line, and a Lox corpus run its files ("lox tests: Y passed, Z
failed (of N)", tests/lox/run_tests.py); if meson nevertheless failed it
(e.g. a leak reported at exit) it counts at least one failure. A test without that line (not doctest,
or a doctest binary that crashed first) counts as one test, passed or failed
by meson's result. A dir without a log (setup or build failed), or a log
line that is not JSON, counts as one failure. Prints one line per test, then
finally "N passed, N failed"; exits 1 if anything failed.
"""
import json
import re
import sys
from pathlib import Path

DOCTEST = re.compile(r"\[doctest\] test cases:\s*\d+\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
LOX = re.compile(r"^lox tests: (\d+) passed, (\d+) failed", re.MULTILINE)
PASSING = {"OK", "EXPECTEDFAIL"}

total_passed = total_failed = 0
for build_dir in sys.argv[1:]:
    log = Path(build_dir, "meson-logs", "testlog.json")
    if not log.exists():
        print(f"{build_dir}: no test log (setup or build failed): 1 failed")
        total_failed += 1
        continue
    for line in log.read_text().splitlines():
        if not line.strip("\0 \t"):
            continue
        try:
            test = json.loads(line.strip("\0"))
        except ValueError:  # e.g. two meson test runs wrote the log at once
            print(f"{build_dir}: unreadable line in {log}: 1 failed")
            total_failed += 1
            continue
        result = test.get("result", "ERROR")
        if result == "SKIP":
            print(f"{build_dir}: {test['name']}: skipped")
            continue
        output = (test.get("stdout") or "") + (test.get("stderr") or "")
        counts = DOCTEST.findall(output) or LOX.findall(output)
        if counts:
            passed, failed = map(int, counts[-1])
            if result not in PASSING:
                failed = max(failed, 1)
        else:
            passed, failed = (1, 0) if result in PASSING else (0, 1)
        print(f"{build_dir}: {test['name']}: {passed} passed, {failed} failed ({result})")
        total_passed += passed
        total_failed += failed

print(f"{total_passed} passed, {total_failed} failed")
sys.exit(1 if total_failed else 0)
