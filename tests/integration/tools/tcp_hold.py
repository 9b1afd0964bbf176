#!/usr/bin/env python3
"""Occupies a TCP port for the metrics tests.

usage: tcp_hold.py stall HOST PORT SECONDS [N]
                                             connect (N times, default 1),
                                             send half an HTTP request on
                                             each, hold the connections
       tcp_hold.py squat HOST PORT SECONDS   bind and listen on the port
Writes "ready" and its newline in one write(2) once the socket is set up
(processes appending to one file never split the line), then sleeps SECONDS.
"""
import os
import socket
import sys
import time

mode, host, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
held = []
if mode == "stall":
    for _ in range(int(sys.argv[5]) if len(sys.argv) > 5 else 1):
        s = socket.create_connection((host, port), timeout=5)
        s.send(b"GET /metrics HTTP/1.1\r\n")
        held.append(s)
else:
    s = socket.socket()
    s.bind((host, port))
    s.listen()
os.write(1, b"ready\n")
time.sleep(secs)
