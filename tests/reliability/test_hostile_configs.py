"""Hostile config values, property-based (hypothesis): a ConfigError naming the key.

`BertConfig` and `GPTConfig`, built in Python, from a dict or from a JSON
file, with negative, zero, huge, NaN, infinite and wrongly typed values. An
accepted config is valid, and a model of it either fits in memory or is
refused before any weight is allocated, with the bytes it would need.
"""

import dataclasses
import json
import math
import os
import re
import tempfile
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reliability.hostile import FAST, TRIED, report_tried
from tests.reliability.tiny_exports import BERT_CONFIG
from tfbert import BertClassifier, BertConfig, BertModel
from tfcore.config import ConfigError
from tfcore.modeling import check_fits_in_memory, memory_limit_bytes, weight_count
from tfgpt import GPTConfig, GPTLanguageModel


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    report_tried()


# ---------------------------------------------------------------- configs

HOSTILE_VALUES = st.one_of(
    st.integers(-5, 5), st.integers(-2 ** 70, 2 ** 70), st.floats(), st.text(max_size=6),
    st.none(), st.booleans(), st.lists(st.integers(), max_size=2),
    st.sampled_from([0, -1, 10 ** 30, float("nan"), float("inf"), -float("inf"), 1.5, "12",
                     "gelu", np.int64(8), np.float32(0.5)]))
TINY = {BertConfig: dict(BERT_CONFIG),
        GPTConfig: dict(vocab_size=40, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, max_position_embeddings=16)}
SIZE_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "intermediate_size", "max_position_embeddings", "type_vocab_size")


def _check_valid(config):
    """What every accepted config must satisfy."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name in SIZE_KEYS:
            assert type(value) is int and value > 0, (field.name, value)
        if isinstance(value, float):
            assert math.isfinite(value), (field.name, value)
    assert config.hidden_size % config.num_attention_heads == 0
    assert config.layer_norm_eps > 0 and config.initializer_range >= 0
    assert 0 <= config.hidden_dropout_prob < 1


@settings(FAST, max_examples=150)
@given(cls=st.sampled_from([BertConfig, GPTConfig]), data=st.data(),
       via=st.sampled_from(["init", "dict", "json"]))
def test_configs_refuse_bad_values_by_name(cls, data, via):
    names = [f.name for f in dataclasses.fields(cls)]
    changes = data.draw(st.dictionaries(st.sampled_from(names), HOSTILE_VALUES,
                                        min_size=1, max_size=3))
    values = dict(TINY[cls], **changes)
    try:
        if via == "init":
            config = cls(**values)
        elif via == "dict":
            config = cls.from_dict(values)
        else:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump({k: (v.item() if isinstance(v, np.generic) else v)
                           for k, v in values.items()}, f)
            try:
                config = cls.from_json_file(f.name)
            finally:
                os.remove(f.name)
    except ConfigError as e:  # a ValueError
        assert any(name in str(e) for name in changes), (changes, str(e))
        TRIED[f"{cls.__name__} values: refused"] += 1
        return
    _check_valid(config)
    try:  # Accepted: a model of it fits in memory, or is refused before allocation.
        check_fits_in_memory(config)
    except ConfigError as e:
        assert re.search(r"need at least [\d.,]+ [KMGTP]B \([\d,]+ bytes", str(e)), str(e)
    TRIED[f"{cls.__name__} values: accepted"] += 1


@pytest.mark.parametrize("make", [BertModel, BertClassifier, GPTLanguageModel])
def test_model_too_large_for_memory_is_refused_before_allocation(make):
    config_class = GPTConfig if make is GPTLanguageModel else BertConfig
    config = config_class(vocab_size=10 ** 9, hidden_size=10 ** 5, num_attention_heads=1)
    rss = lambda: int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read())[1])
    before, start = rss(), time.monotonic()
    with pytest.raises(ConfigError) as err:
        make(config)
    assert time.monotonic() - start < 1.0 and rss() - before < 50_000  # kB: nothing allocated
    needed = weight_count(config) * 4
    assert f"({needed:,} bytes" in str(err.value) and "TB" in str(err.value)
    assert needed > memory_limit_bytes()


@settings(FAST, max_examples=6)
@given(cls=st.sampled_from([BertModel, GPTLanguageModel]), vocab=st.integers(1, 80),
       heads=st.integers(1, 3), head_size=st.integers(1, 6), layers=st.integers(1, 2),
       inner=st.integers(1, 20), positions=st.integers(1, 20))
def test_memory_estimate_is_a_lower_bound(cls, vocab, heads, head_size, layers, inner,
                                          positions):
    values = dict(vocab_size=vocab, hidden_size=heads * head_size, num_hidden_layers=layers,
                  num_attention_heads=heads, intermediate_size=inner,
                  max_position_embeddings=positions)
    config = (GPTConfig if cls is GPTLanguageModel else BertConfig)(**values)
    assert weight_count(config) <= cls(config).count_params()
