#!/usr/bin/env python3
"""Prints the exact bytes that real HTTP clients send, as C++ string literals.

Listens on 127.0.0.1 (a free port), runs each client against it, reads one
request (head, then a Content-Length or chunked body), answers 200 and closes.
The literals in tests/test_http_parser.cpp were captured with this script;
run it again to see what newer versions of the tools send:

    python3 tests/support/capture_requests.py

Needs curl and wrk on PATH; Python's http.client is the interpreter's own.
Loopback only, a few seconds at most.
"""
import http.client
import socket
import subprocess
import sys
import threading


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return data
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        while not body.endswith(b"0\r\n\r\n"):
            more = conn.recv(65536)
            if not more:
                break
            body += more
    else:
        length = 0
        for line in lower.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            more = conn.recv(65536)
            if not more:
                break
            body += more
    return head + b"\r\n\r\n" + body


def capture(name, start):
    """Runs start(port) (which must send one request) and returns the bytes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(10)
    port = listener.getsockname()[1]
    got = {}

    def serve():
        # wrk first connects once without sending anything (to pick an
        # address that works): skip connections that send nothing.
        while not got.get("bytes"):
            conn, _ = listener.accept()
            with conn:
                got["bytes"] = read_request(conn)
                if got["bytes"]:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    t = threading.Thread(target=serve)
    t.start()
    stop = start(port)
    t.join()
    if stop:
        stop()
    listener.close()
    return got.get("bytes", b"")


def literal(b):
    out = []
    for c in b:
        ch = chr(c)
        if ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(ch)
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def run(args):
    def start(port):
        subprocess.run([a.replace("PORT", str(port)) for a in args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10, check=False)
    return start


def background(args):
    def start(port):
        p = subprocess.Popen([a.replace("PORT", str(port)) for a in args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        return lambda: (p.terminate(), p.wait())
    return start


def python_client(method, target, body=None, headers=None, encode_chunked=False):
    def start(port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request(method, target, body=body, headers=headers or {}, encode_chunked=encode_chunked)
        c.getresponse().read()
        c.close()
    return start


CASES = [
    ("curl_get", run(["curl", "-sS", "http://127.0.0.1:PORT/users?page=2"])),
    ("curl_post_json", run(["curl", "-sS", "-H", "Content-Type: application/json", "-d",
                            '{"name":"Ada","email":"ada@example.com"}', "http://127.0.0.1:PORT/users"])),
    ("curl_post_form", run(["curl", "-sS", "--data", "name=Ada&lang=en", "http://127.0.0.1:PORT/form"])),
    ("curl_post_chunked", run(["curl", "-sS", "-H", "Transfer-Encoding: chunked", "--data", "hello world",
                               "http://127.0.0.1:PORT/upload"])),
    ("curl_http10", run(["curl", "-sS", "--http1.0", "http://127.0.0.1:PORT/old"])),
    ("curl_head", run(["curl", "-sS", "-I", "http://127.0.0.1:PORT/"])),
    ("wrk_get", background(["wrk", "-t1", "-c1", "-d2s", "http://127.0.0.1:PORT/"])),
    ("python_get", python_client("GET", "/users")),
    ("python_post_json", python_client("POST", "/users", body=b'{"name": "Ada"}',
                                       headers={"Content-Type": "application/json"})),
    ("python_chunked", python_client("POST", "/upload", body=iter([b"hello", b" world"]), encode_chunked=True)),
]


def main():
    versions = []
    for cmd in (["curl", "--version"], ["wrk", "--version"]):
        try:
            versions.append(subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0])
        except (OSError, IndexError):
            versions.append(cmd[0] + ": not found")
    versions.append("Python " + sys.version.split()[0] + " http.client")
    for v in versions:
        print("// " + v)
    for name, start in CASES:
        print("constexpr std::string_view %s =\n    %s;" % (name, literal(capture(name, start))))


if __name__ == "__main__":
    main()
