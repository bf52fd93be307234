# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Identity keys of a customer that need no ORM: E.164 phone and VAT keys,
and which partner field each key is stored in and computed from.

Both return ``None`` for input that cannot be a phone number or a VAT number:
bad input is stored as typed by the caller, gets no key and never matches.
The email key is Odoo's own ``odoo.tools.email_normalize`` (strict), passed in
by the caller so that this module needs no Odoo.
"""

import re

import phonenumbers

# What people type around the digits of a phone number; anything else (letters,
# two numbers separated by a slash or a comma) gives no key.
_PHONE_ALLOWED = re.compile(r"^[\s(]*\+?[\d\s().\-]+$")
_VAT_SEPARATORS = re.compile(r"[\s.\-]+")
_VAT_ALLOWED = re.compile(r"^[A-Z0-9]{2,32}$")

# The partner field holding each identity key -> the partner fields it is computed from
KEY_SOURCES = {
    "ecrm_email_key": ("email",),
    "ecrm_phone_key": ("phone", "mobile"),
    "ecrm_vat_key": ("vat",),
}
KEY_FIELDS = tuple(KEY_SOURCES)
# The key field of each kind of identifier
KEY_FIELD_OF = {"email": "ecrm_email_key", "phone": "ecrm_phone_key", "vat": "ecrm_vat_key"}


def _parse(number, region):
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def phone_key(number, region=None):
    """Return the E.164 form of ``number`` (``"+34600123456"``) or ``None``.

    ``region`` is the ISO code of the country a national number belongs to
    (the customer's country, else the company's). International numbers typed
    with ``+`` or with the ``00`` prefix are read whatever the region, as Odoo's
    phone_validation does; letters, several numbers or invalid numbers give ``None``.
    """
    if not number or not isinstance(number, str):
        return None
    text = number.strip()
    if not _PHONE_ALLOWED.match(text) or sum(c.isdigit() for c in text) < 6:
        return None
    region = (region or "").upper() or None
    candidates = [text]
    digits = re.sub(r"\D", "", text)
    if not text.lstrip(" (").startswith("+"):
        if digits.startswith("00"):
            candidates.append("+" + digits[2:])
        elif region is None:
            candidates.append("+" + digits)
    for candidate in candidates:
        parsed = _parse(candidate, region)
        if parsed is not None:
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def vat_key(vat):
    """Return the VAT number upper-cased without spaces, dots or dashes, its
    country prefix kept (``"es b-123.456.78"`` -> ``"ESB12345678"``), or ``None``."""
    if not vat or not isinstance(vat, str):
        return None
    key = _VAT_SEPARATORS.sub("", vat.upper())
    if not _VAT_ALLOWED.match(key) or not any(c.isdigit() for c in key):
        return None
    return key


def identity_keys(email_normalize, email=None, phones=(), vat=None, region=None):
    """``{key field: key}`` of loose identifiers, only the keys that could be
    computed: the email through ``email_normalize``, the first of ``phones``
    that is a valid number in ``region``, the VAT number."""
    keys = {
        "ecrm_email_key": email_normalize(email) if email and isinstance(email, str) else None,
        "ecrm_phone_key": next(filter(None, (phone_key(phone, region) for phone in phones)), None),
        "ecrm_vat_key": vat_key(vat),
    }
    return {fname: key for fname, key in keys.items() if key}
