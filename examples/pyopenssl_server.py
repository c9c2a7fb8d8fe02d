#!/usr/bin/python3
"""A TLS server (pyOpenSSL) that staples the OCSP response staplerd keeps fresh on disk.

pyOpenSSL asks a callback for the staple on each handshake whose client sent status_request (RFC 6066 section 8);
the callback returns the DER bytes of the staple file, re-read whenever the file changes. staplerd replaces the file
atomically (rename), so a changed inode, size or mtime means new bytes, and a half-written file is never seen.

    /usr/bin/python3 examples/pyopenssl_server.py --cert site.pem --key site.key --staple site.pem.ocsp --port 8443

Needs pyOpenSSL (Debian: apt-get install python3-openssl). Listens on 127.0.0.1 unless told otherwise.
"""

import argparse
import os
import socket
import struct
import sys
import threading

from OpenSSL import SSL

IDLE_TIMEOUT_SECONDS = 10


class StapleFile:
    """The staple's bytes, read again only when the file's identity (inode, size, mtime) changes."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._identity = None
        self._der = b""

    def current(self):
        # Never raise: an exception in the OCSP callback makes pyOpenSSL abort the handshake with a fatal alert.
        with self._lock:
            try:
                info = os.stat(self.path)
                identity = (info.st_ino, info.st_size, info.st_mtime_ns)
                if identity != self._identity:
                    with open(self.path, "rb") as handle:
                        self._der = handle.read()
                    self._identity = identity
            except OSError:
                # No staple (not fetched yet, or removed because it expired or the certificate was revoked with
                # --revoked-action remove): send none rather than an old one.
                self._identity = None
                self._der = b""
            return self._der


def make_context(cert, key, staple):
    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    # The certificate file may hold the chain after the leaf (fullchain.pem); the key may be in the same file.
    context.use_certificate_chain_file(cert)
    context.use_privatekey_file(key or cert)
    context.check_privatekey()

    def ocsp_callback(_connection, _data):
        # An empty bytestring means "no staple" to pyOpenSSL; the handshake goes on without one.
        return staple.current()

    context.set_ocsp_server_callback(ocsp_callback)
    return context


def serve_connection(context, client):
    # socket.settimeout() would switch the descriptor to non-blocking mode, and OpenSSL, which reads the descriptor
    # itself, would then fail the handshake with WantReadError whenever the ClientHello has not arrived yet. Kernel
    # timeouts keep the socket blocking and still drop a client that stalls (Linux struct timeval: two longs).
    idle = struct.pack("ll", IDLE_TIMEOUT_SECONDS, 0)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, idle)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, idle)
    connection = SSL.Connection(context, client)
    connection.set_accept_state()
    try:
        connection.do_handshake()
        connection.recv(65536)  # the request; its contents do not matter here
        body = b"ok\n"
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        connection.shutdown()
    except (SSL.Error, OSError):
        # Clients that hang up right after the handshake (health checks, staple probes: ZeroReturnError) are normal.
        pass
    finally:
        client.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="TLS server that staples an OCSP response file kept fresh by staplerd")
    parser.add_argument("--cert", required=True, help="certificate PEM (leaf, then chain)")
    parser.add_argument("--key", help="private key PEM (default: inside --cert)")
    parser.add_argument("--staple", required=True, help="DER OCSP response file written by staplerd (<cert>.ocsp)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443, help="0 picks a free port (printed)")
    args = parser.parse_args(argv)

    context = make_context(args.cert, args.key, StapleFile(args.staple))
    listener = socket.create_server((args.host, args.port))
    host, port = listener.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    try:
        while True:
            client, _address = listener.accept()
            threading.Thread(target=serve_connection, args=(context, client), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
