#!/usr/bin/env python3
"""tvf.yaml(5) documents exactly the keys the loader knows and conf/tvf.yaml shows.

Three sets of keys, each split into daemon keys and pair keys, must be equal:
  - conf/tvf.yaml (parsed as YAML: the top-level mapping and every pair's),
  - the known-key sets in src/ConfigLoader.cpp (the unknownKeys() calls),
  - the man page source, where a key is documented as a line "*key*: ..."
    under the "DAEMON KEYS" or "PAIR KEYS" section.
Exit 0 when they agree, 1 listing every difference.
usage: check_config_keys.py CONF_YAML CONFIG_LOADER_CPP MAN_SCD
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


def from_loader(path):
    text = open(path).read()
    # unknownKeys("", root, {...}) checks the top level; the pair parser's
    # set is named `known` and passed as unknownKeys(path, n, known).
    top = re.search(r'unknownKeys\(\s*""\s*,\s*root\s*,\s*\{([^}]*)\}', text)
    pair = re.search(r'std::set<std::string>\s+known\s*=\s*\{([^}]*)\}', text)
    if not top or not pair:
        sys.exit(f"{path}: cannot find the known-key sets (the top-level unknownKeys() call "
                 "and the pair's `known` set); update this check to the loader's key table")
    keys = lambda m: set(re.findall(r'"([a-z_0-9]+)"', m.group(1)))
    return keys(top), keys(pair)


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
    sources = {
        sys.argv[1]: from_yaml(sys.argv[1]),
        sys.argv[2]: from_loader(sys.argv[2]),
        sys.argv[3]: from_man(sys.argv[3]),
    }
    problems = []
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
