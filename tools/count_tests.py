#!/usr/bin/env python3
"""Prints 'N passed, N failed' for one `bazel test` run, counting test cases.

When any case was skipped (GTEST_SKIP, or a target Bazel skipped) the line
is 'N passed, N failed, N skipped': a skipped case is not a passed one.

Usage: count_tests.py BAZEL_OUTPUT_LOG BAZEL_EXIT_CODE

Why test cases and not targets: one target holds dozens of GoogleTest
cases, and a reader of CI output wants to know how many checks ran. The
targets come from this run's own summary lines (so stale logs of targets
that did not run are never counted); the cases from each target's test.xml.
A target that failed without writing test cases (a crash, a timeout, a
build failure) counts as one failure, and so does a failed build with no
target summary at all.
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

SUMMARY = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|FLAKY|TIMEOUT|NO STATUS|FAILED TO BUILD|"
                     r"INCOMPLETE|REMOTE FAILURE|SKIPPED)\b")


def cases_of(target: str):
    """(passed, failed, skipped, failed names) from the target's test.xml, or None."""
    package, _, name = target[2:].partition(":")
    xml = pathlib.Path("bazel-testlogs", package, name, "test.xml")
    if not xml.exists():
        return None
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError:
        return None
    passed, failed, skipped, names = 0, 0, 0, []
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            names.append(f"{target} {case.get('classname')}.{case.get('name')}")
        elif (case.get("status", "run") == "run" and case.get("result", "completed") != "skipped"
              and case.find("skipped") is None):
            passed += 1
        else:
            skipped += 1
    if passed + failed + skipped == 0:
        return None
    return passed, failed, skipped, names


def main():
    log, exit_code = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    passed = failed = skipped = 0
    failures = []
    seen = 0
    for line in log.read_text(errors="replace").splitlines():
        match = SUMMARY.match(line)
        if not match:
            continue
        target, verdict = match.groups()
        seen += 1
        if verdict == "SKIPPED":
            skipped += 1
            continue
        counted = cases_of(target) if verdict in ("PASSED", "FAILED", "FLAKY") else None
        if counted is None:
            ok = verdict in ("PASSED", "FLAKY")
            passed += ok
            failed += not ok
            if not ok:
                failures.append(f"{target} {verdict}")
            continue
        passed += counted[0]
        failed += counted[1]
        skipped += counted[2]
        failures += counted[3]
        if verdict == "FAILED" and counted[1] == 0:  # crashed after its cases
            failed += 1
            failures.append(f"{target} FAILED")
    if exit_code != 0 and not failures:
        failed += 1
        failures.append(f"bazel exited with {exit_code}" + ("" if seen else " before any test ran"))
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
