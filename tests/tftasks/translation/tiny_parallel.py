"""A tiny generated German-English corpus and a SentencePiece model trained on it (tests only).

Example:

    pairs = tiny_pairs()                               # 240 (German, English) pairs
    model_file = tiny_sentencepiece(tmp_path)          # joint unigram model, < 1 s
"""

import itertools
import os

from tftasks.translation.vocab import train_sentencepiece

_SUBJECTS = [("Ein Mann", "A man"), ("Eine Frau", "A woman"), ("Zwei Mädchen", "Two girls"),
             ("Ein älterer Herr", "An older gentleman"), ("Drei Jungen", "Three boys"),
             ("Ein Hund", "A dog")]
_VERBS = [("läuft über", "walks across"), ("fährt durch", "rides through"),
          ("sitzt auf", "sits on"), ("schaut über", "looks over")]
_OBJECTS = [("die Straße", "the street"), ("einen grünen Rasen", "a green lawn"),
            ("das Wasser", "the water"), ("eine große Brücke", "a big bridge"),
            ("den Schnee", "the snow")]
_ENDINGS = [(".", "."), (", während es regnet.", ", while it rains.")]


def tiny_pairs():
    """240 distinct (German, English) sentence pairs, fixed order."""
    return [(f"{s[0]} {v[0]} {o[0]}{e[0]}", f"{s[1]} {v[1]} {o[1]}{e[1]}")
            for s, v, o, e in itertools.product(_SUBJECTS, _VERBS, _OBJECTS, _ENDINGS)]


def tiny_sentencepiece(folder, vocab_size=120, **options):
    """A joint unigram model of `tiny_pairs()` (pad 0, eos 1, unk 2) -> its path."""
    texts = [text for pair in tiny_pairs() for text in pair]
    return train_sentencepiece(texts, os.path.join(folder, "spm.model"), vocab_size=vocab_size,
                               hard_vocab_limit=False, **options)
