# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

import pytest

from ..case_payload import PayloadError, parse_case_payload

# The case's selections, as the controller reads them from the model
CHANNELS = ("email", "portal", "web", "phone", "chat", "sms", "social", "api", "other")
PRIORITIES = ("0", "1", "2", "3")


def parse(raw):
    return parse_case_payload(raw, CHANNELS, PRIORITIES)


def test_minimal_payload_defaults_channel_to_api():
    assert parse(b'{"subject": " Broken ", "email": "a@b.com"}') == {
        "subject": "Broken",
        "email": "a@b.com",
        "channel": "api",
    }


@pytest.mark.parametrize("flag", [True, False])
def test_acknowledge_flag_is_kept(flag):
    body = json.dumps({"subject": "Broken", "email": "a@b.com", "acknowledge": flag})
    assert parse(body)["acknowledge"] is flag


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_bad_json_is_refused(raw):
    with pytest.raises(PayloadError) as error:
        parse(raw)
    assert "body" in error.value.fields


def test_missing_subject_and_contact_are_reported_together():
    with pytest.raises(PayloadError) as error:
        parse(b'{"description": "x"}')
    assert error.value.fields == {"subject": "required", "email": "email or phone required"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"subject": "s", "phone": "1", "priority": "7"}', "priority"),
        (b'{"subject": "s", "phone": "1", "channel": "fax"}', "channel"),
        (b'{"subject": 3, "phone": "1"}', "subject"),
        (b'{"subject": "s", "email": "not an email"}', "email"),
        (b'{"subject": "s", "phone": "1", "hack": 1}', "hack"),
        (b'{"subject": "s", "phone": "1", "acknowledge": "no"}', "acknowledge"),
    ],
)
def test_bad_field_is_named(body, field):
    with pytest.raises(PayloadError) as error:
        parse(body)
    assert field in error.value.fields


def test_numeric_priority_is_accepted():
    assert parse(b'{"subject": "s", "phone": "+34 600 000", "priority": 2}')["priority"] == "2"


@pytest.mark.parametrize("phone", ["+34 600 00 00 01", "(555) 010-0199", "0034.600.000.001", "600000001"])
def test_usual_phone_forms_are_accepted(phone):
    assert parse(json.dumps({"subject": "s", "phone": phone}).encode())["phone"] == phone


@pytest.mark.parametrize("phone", ["1", "12345", "call me", "+34 600 abc", "1" * 21, "++34600000001"])
def test_bad_phones_are_refused(phone):
    with pytest.raises(PayloadError) as error:
        parse(json.dumps({"subject": "s", "phone": phone}).encode())
    assert error.value.fields == {"phone": "invalid phone"}


@pytest.mark.parametrize("email", ["a@", "@b.com", "a@b", "a b@c.com", "a@.com"])
def test_bad_emails_are_refused(email):
    with pytest.raises(PayloadError) as error:
        parse(json.dumps({"subject": "s", "email": email}).encode())
    assert error.value.fields == {"email": "invalid email"}


@pytest.mark.parametrize(
    ("email", "address", "name"),
    [
        ("Ana García <ANA@Shop.es>", "ANA@Shop.es", "Ana García"),
        ('"García, Ana" <ana@shop.es>', "ana@shop.es", "García, Ana"),
        ("<ana@shop.es>", "ana@shop.es", None),
        ("ana@shop.es", "ana@shop.es", None),
    ],
)
def test_email_with_a_display_name_gives_address_and_name(email, address, name):
    clean = parse(json.dumps({"subject": "s", "email": email}).encode())
    assert (clean["email"], clean.get("name")) == (address, name)


def test_name_field_wins_over_the_display_name():
    clean = parse(json.dumps({"subject": "s", "email": "Ana <ana@shop.es>", "name": "Ana G."}).encode())
    assert (clean["email"], clean["name"]) == ("ana@shop.es", "Ana G.")


@pytest.mark.parametrize(
    "email", ["a@shop.es, b@shop.es", "a@shop.es,b@shop.es", "a@shop.es;b@shop.es", "Ana <a@shop.es>, Bo <b@shop.es>"]
)
def test_two_addresses_are_refused(email):
    with pytest.raises(PayloadError) as error:
        parse(json.dumps({"subject": "s", "email": email}).encode())
    assert error.value.fields == {"email": "a single address"}
