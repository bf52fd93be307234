# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrm_addon.tools.identity import identity_keys, phone_key, vat_key


@pytest.mark.parametrize(
    "typed",
    ["+34 600 123 456", "0034 600 12 34 56", "600 12 34 56", "600-123-456", "(+34) 600.123.456", " +34600123456 "],
)
def test_spanish_mobile_forms_share_one_key(typed):
    assert phone_key(typed, "ES") == "+34600123456"


def test_national_number_read_in_the_region_given():
    assert phone_key("06 12 34 56 78", "FR") == "+33612345678"
    assert phone_key("06 12 34 56 78", "ES") is None


def test_international_number_ignores_region():
    assert phone_key("+33 6 12 34 56 78", "ES") == "+33612345678"
    assert phone_key("0033612345678", "ES") == "+33612345678"


def test_international_number_without_plus_and_without_region():
    assert phone_key("34600123456") == "+34600123456"


def test_region_is_case_insensitive():
    assert phone_key("600123456", "es") == "+34600123456"


@pytest.mark.parametrize(
    "typed",
    [None, "", "   ", "call me", "600 ABC 456", "600123456 / 611223344", "12", "+999 123 456 789", 600123456],
)
def test_bad_phone_gives_no_key(typed):
    assert phone_key(typed, "ES") is None


def test_unknown_region_gives_no_key_for_national_number():
    assert phone_key("600 12 34 56", "XX") is None


@pytest.mark.parametrize(
    "typed",
    ["ESB12345678", "es b12345678", "ES-B-123.456.78", " es.b.12345678 "],
)
def test_vat_forms_share_one_key(typed):
    assert vat_key(typed) == "ESB12345678"


def test_vat_keeps_country_prefix():
    assert vat_key("FR 123 456 789 01") == "FR12345678901"
    assert vat_key("B12345678") == "B12345678"


@pytest.mark.parametrize("typed", [None, "", " - ", "no vat", "ES/B12345678", "ABCDEF", 12345678])
def test_bad_vat_gives_no_key(typed):
    assert vat_key(typed) is None


@given(st.text(max_size=40), st.sampled_from([None, "ES", "FR", "US", "XX"]))
def test_phone_key_never_raises_and_is_e164(text, region):
    key = phone_key(text, region)
    assert key is None or (key.startswith("+") and key[1:].isdigit())


@given(st.text(max_size=40))
def test_vat_key_is_idempotent(text):
    key = vat_key(text)
    assert key is None or vat_key(key) == key


def test_identity_keys_keep_only_the_keys_computed():
    keys = identity_keys(str.lower, email="A@B.example", phones=("not a phone", "600 12 34 56"), region="ES")
    assert keys == {"ecrm_email_key": "a@b.example", "ecrm_phone_key": "+34600123456"}


def test_identity_keys_of_nothing_are_empty():
    assert identity_keys(str.lower, email=False, phones=(False, None), vat="") == {}
