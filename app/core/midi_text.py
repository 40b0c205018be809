"""Text events (track names) as their writers meant them.

MIDI names no encoding for its text, and mido reads every byte as Latin-1. Writers differ: notation programs
write UTF-8 ("für", not "fÃ¼r"), Windows sequencers cp1252 (curly quotes, en dashes), and Japanese ones
Shift-JIS ("ピアノ", not "ƒsƒAƒm"). UTF-8 shows itself by decoding; cp1252 and Shift-JIS both decode much
Western text, so Shift-JIS is chosen for a whole file, on evidence only Japanese text gives (:func:`text_encodings`).
"""

from __future__ import annotations

from collections.abc import Iterable

# mido's names for the meta events that carry text
TEXT_EVENTS = frozenset({"text", "copyright", "track_name", "instrument_name", "lyrics", "marker", "cue_marker"})

WESTERN = ("utf-8", "cp1252", "latin-1")
JAPANESE = ("utf-8", "cp932", "cp1252", "latin-1")  # cp932: Windows' Shift-JIS, what Japanese sequencers write


def _is_japanese_mark(char: str) -> bool:
    """Kana, CJK punctuation (、。「」) or full-width letters and signs (（Ｒ．Ｈ．）): two-byte Shift-JIS characters
    whose bytes (lead 0x81-0x83) are punctuation a Western text hardly has ('‚', 'ƒ') or no cp1252 character at all.
    Not kanji, whose bytes also spell Western words ("Ständchen" decodes as "St舅dchen"), nor half-width kana,
    which are single Latin-1 letters ("É")."""
    return "\u3000" <= char <= "\u30ff" or "\uff01" <= char <= "\uff5e"


def text_encodings(texts: Iterable[bytes]) -> tuple[str, ...]:
    """The encodings to try, in order, for a file's ``texts`` (every text event's bytes, as evidence): Shift-JIS
    before cp1252 where each text that is not UTF-8 decodes as Shift-JIS and one shows a Japanese mark."""
    marked = False
    for raw in texts:
        try:
            raw.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        try:
            text = raw.decode("cp932")
        except UnicodeDecodeError:
            return WESTERN
        marked = marked or any(map(_is_japanese_mark, text))
    return JAPANESE if marked else WESTERN


def shown_text(raw: bytes, encodings: tuple[str, ...] = WESTERN) -> str:
    """``raw`` decoded by the first of ``encodings`` that can (Latin-1 decodes any bytes), without unprintable
    characters (some names end in NULs) or runs of spaces."""
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            pass
    else:
        text = raw.decode("latin-1")
    return " ".join("".join(c for c in text if c.isprintable()).split())


def encoding_to_write(texts: Iterable[bytes], encodings: tuple[str, ...]) -> str:
    """How to write new text into a file whose text events are ``texts``, read with ``encodings``: as the file
    writes its own (UTF-8 where one of its non-ASCII texts is UTF-8, Shift-JIS in a Japanese file), else cp1252,
    what Windows sequencers write and readers that assume Latin-1 mostly show right."""
    for raw in texts:
        if not raw.isascii():
            try:
                raw.decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
    return "cp932" if encodings == JAPANESE else "cp1252"


def written_text(text: str, encoding: str) -> bytes:
    """``text`` as bytes in ``encoding``, or in UTF-8 where ``encoding`` has no byte for one of its characters
    (read back by :func:`shown_text`, which tries UTF-8 first)."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")
