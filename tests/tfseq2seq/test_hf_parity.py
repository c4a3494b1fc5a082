"""Marian and T5 folders saved by transformers: our outputs equal PyTorch's (tests/fixtures).

References come from `tests/fixtures/make_seq2seq_fixtures.py` run with torch
+ transformers: encoder output and teacher-forced logits within 1e-4, greedy
and beam-4 `generate` token for token on 32 sources of mixed lengths.
"""

import json
import os

import numpy as np
import pytest

from tfseq2seq.model import Seq2SeqModel

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
# Marian's generation config: the pad id is never generated, the last step is the end token.
GENERATION = {"hf_marian_tiny": dict(suppress_token_ids=None, force_eos_at_max_length=True),
              "hf_t5_tiny": dict(suppress_token_ids=(), force_eos_at_max_length=False)}


@pytest.fixture(scope="module", params=sorted(GENERATION))
def loaded(request):
    folder = os.path.join(FIXTURES, request.param)
    with open(os.path.join(folder, "reference.json")) as f:
        settings = json.load(f)
    return (request.param, Seq2SeqModel.from_pretrained(folder),
            np.load(os.path.join(folder, "reference.npz")), settings)


def _until_end(row, eos):
    row = list(row)
    return row[:row.index(eos) + 1] if eos in row else row


def test_encoder_output_and_logits_match_pytorch(loaded):
    _, model, ref, _ = loaded
    encoded, mask = model.encode(ref["source_ids"])
    real = ref["source_ids"] != model.config.pad_token_id
    diff = np.abs(encoded.numpy() - ref["encoder_output"])[real]
    assert diff.max() <= 1e-4, diff.max()
    logits = model.decode(ref["decoder_inputs"], encoded, mask).numpy()
    assert np.abs(logits - ref["logits"]).max() <= 1e-4


@pytest.mark.parametrize("beams,key", [(1, "greedy"), (4, "beam4")])
def test_generate_matches_transformers_token_for_token(loaded, beams, key):
    name, model, ref, settings = loaded
    eos = model.config.eos_token_id
    ours = model.generate(ref["source_ids"], max_new_tokens=settings["max_new_tokens"],
                          num_beams=beams, length_penalty=settings["generation"]["length_penalty"],
                          early_stopping=settings["generation"]["early_stopping"],
                          **GENERATION[name]).numpy()
    for row, (mine, theirs) in enumerate(zip(ours, ref[key])):
        expected = _until_end(theirs, eos)
        assert _until_end(mine, eos) == expected, (name, key, row)
        assert all(t == model.config.pad_token_id for t in mine[len(expected):])
