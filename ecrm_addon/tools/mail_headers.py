# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Headers of an incoming mail that need no ORM."""

# Precedence values of mail sent to many (mailing lists, bulk senders) or by a program
_AUTO_PRECEDENCE = {"bulk", "junk", "list"}
# Headers that out-of-office and other autoresponders set, whatever their value
_AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond")


def is_auto_submitted(message):
    """Whether ``message`` (an ``email.message.Message``, or anything with a
    case-insensitive ``get(name)``) was sent by a program rather than a person:
    an ``Auto-Submitted`` header other than ``no`` (RFC 3834: auto-replied,
    auto-generated, auto-notified, with or without parameters), an
    ``X-Autoreply`` or ``X-Autorespond`` header, or ``Precedence`` bulk, junk
    or list."""
    auto_submitted = str(message.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if any(message.get(name) is not None for name in _AUTORESPONDER_HEADERS):
        return True
    return str(message.get("Precedence") or "").strip().lower() in _AUTO_PRECEDENCE


# Local parts of the addresses mail servers send delivery reports (bounces) from
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}


def is_bounce_sender(email):
    """Whether ``email`` (a normalised address) is a mail server's own address
    that sends delivery reports (``MAILER-DAEMON@...``, ``postmaster@...``):
    nobody reads what is sent there."""
    local = str(email or "").rpartition("@")[0].strip().lower()
    return local in _BOUNCE_SENDERS
