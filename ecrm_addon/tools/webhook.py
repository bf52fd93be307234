# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Outgoing escalation webhooks that cannot be aimed at the server's own network.

No odoo import. ``post`` resolves the URL's host once, refuses it unless every
address it resolves to is public (not loopback, private, link-local - cloud
metadata -, shared, reserved or multicast), then connects to that very address:
a second DNS answer (rebinding) never reaches the socket. Redirects are not
followed, and the whole call has a hard deadline. Errors are reported as a short
class name, never with the URL (which may carry a token).

Pinning, and why this way: the request is sent to ``scheme://<address>:<port>``
with the original ``Host`` header and, for https, the original name for SNI and
certificate checking (urllib3's documented ``server_hostname`` and
``assert_hostname`` pool arguments). Checking the name's addresses before a
plain ``requests.post`` would leave a window in which a second lookup answers
differently; patching urllib3's private ``_dns_host`` would tie us to its
internals.
"""

import contextlib
import hashlib
import hmac
import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

TIMEOUT = 5  # seconds for the connection and for each read
DEADLINE = 10  # seconds for the whole call: name, connection, request, answer's status and headers
SIGNATURE_HEADER = "X-Ecrm-Signature"
# Networks accepted although not public. Empty: only the addon's tests fill it
# (their receivers listen on loopback), never a setting.
TEST_ALLOWED_NETWORKS = ()

ERROR_CLASSES = (
    "invalid_url",
    "refused_address",
    "dns",
    "timeout",
    "connection",
    "tls",
    "redirect",
    "http_status",
    "other",
)
# NAT64 prefixes embed an IPv4 address in their last 32 bits.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class WebhookError(Exception):
    """A call refused or without an answer; ``kind`` (one of ERROR_CLASSES) is
    safe to log and store: it never holds the URL."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def sign(secret, body):
    """The ``X-Ecrm-Signature`` value of ``body`` (bytes): ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_public(address):
    """Whether a webhook may connect to ``address`` (an IP address string)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if any(ip in network for network in TEST_ALLOWED_NETWORKS):
        return True
    embedded = None
    if ip.version == 6:
        if ip.ipv4_mapped:
            embedded = ip.ipv4_mapped
        elif ip.sixtofour:
            embedded = ip.sixtofour
        elif any(ip in network for network in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if embedded is not None and not is_public(str(embedded)):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _target(url):
    """(scheme, host, port) of an http(s) URL; WebhookError('invalid_url') otherwise."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError as error:
        raise WebhookError("invalid_url") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("invalid_url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _resolve(host, port, timeout):
    """The addresses of ``host``, waiting ``timeout`` seconds at most (the
    system resolver has no timeout of its own: it keeps running in its thread)."""
    found = {}

    def lookup():
        try:
            found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            found["infos"] = []

    thread = threading.Thread(target=lookup, name="ecrm-webhook-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise WebhookError("timeout")
    addresses = [info[4][0] for info in found["infos"]]
    if not addresses:
        raise WebhookError("dns")
    return addresses


class _Watchdog:
    """Shuts the call's sockets down when the deadline passes: a blocked read
    returns at once, however slowly the peer drips its answer."""

    def __init__(self, seconds):
        self.expired = False
        self.sockets = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def watch(self, sock):
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                self._shutdown(sock)

    def expire(self):
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock):
        # OSError: already closed, or a plain socket since wrapped in TLS (the wrapper is watched too)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _PinnedAdapter(HTTPAdapter):
    """Connections of one call: the watchdog sees each socket; for https, SNI
    and the certificate are those of ``hostname`` although the URL holds the
    address."""

    def __init__(self, scheme, hostname, watchdog):
        self._ecrm_scheme = scheme
        self._ecrm_hostname = hostname
        self._ecrm_watchdog = watchdog
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        if self._ecrm_scheme == "https":
            kwargs.update(server_hostname=self._ecrm_hostname, assert_hostname=self._ecrm_hostname)
        result = super().init_poolmanager(*args, **kwargs)
        watchdog = self._ecrm_watchdog

        def watched(base):
            class Connection(base):
                def _new_conn(self):
                    sock = super()._new_conn()
                    watchdog.watch(sock)  # the TCP handshake's socket, before TLS wraps it
                    return sock

                def connect(self):
                    result = super().connect()
                    watchdog.watch(self.sock)
                    return result

            return Connection

        class Pool(HTTPConnectionPool):
            ConnectionCls = watched(HTTPConnection)

        class TlsPool(HTTPSConnectionPool):
            ConnectionCls = watched(HTTPSConnection)

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}
        return result


def post(url, body, headers, timeout=None, deadline=None):
    """POST ``body`` (bytes) to ``url``; returns the answer's status code (a
    redirect is not followed: its 3xx is returned). Raises WebhookError."""
    timeout = TIMEOUT if timeout is None else timeout
    deadline = DEADLINE if deadline is None else deadline
    end = time.monotonic() + deadline
    scheme, hostname, port = _target(url)
    addresses = _resolve(hostname, port, deadline)
    if not all(is_public(address) for address in addresses):
        raise WebhookError("refused_address")
    address = addresses[0].split("%", 1)[0]
    parts = urlsplit(url)
    netloc = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((scheme, f"{netloc}:{port}", parts.path or "/", parts.query, ""))
    default_port = port == (443 if scheme == "https" else 80)
    host_header = hostname if ":" not in hostname else f"[{hostname}]"
    if not default_port:
        host_header = f"{host_header}:{port}"
    remaining = end - time.monotonic()
    if remaining <= 0:
        raise WebhookError("timeout")
    watchdog = _Watchdog(remaining)
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would connect instead of us
    session.mount(f"{scheme}://", _PinnedAdapter(scheme, hostname, watchdog))
    watchdog.timer.start()
    try:
        response = session.post(
            pinned,
            data=body,
            headers={**headers, "Host": host_header},
            timeout=min(timeout, remaining),
            allow_redirects=False,
            stream=True,  # only the status is read: a body, however slow or large, is not waited for
        )
        response.close()
    except requests.exceptions.SSLError as error:
        raise WebhookError("timeout" if watchdog.expired else "tls") from error
    except requests.exceptions.Timeout as error:
        raise WebhookError("timeout") from error
    except (requests.exceptions.ConnectionError, OSError) as error:
        raise WebhookError("timeout" if watchdog.expired else "connection") from error
    except requests.exceptions.RequestException as error:
        raise WebhookError("timeout" if watchdog.expired else "other") from error
    finally:
        watchdog.timer.cancel()
        session.close()
    if watchdog.expired:
        raise WebhookError("timeout")
    return response.status_code
