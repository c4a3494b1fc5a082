"""Tiny vocabularies and generated corpora for the tfrecords tests (no shared data)."""

import os
import random

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]"]
WORDS = ("the a an of to and in is was it he she they we you this that with for on at by "
         "from as be had have has not but or are were his her their one two three new old "
         "city river house story film song game team war year day time man woman world "
         "king queen road music play walk talk jump open close help work").split()
SUFFIXES = ["##s", "##ing", "##ed", "##ly", "##er"]
PUNCTUATION = list(".,;:!?'\"()-")


def write_vocab(folder, name="vocab.txt"):
    """A small English WordPiece vocab.txt: specials, punctuation, words, `##` suffixes."""
    path = os.path.join(str(folder), name)
    tokens = SPECIALS + PUNCTUATION + WORDS + SUFFIXES
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    return path


def sentence(rng, min_words=3, max_words=14):
    """A random sentence of vocabulary words, some with suffixes (several pieces)."""
    words = []
    for _ in range(rng.randint(min_words, max_words)):
        word = rng.choice(WORDS)
        if rng.random() < 0.25:
            word += rng.choice(SUFFIXES)[2:]
        words.append(word)
    return " ".join(words).capitalize() + " ."


def corpus_text(num_docs, seed=0, min_sentences=1, max_sentences=12):
    """Google's format: one sentence a line, a blank line between documents."""
    rng = random.Random(seed)
    docs = ["\n".join(sentence(rng) for _ in range(rng.randint(min_sentences, max_sentences)))
            for _ in range(num_docs)]
    return "\n\n".join(docs) + "\n"


def write_corpus(folder, name="corpus.txt", num_docs=40, seed=0, **kwargs):
    path = os.path.join(str(folder), name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(corpus_text(num_docs, seed, **kwargs))
    return path
