#!/usr/bin/env python3
"""Occupies a TCP port for the metrics tests.

usage: tcp_hold.py stall HOST PORT SECONDS   connect, send half an HTTP
                                             request, hold the connection
       tcp_hold.py squat HOST PORT SECONDS   bind and listen on the port
Prints "ready" (flushed) once the socket is set up, then sleeps SECONDS.
"""
import socket
import sys
import time

mode, host, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if mode == "stall":
    s = socket.create_connection((host, port), timeout=5)
    s.send(b"GET /metrics HTTP/1.1\r\n")
else:
    s = socket.socket()
    s.bind((host, port))
    s.listen()
print("ready", flush=True)
time.sleep(secs)
