#!/usr/bin/env python3
"""Tallies the vm-check results in a results directory (JUnit XML files
written by pytest and cmocka) and prints one line per failure, then the
last line "guest: N passed, M failed, K skipped".  Used in the guest and on the
host alike."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# What the guest run must have produced; a missing one counts as failed.
EXPECTED = ["vm-checks.xml"]


def cases(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    for s in suites:
        for c in s.iter("testcase"):
            name = f"{c.get('classname') or s.get('name')}::{c.get('name')}"
            if c.find("failure") is not None or c.find("error") is not None:
                node = c.find("failure")
                if node is None:
                    node = c.find("error")
                msg = (node.get("message") or node.text or "").strip()
                yield name, "failed", msg.splitlines()[0][:200] if msg else ""
            elif c.find("skipped") is not None:
                yield name, "skipped", ""
            else:
                yield name, "passed", ""


def main():
    res = Path(sys.argv[1])
    passed = failed = skipped = 0
    lines = []
    for want in EXPECTED:
        if not (res / want).is_file():
            failed += 1
            lines.append(f"FAILED {want}: missing (the run did not finish)")
    for xml in sorted(res.glob("*.xml")):
        n = {"passed": 0, "failed": 0, "skipped": 0}
        try:
            items = list(cases(xml))
        except ET.ParseError as e:
            failed += 1
            lines.append(f"FAILED {xml.name}: unreadable ({e})")
            continue
        for name, state, msg in items:
            n[state] += 1
            if state == "failed":
                lines.append(f"FAILED {xml.stem}: {name}: {msg}")
        lines.insert(0, f"{xml.stem}: {n['passed']} passed, "
                        f"{n['failed']} failed, {n['skipped']} skipped")
        passed += n["passed"]
        failed += n["failed"]
        skipped += n["skipped"]
    crashed = res / "crashed"
    if crashed.is_file():
        for line in crashed.read_text().split("\n"):
            if line.strip():
                failed += 1
                lines.append(f"FAILED unit test binary {line.split()[0]}: "
                             f"no result (exit {line.split()[-1]})")
    print("\n".join(lines))
    print(f"guest: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
