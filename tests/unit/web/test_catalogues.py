"""Every text of the pages has its Finnish and Swedish translation: the texts are extracted
from the templates and the Python code the way ``make messages`` does, and each must be in
each catalogue, translated (not empty, not fuzzy) and with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from gateway.web import i18n

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "gateway" / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def source_messages() -> set[str | tuple[str, str]]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            WEB, method_map=method_map, options_map=options):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


SOURCE = source_messages()


def test_the_pages_have_texts_to_translate() -> None:
    assert len(SOURCE) > 150
    assert "Skip to main content" in SOURCE
    assert ("%(num)d open place", "%(num)d open places") in SOURCE  # plurals too


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_text_is_in_the_catalogue(lang: str) -> None:
    with i18n.catalogue_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    missing, empty, fuzzy, mismatched = [], [], [], []
    for msgid in SOURCE:
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = catalog.get(key)
        if message is None:
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        if lang == "en":
            continue  # the message ids are the English texts: an empty msgstr is the msgid
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        if not all(strings):
            empty.append(msgid)
        elif any(set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(ids[-1]))
                 for s in strings):
            mismatched.append(msgid)
    assert not missing, f"not in {lang} catalogue (run make messages): {missing}"
    assert not empty, f"not translated to {lang}: {empty}"
    assert not fuzzy, f"fuzzy in {lang}: {fuzzy}"
    assert not mismatched, f"placeholders differ in {lang}: {mismatched}"


@pytest.mark.parametrize("lang", ("fi", "sv"))
def test_catalogues_compile_and_translate(lang: str) -> None:
    t = i18n.translations(lang)
    assert t.gettext("Skip to main content") != "Skip to main content"
    assert t.ngettext("%(num)d day", "%(num)d days", 1) != t.ngettext(
        "%(num)d day", "%(num)d days", 2)


def test_a_text_without_translation_is_caught() -> None:
    """The check above can fail: a new text that no catalogue has is reported missing."""
    with i18n.catalogue_path("fi").open("rb") as f:
        catalog = read_po(f, locale="fi")
    assert catalog.get("A text added to a template but never translated") is None
