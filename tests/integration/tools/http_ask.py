#!/usr/bin/env python3
"""Sends one raw HTTP request and prints what came back, as JSON.

usage: http_ask.py HOST PORT REQUEST
REQUEST is the request's bytes with \\r\\n written as the two characters
\\r\\n (for example 'HEAD /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n').
Prints {"status": N, "headers": {lower-case name: value}, "body_bytes": N},
reading until the server closes or 3 s pass without data.
"""
import json
import socket
import sys

host, port, request = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection((host, port), timeout=5)
s.sendall(request)
s.settimeout(3)
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
headers = {}
for line in lines[1:]:
    name, _, value = line.partition(":")
    headers[name.strip().lower()] = value.strip()
print(json.dumps({"status": status, "headers": headers, "body_bytes": len(body)}))
