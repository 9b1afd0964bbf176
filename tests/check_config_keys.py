#!/usr/bin/env python3
"""tvf.yaml(5) documents exactly the keys the loader knows and conf/tvf.yaml shows.

Three sets of keys, each split into daemon keys and pair keys, must be equal:
  - conf/tvf.yaml (parsed as YAML: the top-level mapping and every pair's),
  - the key table the loader reads (`tvfd --config-keys`, JSON),
  - the man page source, where a key is documented as a line "*key*: ..."
    under the "DAEMON KEYS" or "PAIR KEYS" section.
Exit 0 when they agree, 1 listing every difference.
Each key's man entry also shows the table's range.
usage: check_config_keys.py CONF_YAML TVFD MAN_SCD
"""
import re
import sys

import yaml


def from_yaml(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    daemon = set(doc)
    pair = set()
    for p in doc.get("pairs") or []:
        pair |= set(p)
    return daemon, pair


def from_table(tvfd):
    import json
    import subprocess
    table = json.loads(subprocess.check_output([tvfd, "--config-keys"]))
    daemon = {k["name"] for k in table if k["scope"] == "daemon"} | {"pairs"}
    pair = {k["name"] for k in table if k["scope"] == "pair"}
    return daemon, pair, table


def from_man(path):
    daemon, pair, section = set(), set(), None
    for line in open(path):
        if line.startswith("# "):
            section = line[2:].strip()
            continue
        m = re.match(r"\*([a-z_0-9]+)\*:", line)
        if not m:
            continue
        if section == "DAEMON KEYS":
            daemon.add(m.group(1))
        elif section == "PAIR KEYS":
            pair.add(m.group(1))
    return daemon, pair


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    daemon, pair, table = from_table(sys.argv[2])
    sources = {
        sys.argv[1]: from_yaml(sys.argv[1]),
        "the key table (tvfd --config-keys)": (daemon, pair),
        sys.argv[3]: from_man(sys.argv[3]),
    }
    problems = []
    man = open(sys.argv[3]).read()
    plain = lambda s: " ".join(s.replace("*", "").replace("_", "").replace("\\", "").split())
    for k in table:
        # The entry "*key*: ..." up to the next entry or section.
        m = re.search(r"^\*%s\*:(.*?)(?=^\*[a-z_0-9]+\*:|^# |\Z)" % re.escape(k["name"].replace("_", "\\_")
                      if False else k["name"]), man, re.S | re.M)
        if not m:
            continue  # reported below as a missing key
        entry = plain(m.group(1))
        rng = k["range"]
        # Numeric ranges and choices are checked word for word; prose ranges are not.
        if re.fullmatch(r"-?\d+\.\.\d+", rng) or " | " in rng:
            if plain(rng) not in entry:
                problems.append(f"key '{k['name']}': the man page does not show its range '{rng}'")
        default = k["default"]
        if default and default != '""' and f"default {plain(default)}" not in entry:
            problems.append(f"key '{k['name']}': the man page does not show its default '{default}'")
        says_restart = "restart only" in entry
        if (k["reload"] == "restart") != says_restart:
            problems.append(f"key '{k['name']}': the table says a reload applies it {k['reload']}, "
                            f"the man page {'says' if says_restart else 'does not say'} 'restart only'")
    names = list(sources)
    for i, kind in enumerate(("daemon", "pair")):
        for a in names:
            if not sources[a][i]:
                problems.append(f"{a}: no {kind} keys found")
            for b in names:
                for k in sorted(sources[a][i] - sources[b][i]):
                    problems.append(f"{kind} key '{k}' is in {a} but not in {b}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(sources[names[0]][0])} daemon keys, {len(sources[names[0]][1])} pair keys agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
