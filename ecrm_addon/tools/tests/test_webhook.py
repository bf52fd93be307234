# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import hashlib
import hmac
import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .. import webhook


class _Receiver(BaseHTTPRequestHandler):
    """Records each request; answers ``status`` (with a Location for a 3xx),
    after dripping ``drip`` bytes of its status line one per 0.3 s."""

    status = 200
    drip = 0
    requests = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append((self.path, dict(self.headers), body))
        if type(self).drip:
            with contextlib.suppress(OSError):  # the caller hangs up at its deadline
                for char in b"HTTP/1.1 200 OK\r\n"[: type(self).drip]:
                    self.wfile.write(bytes([char]))
                    self.wfile.flush()
                    time.sleep(0.3)
            return
        self.send_response(type(self).status)
        if 300 <= type(self).status < 400:
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(monkeypatch):
    """A receiver on loopback, which the test-only allow-list lets through."""
    monkeypatch.setattr(webhook, "TEST_ALLOWED_NETWORKS", (ipaddress.ip_network("127.0.0.0/8"),))
    _Receiver.status, _Receiver.drip, _Receiver.requests = 200, 0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def fake_dns(monkeypatch, answers):
    """Resolve the names of ``answers`` ({name: [address, ...]}) to them, in
    turn per lookup (the last answer repeats); other hosts as usual. Returns
    the list of names looked up."""
    real = socket.getaddrinfo
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = answers[host][min(asked.count(host), len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.100.100.200",  # metadata of some clouds (shared address space)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1%eth0",
        "fd00:ec2::254",  # AWS metadata over IPv6 (unique local)
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not webhook.is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_accepted(address):
    assert webhook.is_public(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.0.1/hook",
        "http://[::1]:8069/hook",
        "https://localhost/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
    ],
)
def test_post_refuses_non_public_targets_without_connecting(url, monkeypatch):
    monkeypatch.setattr(socket, "create_connection", pytest.fail)
    with pytest.raises(webhook.WebhookError) as error:
        webhook.post(url, b"{}", {})
    assert error.value.kind == "refused_address"
    assert str(error.value) == "refused_address", "the error names no URL"


def test_post_refuses_a_name_resolving_to_loopback(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    with pytest.raises(webhook.WebhookError) as error:
        webhook.post("https://hooks.example.com/t0ken", b"{}", {})
    assert error.value.kind == "refused_address"


def test_post_refuses_a_name_with_one_private_address_among_public_ones(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "hooks.example.com":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(webhook.WebhookError) as error:
        webhook.post("https://hooks.example.com/hook", b"{}", {})
    assert error.value.kind == "refused_address"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost", "http://h:99999/", ""])
def test_post_refuses_invalid_urls(url):
    with pytest.raises(webhook.WebhookError) as error:
        webhook.post(url, b"{}", {})
    assert error.value.kind == "invalid_url"


def test_post_sends_body_and_headers(receiver):
    status = webhook.post(f"http://127.0.0.1:{receiver}/hook?token=abc", b'{"a": 1}', {"X-Test": "yes"})
    assert status == 200
    [(path, headers, body)] = _Receiver.requests
    assert (path, body, headers["X-Test"]) == ("/hook?token=abc", b'{"a": 1}', "yes")


def test_post_connects_to_the_address_it_checked(receiver, monkeypatch):
    """The name is resolved once; a second answer (DNS rebinding to a private
    address) never reaches the connection. The receiver sees the name in Host."""
    asked = fake_dns(monkeypatch, {"hooks.shop.test": ["127.0.0.1", "10.0.0.1"]})
    assert webhook.post(f"http://hooks.shop.test:{receiver}/hook", b"{}", {}) == 200
    assert asked == ["hooks.shop.test"]
    [(_path, headers, _body)] = _Receiver.requests
    assert headers["Host"] == f"hooks.shop.test:{receiver}"


def test_post_does_not_follow_redirects(receiver):
    _Receiver.status = 302
    assert webhook.post(f"http://127.0.0.1:{receiver}/hook", b"{}", {}) == 302
    assert [path for path, _headers, _body in _Receiver.requests] == ["/hook"]


def test_post_stops_at_the_deadline_however_slow_the_drip(receiver):
    """Each byte of the answer comes well within the read timeout; the whole
    call still ends at the total deadline."""
    _Receiver.drip = 17
    started = time.monotonic()
    with pytest.raises(webhook.WebhookError) as error:
        webhook.post(f"http://127.0.0.1:{receiver}/hook", b"{}", {}, timeout=2, deadline=1)
    assert error.value.kind == "timeout"
    assert time.monotonic() - started < 1.8


def test_post_reports_a_closed_port_as_a_connection_error(receiver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(webhook.WebhookError) as error:
        webhook.post(f"http://127.0.0.1:{port}/hook", b"{}", {})
    assert error.value.kind == "connection"


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"event": "ecrm.case.escalation"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert webhook.sign("s3cret", body) == f"sha256={expected}"
    assert webhook.sign("other", body) != webhook.sign("s3cret", body)
