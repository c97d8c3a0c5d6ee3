"""How many SMS segments a text costs: what a provider bills, per recipient.

A text that fits the GSM 03.38 alphabet (GSM-7: English, and Spanish without "á í ó ú"
except é, ñ, ü…) goes 160 characters in one segment, 153 per segment when split; the
characters of the extension table (€ [ ] { } ^ ~ | \\) take two each. Any other character
(Vietnamese letters, "á", "í", "ó", "ú", "¿", curly quotes, emoji) turns the whole text into
UCS-2: 70 characters in one segment, 67 per segment when split, each UTF-16 code unit
counting one (an emoji takes two).

`spanish_gsm` swaps the few Spanish letters GSM-7 lacks for the ones it has (á → a, í → i,
ó → o, ú → u, Á → A, ¿ ¡ kept, since ¿ and ¡ are in GSM-7): Spanish readers read unaccented
text easily, and a one-segment text costs half of a two-segment one. Vietnamese is left as
it is: without its marks the words change meaning.
"""

import math
from dataclasses import dataclass

from django.conf import settings

# The GSM 03.38 default alphabet (basic table) and its extension table (two septets each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
MULTI = {"GSM-7": 153, "UCS-2": 67}

# Letters Spanish uses that GSM-7 lacks, and the nearest ones it has (é, ñ, ü are in GSM-7).
_SPANISH_TO_GSM = str.maketrans(
    {
        "á": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "Á": "A",
        "Í": "I",
        "Ó": "O",
        "Ú": "U",
        "È": "E",
        "ç": "c",
        # Typography that word processors put in: the plain forms are in GSM-7.
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int

    @property
    def per_segment(self) -> int:
        return (SINGLE if self.count <= 1 else MULTI)[self.encoding]


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def count(text: str) -> Segments:
    """The encoding a phone network uses for `text` and how many segments it takes."""
    if is_gsm7(text):
        encoding = "GSM-7"
        units = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
    else:
        encoding = "UCS-2"
        units = len(text.encode("utf-16-le")) // 2
    if units <= SINGLE[encoding]:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, math.ceil(units / MULTI[encoding]))


def spanish_gsm(text: str) -> str:
    """Spanish text in the GSM-7 alphabet where only accents stood in the way."""
    return text.translate(_SPANISH_TO_GSM)


def fit_alphabet(text: str, language: str) -> str:
    """The text as it is sent in `language`: in GSM-7 where a few accents alone would make it
    UCS-2 (twice the segments), for the languages in SMS_PLAIN_LETTER_LANGUAGES (Spanish,
    English); every other language unchanged."""
    if language in settings.SMS_PLAIN_LETTER_LANGUAGES:
        plain = spanish_gsm(text)
        if is_gsm7(plain):
            return plain
    return text
