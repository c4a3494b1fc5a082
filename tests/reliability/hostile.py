"""Hypothesis strategies of hostile input, shared by the reliability tests.

Text reaches every Unicode plane, control and format characters, combining
marks, private use, unassigned code points, special-token strings and
strings of up to ~60k characters; bytes add invalid UTF-8. Surrogates are
left out: they have no UTF-8 encoding, so no client can send them.

`TRIED` counts the inputs each target was given; `report_tried()` prints it
(run pytest with `-s` to see it).
"""

import collections
import json

import tensorflow as tf
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.tfgpt.gpt_testing import EOT

FAST = settings(deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
TRIED = collections.Counter()  # inputs given to each target

# ---------------------------------------------------------------- strategies

# Every plane; no surrogates (they cannot be UTF-8, so no client can send them).
ANY_CHAR = st.characters(codec="utf-8")
ODD_CHAR = st.characters(categories=["Cc", "Cf", "Co", "Mn", "Me", "Zs", "Zl", "Zp", "Cn"],
                         codec="utf-8")
SPECIAL = st.sampled_from([
    "\x00", "\u0301", "e\u0301", "A\u030a\u0323", "\u200b", "\u200d", "\ufeff", "\ufffd",
    "\U0010ffff", "\U000e0001", "\u202e", "\r\n", "\t", "\u2028", "[CLS]", "[MASK]", "##",
    EOT, EOT * 3, "<|endoftext", "中文字", "Ǆ", "ﬁ", "İ", "ς", "ß", "😀👍🏽", "🏳️\u200d🌈",
    "  \n\n  ", "'s'll 've", "a" * 150, "\u0300" * 200])


def texts(max_size=48):
    """Hostile str: odd pieces joined, or one piece repeated into up to ~60k chars."""
    piece = st.one_of(st.text(ANY_CHAR, max_size=max_size), st.text(ODD_CHAR, max_size=12),
                      SPECIAL)
    joined = st.lists(piece, max_size=5).map("".join)
    long = st.tuples(st.text(ANY_CHAR, min_size=1, max_size=12),
                     st.integers(200, 5000)).map(lambda t: t[0] * t[1])
    return st.one_of(joined, joined, joined, long)


def raw_bytes():
    """Bytes that are mostly not UTF-8: random, or valid text with stray bytes inside."""
    return st.one_of(
        st.binary(max_size=64),
        st.tuples(texts(16), st.binary(min_size=1, max_size=6), texts(16)).map(
            lambda t: t[0].encode() + t[1] + t[2].encode()),
        st.sampled_from([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                         b"\xc0\xaf", b"\xe0a", b"\xf0\x9f\x98"]))


def payloads():
    """What a client may send as one tf.string: text or arbitrary bytes."""
    return st.one_of(texts().map(str.encode), raw_bytes())


def batches(max_size=4, min_size=0):
    return st.lists(payloads(), min_size=min_size, max_size=max_size)


def python_text(payload):
    """What the in-graph U+FFFD replacement must give: Python's `decode(errors="replace")`."""
    return payload.decode("utf-8", errors="replace")


def as_tensor(batch):
    return tf.constant(batch, tf.string, shape=[len(batch)])



def report_tried():
    print("\nhostile inputs tried per target: " + json.dumps(dict(sorted(TRIED.items()))))
