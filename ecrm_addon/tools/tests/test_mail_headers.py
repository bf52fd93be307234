# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from email import message_from_string, policy

import pytest

from ..mail_headers import is_auto_submitted, is_bounce_sender


def mail(headers):
    return message_from_string(f"From: a@shop.example\n{headers}\nbody\n", policy=policy.SMTP)


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: Auto-Generated",
        "auto-submitted: auto-replied; owner-email=ana@shop.example",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: JUNK",
        "Precedence: list",
    ],
)
def test_mail_sent_by_a_program_is_auto_submitted(headers):
    assert is_auto_submitted(mail(headers + "\n"))


@pytest.mark.parametrize("headers", ["", "Auto-Submitted: no\n", "Auto-Submitted: No \n", "Precedence: first-class\n"])
def test_mail_of_a_person_is_not_auto_submitted(headers):
    assert not is_auto_submitted(mail(headers))


@pytest.mark.parametrize("email", ["mailer-daemon@mx.example", "MAILER-DAEMON@mx.example", "postmaster@shop.example"])
def test_mail_server_addresses_are_bounce_senders(email):
    assert is_bounce_sender(email)


@pytest.mark.parametrize("email", ["jane@example.com", "daemon@example.com", "postmaster.jane@example.com", "", None])
def test_other_addresses_are_not_bounce_senders(email):
    assert not is_bounce_sender(email)
