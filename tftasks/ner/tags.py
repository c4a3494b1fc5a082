"""Entity tags (IOB1, IOB2, BIOES): parsing, scheme detection, chunks as conlleval finds them.

A tag is "O" or "<prefix>-<type>" with prefix B, I, E or S ("B-person").
Chunks follow conlleval's `startOfChunk`/`endOfChunk` rules, which read all
three schemes alike (seqeval's default mode does the same):

- a chunk starts at B- or S-, at I-/E- after O, E- or S- (a stray I- starts
  an entity, as in IOB1), and wherever the type changes;
- a chunk ends before O, B- or S-, after E- or S-, and where the type changes.

Example:

    chunks(["B-PER", "I-PER", "O", "I-LOC"])      # [("PER", 0, 1), ("LOC", 3, 3)]
    detect_scheme([["I-PER", "B-PER"]])          # "IOB1"
    to_iob2(["I-PER", "I-PER", "B-PER"])         # ["B-PER", "I-PER", "B-PER"]
"""

SCHEMES = ("IOB1", "IOB2", "BIOES")
PREFIXES = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES"}
OUTSIDE = "O"


def split_tag(tag):
    """`(prefix, type)`: ("O", "") for O; ValueError for anything else malformed."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, dash, kind = tag.partition("-")
    if not dash or prefix not in ("B", "I", "E", "S") or not kind:
        raise ValueError(f"tag {tag!r} is neither 'O' nor '<B|I|E|S>-<type>'")
    return prefix, kind


def detect_scheme(sequences):
    """"BIOES" if any E-/S- tag; "IOB1" if an I- follows O or another type; else "IOB2"."""
    scheme = "IOB2"
    for tags in sequences:
        previous = (OUTSIDE, "")
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix in "ES":
                return "BIOES"
            if prefix == "I" and (previous[0] == OUTSIDE or previous[1] != kind):
                scheme = "IOB1"
            previous = (prefix, kind)
    return scheme


def scheme_of_names(names):
    """The scheme a tag list (not a sequence) allows: "BIOES" with E-/S- tags, else "IOB2".

    IOB1 and IOB2 use the same tags; their chunks are read alike (see `chunks`).
    """
    return "BIOES" if any(split_tag(t)[0] in "ES" for t in names) else "IOB2"


def check_scheme(tag, scheme):
    """ValueError if `tag`'s prefix is not one of `scheme`'s."""
    prefix, _ = split_tag(tag)
    if prefix != OUTSIDE and prefix not in PREFIXES[scheme]:
        raise ValueError(f"tag {tag!r} is not an {scheme} tag (prefixes "
                         f"{'/'.join(PREFIXES[scheme])})")


def ends_chunk(previous, current):
    """conlleval's endOfChunk: does the chunk holding `previous` end before `current`?

    Both are `(prefix, type)` pairs.
    """
    (p, p_type), (c, c_type) = previous, current
    if p in "ES":
        return True
    if p in "BI":
        return c in ("B", "S", OUTSIDE) or c_type != p_type
    return False


def starts_chunk(previous, current):
    """conlleval's startOfChunk: does a chunk start at `current`?"""
    (p, p_type), (c, c_type) = previous, current
    if c in "BS":
        return True
    if c in "IE":
        return p in ("E", "S", OUTSIDE) or c_type != p_type
    return False


def chunks(tags):
    """`[(type, first, last)]` (inclusive word indices) of a tag sequence, in order."""
    found, start = [], None
    parts = [split_tag(t) for t in tags] + [(OUTSIDE, "")]
    previous = (OUTSIDE, "")
    for i, current in enumerate(parts):
        if start is not None and ends_chunk(previous, current):
            found.append((parts[start][1], start, i - 1))
            start = None
        if starts_chunk(previous, current):
            start = i
        previous = current
    return found


def to_iob2(tags):
    """The same chunks written in IOB2 (every chunk opens with B-)."""
    out = [OUTSIDE] * len(tags)
    for kind, first, last in chunks(tags):
        out[first] = f"B-{kind}"
        for i in range(first + 1, last + 1):
            out[i] = f"I-{kind}"
    return out
