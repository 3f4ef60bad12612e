"""The console's catalogues: every message has its Indonesian, and the committed .mo files are the .po files compiled."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

CONSOLE = Path(__file__).resolve().parent.parent / "hub" / "console"
TRANSLATIONS = CONSOLE / "translations"


def _messages() -> set[str]:
    method_map, options_map = parse_mapping_cfg((CONSOLE / "babel.cfg").open())
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(CONSOLE), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_of_the_console_has_an_indonesian_translation() -> None:
    messages = _messages()
    assert len(messages) > 100  # the extraction sees the templates and the views
    catalogue = read_po((TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po").open("rb"))
    missing = sorted(m for m in messages if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == []
    english = read_po((TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb"))
    assert sorted(m for m in messages if english.get(m) is None) == []


def test_the_committed_mo_files_are_the_po_files_compiled() -> None:
    for lang in ("id", "en"):
        folder = TRANSLATIONS / lang / "LC_MESSAGES"
        po = read_po((folder / "messages.po").open("rb"))
        mo = read_mo((folder / "messages.mo").open("rb"))
        want = {m.id: m.string for m in po if m.id and m.string}
        got = {m.id: m.string for m in mo if m.id and m.string}
        assert got == want, f"{lang}: run make translations"
