"""SQuAD JSON (v1.1 and v2.0) -> paragraphs and questions, as Google's run_squad.py reads it.

A context is split into words on white space (space, tab, CR, LF and
U+202F, Google's `is_whitespace`); `char_to_word[i]` is the word of
character i (the previous word for white space). A training answer's
character offset becomes word positions; an answer whose words do not
contain its text (odd Unicode) is skipped with a warning, as Google does. A
training question with several answers uses the first (Google refuses it).
v2.0's `is_impossible` questions have no answer. Files may be gzip (.gz).

Errors name the file and the question id (or the article and paragraph).

Example:

    data = read_squad_file("dev-v1.1.json", is_training=False)
    data.questions[0].qas_id, data.questions[0].answers        # all reference texts
    data.paragraphs[data.questions[0].paragraph].doc_tokens
"""

import dataclasses
import gzip
import json
import re
from typing import List, Optional

import numpy as np
from absl import logging

from tftasks.common.errors import DataError

# Google's run_squad.py `is_whitespace`: the characters that separate words of a context.
WHITESPACE = " \t\r\n\u202f"
_WORD = re.compile(f"[^{WHITESPACE}]+")


@dataclasses.dataclass
class Paragraph:
    """A context, its white-space words and the word of each character."""

    context: str
    doc_tokens: List[str]
    char_to_word: np.ndarray


@dataclasses.dataclass
class Question:
    """One question; positions are word indices into its paragraph's `doc_tokens`."""

    qas_id: str
    question: str
    paragraph: int
    answers: List[str]                   # every reference text (evaluation)
    answer_text: Optional[str] = None    # the training answer
    start_word: int = -1
    end_word: int = -1
    is_impossible: bool = False


@dataclasses.dataclass
class SquadData:
    """The paragraphs and questions of one file; `has_answers`: any reference answers."""

    source: str
    paragraphs: List[Paragraph]
    questions: List[Question]
    skipped: int = 0

    @property
    def has_answers(self):
        return any(q.answers or q.is_impossible for q in self.questions)


def split_words(context):
    """`(doc_tokens, char_to_word)` of a context (Google's white-space words).

    `char_to_word`: int `[len(context)]`, the word of each character (-1 before the first).
    """
    matches = list(_WORD.finditer(context))
    starts = np.array([m.start() for m in matches], np.int64)
    char_to_word = np.searchsorted(starts, np.arange(len(context)), side="right") - 1
    return [m.group() for m in matches], char_to_word


def _load(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: not a readable SQuAD JSON file ({e}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DataError(f"{path}: expected a JSON object with a \"data\" list (SQuAD format).")
    return document["data"]


def _answer_words(path, qa, paragraph, answer):
    """(start_word, end_word) of a training answer, or None when its text is not there."""
    text, start = answer.get("text"), answer.get("answer_start")
    where = f"{path}: question {qa.get('id')!r}"
    if not isinstance(text, str) or not isinstance(start, int):
        raise DataError(f"{where}: an answer needs \"text\" (str) and \"answer_start\" (int).")
    end = start + len(text) - 1
    if not text or start < 0 or end >= len(paragraph.char_to_word):
        raise DataError(f"{where}: answer_start {start} with text {text!r} is outside its "
                        f"context ({len(paragraph.context)} characters).")
    start_word, end_word = int(paragraph.char_to_word[start]), int(paragraph.char_to_word[end])
    actual = " ".join(paragraph.doc_tokens[start_word:end_word + 1])
    if " ".join(text.split()) not in actual:
        logging.warning("%s: could not find the answer %r in %r; question skipped.",
                        where, text, actual)
        return None
    return start_word, end_word


def read_squad_file(path, is_training, version_2_with_negative=False, max_questions=0):
    """Reads a SQuAD file; `max_questions` > 0 keeps the first ones (in file order)."""
    paragraphs, questions, skipped = [], [], 0
    for a, article in enumerate(_load(path)):
        if max_questions and len(questions) >= max_questions:
            break
        for p, entry in enumerate(article.get("paragraphs") or []):
            if max_questions and len(questions) >= max_questions:
                break
            if not isinstance(entry.get("context"), str) or not isinstance(entry.get("qas"), list):
                raise DataError(f"{path}: article {a} paragraph {p} needs \"context\" (str) "
                                "and \"qas\" (list).")
            words, char_to_word = split_words(entry["context"])
            paragraph = Paragraph(entry["context"], words, char_to_word)
            used = False
            for qa in entry["qas"]:
                if max_questions and len(questions) >= max_questions:
                    break
                question = _question(path, qa, paragraph, len(paragraphs), is_training,
                                     version_2_with_negative)
                if question is None:
                    skipped += 1
                    continue
                questions.append(question)
                used = True
            if used:
                paragraphs.append(paragraph)
    if not questions:
        raise DataError(f"{path}: no questions.")
    return SquadData(path, paragraphs, questions, skipped)


def _question(path, qa, paragraph, paragraph_index, is_training, version_2):
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or "id" not in qa:
        raise DataError(f"{path}: question {qa.get('id') if isinstance(qa, dict) else qa!r}: "
                        "needs \"id\" and \"question\" (str).")
    answers = qa.get("answers") or []
    if not isinstance(answers, list):
        raise DataError(f"{path}: question {qa['id']!r}: \"answers\" must be a list.")
    impossible = bool(qa.get("is_impossible", False)) if version_2 else False
    texts = [a.get("text", "") for a in answers if isinstance(a, dict)]
    question = Question(str(qa["id"]), qa["question"], paragraph_index, texts,
                        is_impossible=impossible)
    if not is_training or impossible:
        return question
    if not answers:
        hint = "" if version_2 else " (SQuAD 2.0 unanswerable questions need --version_2_with_negative)"
        raise DataError(f"{path}: question {qa['id']!r} has no answer{hint}.")
    span = _answer_words(path, qa, paragraph, answers[0])
    if span is None:
        return None
    question.answer_text = answers[0]["text"]
    question.start_word, question.end_word = span
    return question
