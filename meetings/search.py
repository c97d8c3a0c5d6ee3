"""Search the way people type: without accents and in any case, the same on PostgreSQL and SQLite.

`fold("Cảnh Sát")` is "canh sat". The database folds a column with the SQL function
`outreach_fold`, which must agree with `fold`: on SQLite it is `fold` itself, registered on
every new connection; on PostgreSQL it is `lower(translate(…))` over the table below, created by
migration 0003 (no extension needed). Columns are used as `title__fold__contains=fold(text)`.
"""

import unicodedata

from django.db.backends.signals import connection_created
from django.db.models import CharField, TextField, Transform

# Letters that decompose into no base letter: Vietnamese đ, Nordic ø, German ß and the like.
_NOT_DECOMPOSED = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})

# Every accented Latin letter (Latin-1, Latin Extended-A and B, and Latin Extended Additional,
# where Vietnamese lives), with the plain letter it folds to: the PostgreSQL function's table.
_FOLDABLE = "".join(
    chr(code)
    for block in [(0x00C0, 0x024F), (0x1E00, 0x1EFF)]
    for code in range(block[0], block[1] + 1)
)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """Lower case, without accents or tone marks: what a search compares."""
    return _strip_marks(text).lower()


def postgresql_translate_table() -> tuple[str, str]:
    """The (from, to) strings of PostgreSQL's translate(): one-letter folds only, same length."""
    sources, targets = [], []
    for char in _FOLDABLE:
        plain = _strip_marks(char)
        if len(plain) == 1 and plain != char and plain.isascii():
            sources.append(char)
            targets.append(plain)
    return "".join(sources), "".join(targets)


class Fold(Transform):
    lookup_name = "fold"
    function = "outreach_fold"


CharField.register_lookup(Fold)
TextField.register_lookup(Fold)


def _register_sqlite_function(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "outreach_fold",
            1,
            lambda value: None if value is None else fold(value),
            deterministic=True,
        )


connection_created.connect(_register_sqlite_function)
