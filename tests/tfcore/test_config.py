import dataclasses
import json
import os
from typing import Optional

import pytest
from absl import logging

from tfcore.config import ConfigError, JsonConfig


@dataclasses.dataclass(frozen=True)
class TinyConfig(JsonConfig):
    _ALIASES = {"n_layer": "num_layers"}
    vocab_size: int
    num_layers: int = 2
    dropout: float = 0.1
    act: str = "gelu"
    tied: bool = True
    note: Optional[str] = None


def write_json(tmp_path, values, name="config.json"):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        json.dump(values, f)
    return path


def test_round_trip_through_json_file(tmp_path):
    config = TinyConfig(vocab_size=10, num_layers=3, dropout=0.0, note="x")
    path = os.path.join(str(tmp_path), "c.json")
    config.to_json_file(path)
    assert TinyConfig.from_json_file(path) == config
    assert os.listdir(str(tmp_path)) == ["c.json"]  # no temporary left behind


def test_int_is_accepted_for_float_and_aliases_apply(tmp_path):
    config = TinyConfig.from_dict({"vocab_size": 5, "dropout": 0, "n_layer": 7})
    assert config.dropout == 0.0 and isinstance(config.dropout, float)
    assert config.num_layers == 7


def test_unknown_key_is_a_warning_not_an_error(tmp_path, caplog):
    path = write_json(tmp_path, {"vocab_size": 5, "pooler_type": "first_token_transform"})
    with caplog.at_level(logging.WARNING):
        config = TinyConfig.from_json_file(path)
    assert config.vocab_size == 5
    assert "pooler_type" in caplog.text and path in caplog.text


@pytest.mark.parametrize("values, key", [
    ({"vocab_size": "5"}, "vocab_size"),
    ({"vocab_size": 5, "num_layers": 2.5}, "num_layers"),
    ({"vocab_size": 5, "tied": 1}, "tied"),
    ({"vocab_size": True}, "vocab_size"),
    ({"vocab_size": 5, "act": 3}, "act"),
])
def test_wrong_type_names_key_and_file(tmp_path, values, key):
    path = write_json(tmp_path, values)
    with pytest.raises(ConfigError) as err:
        TinyConfig.from_json_file(path)
    assert f"'{key}'" in str(err.value) and path in str(err.value)


def test_missing_required_key_names_key_and_file(tmp_path):
    path = write_json(tmp_path, {"num_layers": 2})
    with pytest.raises(ConfigError, match="vocab_size") as err:
        TinyConfig.from_json_file(path)
    assert path in str(err.value)


def test_missing_file_and_bad_json_name_the_file(tmp_path):
    missing = os.path.join(str(tmp_path), "nope.json")
    with pytest.raises(ConfigError, match="nope.json"):
        TinyConfig.from_json_file(missing)
    path = os.path.join(str(tmp_path), "bad.json")
    with open(path, "w") as f:
        f.write("{not json")
    with pytest.raises(ConfigError, match="bad.json"):
        TinyConfig.from_json_file(path)
