# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Validation of the JSON body of ``POST /ecrm/api/v1/cases`` (no Odoo import)."""

import json
import re
from email.utils import getaddresses

MAX_BODY_BYTES = 1024 * 1024
# A phone number as people type it: digits, spaces and + - . ( ) /, with 6 to 20 digits.
PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")
PHONE_DIGITS = (6, 20)
TEXT_LIMITS = {"subject": 250, "name": 250, "email": 250, "phone": 64, "order": 64, "category": 128}


class PayloadError(ValueError):
    """Bad input: ``message`` for the client, ``fields`` maps field -> problem."""

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


def _load(raw):
    try:
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError("invalid JSON", {"body": "invalid JSON"}) from error
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object", {"body": "must be an object"})
    return data


def _texts(data, errors):
    clean = {}
    for key in ("subject", "description", "name", "email", "phone", "order", "category", "channel"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[key] = "must be a string"
            continue
        value = value.strip()
        if key in TEXT_LIMITS and len(value) > TEXT_LIMITS[key]:
            errors[key] = f"at most {TEXT_LIMITS[key]} characters"
        elif value:
            clean[key] = value
    return clean


def _valid_email(value):
    local, _sep, domain = value.rpartition("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not any(c.isspace() for c in value)


def _split_email(value):
    """``(display name, address)`` of one address typed as a mail's From header
    is (``ana@shop.es``, ``Ana García <ana@shop.es>``, ``"García, Ana" <ana@shop.es>``);
    the error for the client when it is not exactly one valid address."""
    found = [(name.strip(), address) for name, address in getaddresses([value]) if address]
    if len(found) > 1:
        return None, "a single address"
    if not found or not _valid_email(found[0][1]):
        return None, "invalid email"
    return found[0], None


def _clean_email(clean, errors):
    """Keep the address of ``clean["email"]``; its display name is the name when none is given."""
    pair, error = _split_email(clean["email"])
    if error:
        errors["email"] = error
        return
    name, clean["email"] = pair
    if name and "name" not in clean and "name" not in errors:
        clean["name"] = name[: TEXT_LIMITS["name"]]


def _valid_phone(value):
    digits = sum(c.isdigit() for c in value)
    return bool(PHONE_CHARS.match(value)) and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]


def _clean_acknowledge(data, clean, errors):
    """The customer gets an acknowledgement unless the client sends ``"acknowledge": false``."""
    if "acknowledge" not in data:
        return
    if isinstance(data["acknowledge"], bool):
        clean["acknowledge"] = data["acknowledge"]
    else:
        errors["acknowledge"] = "must be true or false"


def parse_case_payload(raw, channels, priorities):
    """Parse and check the request body; return a clean dict. ``channels`` and
    ``priorities``: the values the case accepts (its fields' selections).

    Raises :class:`PayloadError` on bad JSON or fields (every field error at once).
    """
    data = _load(raw)
    errors = {}
    clean = _texts(data, errors)
    if "subject" not in clean and "subject" not in errors:
        errors["subject"] = "required"
    if "email" not in clean and "phone" not in clean and not ({"email", "phone"} & errors.keys()):
        errors["email"] = "email or phone required"
    if "email" in clean:
        _clean_email(clean, errors)
    if "phone" in clean and not _valid_phone(clean["phone"]):
        errors["phone"] = "invalid phone"
    clean.setdefault("channel", "api")
    if clean["channel"] not in channels:
        errors["channel"] = "one of " + ", ".join(channels)
    if data.get("priority") is not None:
        priority = str(data["priority"])
        if priority in priorities:
            clean["priority"] = priority
        else:
            errors["priority"] = "one of " + ", ".join(priorities)
    _clean_acknowledge(data, clean, errors)
    for key in sorted(set(data) - {*TEXT_LIMITS, "description", "channel", "priority", "acknowledge"}):
        errors[key] = "unknown field"
    if errors:
        raise PayloadError("invalid fields", errors)
    return clean
