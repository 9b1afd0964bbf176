#!/usr/bin/env python3
"""Which system calls a traced tvfd made that the unit's SystemCallFilter= forbids.

usage: syscalls_outside_filter.py UNIT_FILE STRACE_OUTPUT
The unit's SystemCallFilter= lines (allow lists; a "~" deny list is refused
as unsupported here) are expanded with `systemd-analyze syscall-filter`,
recursively through @groups. STRACE_OUTPUT is `strace -f -o FILE` output.
Prints {"used": [...], "outside": [...]} as JSON; exit 1 on a usage or
parse problem.
"""
import json
import re
import subprocess
import sys


def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True, capture_output=True, text=True).stdout
    table, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            table[current] = set()
        elif current and line.strip() and not line.strip().startswith("#"):
            table[current].add(line.strip())
    return table


def expand(names, table, seen=None):
    seen = seen if seen is not None else set()
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            if n not in table:
                sys.exit(f"unknown syscall group {n}")
            out |= expand(table[n], table, seen)
        else:
            out.add(n)
    return out


def allowed(unit):
    names = []
    for line in open(unit):
        m = re.match(r"\s*SystemCallFilter=(.*)", line)
        if m:
            value = m.group(1).strip()
            if value.startswith("~"):
                sys.exit("a deny-list SystemCallFilter= is not supported by this check")
            names += value.split()
    if not names:
        sys.exit(f"{unit}: no SystemCallFilter=")
    return expand(names, groups())


def used(trace):
    calls = set()
    for line in open(trace):
        m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
        if m:
            calls.add(m.group(1))
    if not calls:
        sys.exit(f"{trace}: no system calls found")
    return calls


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ok, seen = allowed(sys.argv[1]), used(sys.argv[2])
    print(json.dumps({"used": sorted(seen), "outside": sorted(seen - ok)}))


if __name__ == "__main__":
    main()
