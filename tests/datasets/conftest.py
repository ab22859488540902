"""A real HTTPS server on localhost for the downloaders: TLS with a certificate made for
this test session, files and failure modes served by path."""
import http.server
import ssl
import subprocess
import threading
import time

import pytest


class Route:
    r"""What the server answers on one path: a body, optionally a status code, a number of
    failures first (``fail_first`` times ``fail_status``), a cut-off transfer
    (``truncate``: bytes sent of a longer announced body), a delay before answering, or a
    transfer that stalls (``stall``: bytes sent before the server waits until
    :attr:`release` is set, then sends the rest)."""
    def __init__(self, body=b'', status=200, fail_first=0, fail_status=500, truncate=None,
                 delay=0.0, stall=None):
        self.body, self.status, self.fail_first = body, status, fail_first
        self.fail_status, self.truncate, self.delay = fail_status, truncate, delay
        self.stall, self.release = stall, threading.Event()
        self.requests = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        route.requests += 1
        time.sleep(route.delay)
        if route.requests <= route.fail_first:
            self.send_error(route.fail_status)
            return
        if route.status != 200:
            self.send_error(route.status)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(route.body)))
        self.end_headers()
        body = route.body if route.truncate is None else route.body[:route.truncate]
        try:
            if route.stall is not None:
                self.wfile.write(body[:route.stall])
                self.wfile.flush()
                route.release.wait(timeout=120)
                body = body[route.stall:]
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        if route.truncate is not None:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope='session')
def tls_certificate(tmp_path_factory):
    r"""``(cert, key)`` files of a self-signed certificate for localhost / 127.0.0.1."""
    folder = tmp_path_factory.mktemp('tls')
    cert, key = folder / 'cert.pem', folder / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=localhost', '-addext',
                    'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', str(key),
                    '-out', str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def https_server(tls_certificate, monkeypatch):
    r"""``(base_url, routes)``: an HTTPS server whose certificate this test trusts (through
    ``SSL_CERT_FILE``, as any other CA bundle); ``routes`` maps paths to :class:`Route`."""
    cert, key = tls_certificate
    routes = {}
    handler = type('Handler', (_Handler,), {'routes': routes})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('SSL_CERT_FILE', str(cert))
    try:
        yield f'https://localhost:{server.server_address[1]}', routes
    finally:
        for route in routes.values():  # a stalled transfer ends now
            route.release.set()
        server.shutdown()
        server.server_close()
