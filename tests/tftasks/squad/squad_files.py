"""Tiny SQuAD files and the tiny QA fixture for the squad tests.

Example:

    path = write_squad(tmp_path / "train.json", PARAGRAPHS)
"""

import json
import os

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "hf_bert_qa_tiny")
VOCAB = os.path.join(FIXTURE, "vocab.txt")

# (context, [(id, question, answer text)]): answers are found by their first occurrence.
PARAGRAPHS = [
    ("The cat sat on the mat in the house. The dog ran in the park with a red ball (the "
     "big one). Some children played music in the garden every morning.",
     [("q1", "Where did the cat sit?", "on the mat"),
      ("q2", "What did the dog run with?", "a red ball"),
      ("q3", "Who played music?", "Some children")]),
    ("Seven friends read books at school. Their teacher, Mr. Smith's brother, wrote "
     "three songs last year (a good year). The town has one green train.",
     [("q4", "How many songs?", "three"),
      ("q5", "When were the songs written?", "last year"),
      ("q6", "What color is the train?", "green")]),
]


def squad_json(paragraphs, version="1.1", impossible=()):
    """The SQuAD JSON object of `paragraphs`; ids in `impossible` get no answer (v2)."""
    out = []
    for context, questions in paragraphs:
        qas = []
        for qid, question, answer in questions:
            qa = {"id": qid, "question": question, "answers": []}
            if qid in impossible:
                qa["is_impossible"] = True
            else:
                qa["answers"] = [{"text": answer, "answer_start": context.index(answer)}]
                if version != "1.1":
                    qa["is_impossible"] = False
            qas.append(qa)
        out.append({"context": context, "qas": qas})
    return {"version": version, "data": [{"title": "tiny", "paragraphs": out}]}


def write_squad(path, paragraphs=PARAGRAPHS, **kwargs):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(squad_json(paragraphs, **kwargs), f)
    return str(path)
