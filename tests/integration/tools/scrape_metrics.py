#!/usr/bin/env python3
"""Scrapes a Prometheus endpoint over HTTP and parses it with prometheus_client.

usage: scrape_metrics.py URL
Prints one JSON object: {"status": HTTP status, "content_type": ...,
"families": N, "samples": N, "values": {"name{label=value,...}": value}}.
Exit 1 (with the reason on stderr) when the request fails or the text does
not parse.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    url = sys.argv[1]
    with urllib.request.urlopen(url, timeout=10) as r:
        status = r.status
        ctype = r.headers.get("Content-Type", "")
        body = r.read().decode("utf-8")
    families = list(text_string_to_metric_families(body))
    values = {}
    for f in families:
        for s in f.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            values[f"{s.name}{{{labels}}}"] = s.value
    print(json.dumps({"status": status, "content_type": ctype, "families": len(families),
                      "samples": sum(len(f.samples) for f in families), "values": values}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 -- any failure is the test's answer
        print(f"scrape failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
