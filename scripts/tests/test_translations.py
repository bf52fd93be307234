"""Spanish is complete: every term of the template is translated in es.po,
with the same placeholders (a dropped %(name)s would crash the message)."""

import re
from pathlib import Path

import polib
import pytest

I18N = Path(__file__).resolve().parents[2] / "ecrm_addon" / "i18n"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}")


def read_po(path):
    """{msgid: msgstr} of a .po/.pot file."""
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if not entry.obsolete}


@pytest.fixture(scope="module")
def template():
    return read_po(I18N / "ecrm_addon.pot")


@pytest.fixture(scope="module")
def spanish():
    return read_po(I18N / "es.po")


def test_every_term_is_translated(template, spanish):
    missing = [msgid for msgid in template if not spanish.get(msgid)]
    assert not missing, f"{len(missing)} terms without Spanish, e.g. {missing[:5]}"


def test_translations_keep_their_placeholders(template, spanish):
    broken = [
        msgid
        for msgid in template
        if spanish.get(msgid) and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(spanish[msgid]))
    ]
    assert not broken, f"placeholders changed in {broken[:5]}"


def test_glossary_words_are_used(spanish):
    assert spanish["Champions"] == "Campeones"
    assert spanish["Lost"] == "Perdidos"
