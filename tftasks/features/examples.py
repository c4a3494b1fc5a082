"""Google's extract_features.py input: lines -> examples -> packed token features.

Each line is one example: `text_a`, or `text_a ||| text_b` (split at the
last " ||| ", spaces required, as Google's pattern does). Lines end at "\n"
only; each is stripped; an empty line is an example with no text tokens
([CLS] [SEP]), as in Google's script. Packing is Google's: `[CLS] a [SEP]`
or `[CLS] a [SEP] b [SEP]`, segment ids 0 then 1, and truncation to
`max_seq_length` by dropping the last token of the longer text (of b on a
tie) for a pair, or the tail of a single text.

Example:

    examples = read_examples("input.txt")     # [Example(0, "Who?", None), ...]
    encoder = WordPieceEncoder("vocab.txt", do_lower_case=True)
    features = pack_examples(examples, encoder, max_seq_length=128)
    features[0].tokens                        # ["[CLS]", "who", "?", "[SEP]"]
"""

import dataclasses
import re
from typing import List, Optional

from tftasks.common.errors import DataError

PAIR_PATTERN = re.compile(r"^(.*) \|\|\| (.*)$")  # Google's `text_a ||| text_b`


@dataclasses.dataclass(frozen=True)
class Example:
    """One input line: `unique_id` (0-based line number: Google's `linex_index`)."""

    unique_id: int
    text_a: str
    text_b: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Feature:
    """An example packed: `tokens` (wordpiece strings), `input_ids`, `segment_ids` (same length)."""

    unique_id: int
    tokens: List[str]
    input_ids: List[int]
    segment_ids: List[int]
    truncated: bool


def parse_line(unique_id, line):
    """One stripped line -> `Example` (a pair when it holds " ||| ")."""
    match = PAIR_PATTERN.match(line)
    if match:
        return Example(unique_id, match.group(1), match.group(2))
    return Example(unique_id, line)


def read_examples(path):
    """The `Example`s of `path`, one per line; `DataError` naming the line for bad UTF-8."""
    examples = []
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(f"--input_file={path} line {number + 1}: not UTF-8 "
                                    f"(byte {e.start}: {raw[e.start:e.start + 1]!r}).") from None
                examples.append(parse_line(number, line.strip()))
    except OSError as e:
        raise DataError(f"--input_file={path}: {e.strerror or e}.") from None
    return examples


def truncate_pair(a, b, max_total):
    """Drops the last piece of the longer list (of `b` on a tie) until both fit `max_total`."""
    a, b = list(a), list(b)
    while len(a) + len(b) > max_total:
        (a if len(a) > len(b) else b).pop()
    return a, b


def pack(unique_id, ids_a, ids_b, encoder, max_seq_length):
    """`[CLS] a [SEP] (b [SEP])` as a `Feature`, truncated as Google's script does."""
    if ids_b is None:
        kept_a, kept_b = list(ids_a[:max_seq_length - 2]), []
        truncated = len(kept_a) < len(ids_a)
    else:
        kept_a, kept_b = truncate_pair(ids_a, ids_b, max_seq_length - 3)
        truncated = len(kept_a) + len(kept_b) < len(ids_a) + len(ids_b)
    ids = [encoder.cls_id, *kept_a, encoder.sep_id]
    segments = [0] * len(ids)
    if ids_b is not None:
        ids += [*kept_b, encoder.sep_id]
        segments += [1] * (len(kept_b) + 1)
    tokens = [encoder.vocab[i] for i in ids]
    return Feature(unique_id, tokens, ids, segments, truncated)


def split(flat, lengths):
    """Flat ids and per-text lengths -> a list of lists."""
    out, start = [], 0
    for length in lengths.tolist():
        out.append(flat[start:start + length].tolist())
        start += length
    return out


def pack_examples(examples, encoder, max_seq_length):
    """`Example`s -> `Feature`s with a `tfcore.text.wordpiece.WordPieceEncoder`."""
    ids_a = split(*encoder.encode([e.text_a for e in examples]))
    pairs = [e for e in examples if e.text_b is not None]
    ids_b = iter(split(*encoder.encode([e.text_b for e in pairs])))
    return [pack(e.unique_id, a, next(ids_b) if e.text_b is not None else None, encoder,
                 max_seq_length)
            for e, a in zip(examples, ids_a)]
