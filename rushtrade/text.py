"""Checks of free text that every app shares."""

import unicodedata

# Control and format characters (bidi overrides, zero-width joiners and spaces), private
# use, surrogates, unassigned code points and line or paragraph separators: text that
# shows other than it reads, or not at all.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})

INVISIBLE_MESSAGE = "Use visible characters only (no control, bidi or zero-width characters)."


def has_invisible_characters(value: str) -> bool:
    return any(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in value)
