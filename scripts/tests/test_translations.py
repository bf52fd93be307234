# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Spanish is complete: every term of the template is translated in es.po,
with the same placeholders (a dropped %(name)s would crash the message), in
ecrm_addon and in every bridge addon beside it."""

import re
from pathlib import Path

import polib
import pytest

REPO = Path(__file__).resolve().parents[2]
I18N = REPO / "ecrm_addon" / "i18n"
# every addon of the repository with a translation template
ADDONS = sorted(path.parent.name for path in REPO.glob("*/__manifest__.py") if (path.parent / "i18n").is_dir())
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}")


def read_po(path):
    """{msgid: msgstr} of a .po/.pot file."""
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if not entry.obsolete}


@pytest.fixture(scope="module", params=ADDONS)
def addon(request):
    return request.param


@pytest.fixture(scope="module")
def template(addon):
    return read_po(REPO / addon / "i18n" / f"{addon}.pot")


@pytest.fixture(scope="module")
def spanish(addon):
    return read_po(REPO / addon / "i18n" / "es.po")


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


def test_glossary_words_are_used():
    spanish = read_po(I18N / "es.po")
    assert spanish["Champions"] == "Campeones"
    assert spanish["Lost"] == "Perdidos"
