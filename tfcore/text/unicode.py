"""Unicode character classes of the BERT and GPT-2 tokenizers, from `unicodedata`.

Both tokenizers take their classes from the running Python's `unicodedata`
(the tables Hugging Face's Python tokenizers use), never from a regex
engine's `\\p{..}` (RE2 and `regex` follow newer Unicode versions). The
in-graph tokenizers turn the ranges here into RE2 classes (`re2_class`);
the Python encoders use the same ranges, so both agree code point by code
point.

BERT (google-research/bert tokenization.py, BasicTokenizer), `char_class`:
"drop" (control and format characters but tab/newline/return, NUL, U+FFFD),
"space", "punct" (Unicode punctuation and all non-alphanumeric printable
ASCII), "mark" (non-spacing marks, stripped after NFD when lower-casing);
`CJK_RANGES` are the ideographs that become words of their own.

GPT-2 (its pre-tokenizer regex): `WHITE_SPACE`, and letters / numbers as the
general categories L* / N* (`category_ranges`).

Example:

    char_class(ord("!"))               # "punct"
    re2_class([(0x41, 0x5A)])          # "\\x{41}-\\x{5A}", the body of an RE2 [...]
"""

import functools
import sys
import unicodedata

# CJK Unified Ideograph blocks treated as words of their own, google-research/bert
# tokenization.py (BasicTokenizer._is_chinese_char).
CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)
# Code points dropped besides control characters (NUL and the replacement
# character), google-research/bert tokenization.py (BasicTokenizer._clean_text).
DROPPED_CODE_POINTS = (0x0, 0xFFFD)
_KEPT_CONTROLS = "\t\n\r"
# Unicode White_Space property (PropList.txt): what `\s` matches in Hugging
# Face's regex engine (Python's str.isspace also counts U+001C..U+001F).
WHITE_SPACE = ((0x9, 0xD), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
               (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
               (0x3000, 0x3000))
BERT_CLASSES = ("drop", "space", "punct", "mark")


def _is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF  # Never in valid UTF-8: in no class.


def char_class(cp):
    """BERT's class of code point `cp`: "drop", "space", "punct", "mark" or None."""
    if _is_surrogate(cp):
        return None
    ch = chr(cp)
    cat = unicodedata.category(ch)
    if cp in DROPPED_CODE_POINTS or (cat[0] == "C" and ch not in _KEPT_CONTROLS):
        return "drop"
    if cat == "Zs" or ch.isspace():  # str.split() also splits on U+2028/9.
        return "space"
    if cat[0] == "P" or (32 < cp < 127 and not ch.isalnum()):
        # All non-alphanumeric printable ASCII counts as punctuation ("$", "^").
        return "punct"
    return "mark" if cat == "Mn" else None


def is_cjk(cp):
    """True for a code point in `CJK_RANGES`."""
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def to_ranges(code_points):
    """Ascending code points -> list of inclusive `(lo, hi)` ranges."""
    ranges = []
    for cp in code_points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return [tuple(r) for r in ranges]


def _all_code_points():
    return (cp for cp in range(sys.maxunicode + 1) if not _is_surrogate(cp))


@functools.lru_cache(maxsize=None)
def bert_class_ranges():
    """{class name: ranges} for each of `BERT_CLASSES`, over all code points."""
    members = {name: [] for name in BERT_CLASSES}
    for cp in _all_code_points():
        kind = char_class(cp)
        if kind is not None:
            members[kind].append(cp)
    return {name: to_ranges(cps) for name, cps in members.items()}


@functools.lru_cache(maxsize=None)
def category_ranges(prefix):
    """Ranges of the code points whose general category starts with `prefix` ("L", "N")."""
    return to_ranges(cp for cp in _all_code_points()
                     if unicodedata.category(chr(cp)).startswith(prefix))


def re2_class(ranges):
    """Ranges -> the body of an RE2 character class: `\\x{41}-\\x{5A}\\x{5F}`."""
    return "".join(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}"
                   for lo, hi in ranges)


def python_class(ranges):
    """Ranges -> the body of a Python `re` character class (`\\U00000041-\\U0000005A`)."""
    return "".join(f"\\U{lo:08X}" if lo == hi else f"\\U{lo:08X}-\\U{hi:08X}"
                   for lo, hi in ranges)
