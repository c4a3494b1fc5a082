"""Hostile flag values of run_classifier.py and run_pretraining.py (hypothesis).

Each drawn set holds 1-3 flags with values the script must refuse (out of
range, not a number, unknown enum, a second data source, a flag without its
companion): refused before any work, with a message naming one of them, not
a traceback. run_classifier runs in-process; run_pretraining in ONE
subprocess (its flags clash with run_classifier's in one process). A control
with no hostile value must reach the start of the work. A real command
line checks the exit status and stderr (run_classifier.py's:
tests/test_classifier_run_outputs.py). Non-finite and out-of-range floats are refused too.
"""

import json
import os
import subprocess
import sys
import textwrap
from unittest import mock

import pytest
from absl import app, flags
from absl.testing import flagsaver
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import run_classifier
import tftasks.classification.runner  # noqa: F401  (patched where work would start)
from tests.reliability.hostile import FAST, TRIED, report_tried
from tests.reliability.tiny_exports import BERT_CONFIG
from tests.testing import REPO_ROOT, write_vocab


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    report_tried()


# ---------------------------------------------------------------- flags

# (flag, hostile values): each must be refused before any work, naming the flag.
_NOT_INT = st.sampled_from(["abc", "1.5", "", "1e3", "0x", "nan", "--1"])
_NOT_POSITIVE = st.one_of(st.integers(-2 ** 40, 0), _NOT_INT)
_NOT_FLOAT = st.sampled_from(["abc", "", "1,5", "--"])
_NOT_ENUM = st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1,
                    max_size=8)
_COMMON_INTS = ("max_seq_length", "train_batch_size", "eval_batch_size",
                "save_checkpoints_steps", "steps_per_execution", "keep_checkpoint_max")
_COMMON_ENUMS = {"strategy": ["default", "one_device", "mirrored", "multi_worker", "tpu"],
                 "dtype": ["float32", "bfloat16", "float16"]}


def _enum_values(choices):
    return _NOT_ENUM.filter(lambda v: v not in choices)


CLASSIFIER_FLAGS = {
    **{name: _NOT_POSITIVE for name in _COMMON_INTS + ("predict_batch_size",)},
    **{name: _enum_values(c) for name, c in _COMMON_ENUMS.items()},
    "task_type": _enum_values(["classification", "regression", "multilabel"]),
    "pooling": _enum_values(["auto", "pooler", "mean"]),
    "learning_rate": st.one_of(st.floats(max_value=0), st.just(float("nan")), _NOT_FLOAT),
    "num_train_epochs": st.one_of(st.floats(max_value=0), st.just(float("nan")), _NOT_FLOAT),
    "warmup_proportion": st.one_of(st.floats(min_value=1.0, exclude_min=True),
                                   st.floats(max_value=0.0, exclude_max=True),
                                   st.just(float("nan"))),
    "weight_decay": st.one_of(st.floats(max_value=0.0, exclude_max=True),
                              st.just(float("nan"))),
    "max_train_rows": st.integers(-2 ** 40, -1),
    "label_separator": st.just(""),
    "task_name": st.text(st.characters(codec="ascii", categories=["L"]), min_size=1,
                         max_size=6).filter(lambda v: v.lower() not in (
                             "cola", "mnli", "mrpc", "xnli", "qnli", "qqp", "rte", "wnli")),
    "tfds_name": st.just("imdb_reviews"),  # a second data source
    "data_dir": st.just("."),  # without --task_name
}
CLASSIFIER_FLAGS["max_seq_length"] = st.one_of(_NOT_POSITIVE, st.integers(1, 2),
                                               st.integers(33, 2 ** 40))  # > 32 positions


def _argv(script, values):
    return [script] + [f"--{k}={v}" for k, v in values.items()]


@pytest.fixture(scope="module")
def classifier_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flags")
    (folder / "bert_config.json").write_text(json.dumps(BERT_CONFIG))
    (folder / "train.tsv").write_text("text\tlabel\ngood\tpos\nbad\tneg\n")
    return {"bert_config_file": str(folder / "bert_config.json"),
            "vocab_file": write_vocab(folder), "train_file": str(folder / "train.tsv"),
            "output_dir": str(folder / "out"), "do_train": "true", "max_seq_length": "16"}


class _Started(Exception):
    """Raised where the script would start its work: every check had passed."""


def _run_classifier_outcome(values):
    """`("refused", message)` or `("started", "")`: run_classifier's checks, in-process."""
    argv = _argv("run_classifier.py", values)
    with flagsaver.flagsaver(), mock.patch("tftasks.classification.runner.ClassifierSession",
                                           side_effect=_Started):
        try:
            flags.FLAGS(argv)
            run_classifier.run()
        except (flags.Error, app.UsageError) as e:
            return "refused", str(e)
        except _Started:
            return "started", ""
    raise AssertionError("unreachable: the session is patched")


def test_run_classifier_base_flags_start_work(classifier_files):
    """The control: without hostile values the checks pass (the refusals below mean something)."""
    assert _run_classifier_outcome(classifier_files) == ("started", "")


@settings(FAST, max_examples=60)
@given(hostile=st.dictionaries(st.sampled_from(sorted(CLASSIFIER_FLAGS)), st.none(),
                               min_size=1, max_size=3).flatmap(
    lambda keys: st.fixed_dictionaries({k: CLASSIFIER_FLAGS[k] for k in keys})))
def test_run_classifier_refuses_hostile_flags_by_name(classifier_files, hostile):
    outcome, message = _run_classifier_outcome(dict(classifier_files, **hostile))
    assert outcome == "refused", f"run_classifier.py accepted {hostile}"
    assert any(f"--{name}" in message for name in hostile), (hostile, message)
    assert not os.path.exists(classifier_files["output_dir"])
    TRIED["run_classifier.py flag sets (in-process)"] += 1


PRETRAINING_FLAGS = {
    **{name: _NOT_POSITIVE for name in _COMMON_INTS + (
        "max_predictions_per_seq", "num_train_steps", "grad_accum_steps")},
    **{name: _enum_values(c) for name, c in _COMMON_ENUMS.items()},
    "model": _enum_values(["bert", "gpt"]),
    "optimizer": _enum_values(["adamw", "lamb", "adam"]),
    "decay": _enum_values(["linear", "polynomial", "cosine", "constant"]),
    "learning_rate": st.one_of(st.floats(max_value=0), _NOT_FLOAT),
    "num_warmup_steps": st.one_of(st.integers(-2 ** 40, -1), st.integers(10 ** 6, 2 ** 40)),
    "max_predictions_per_seq": st.one_of(_NOT_POSITIVE, st.integers(129, 2 ** 40)),
    "seed": _NOT_INT,
    "deterministic": st.sampled_from(["maybe", "2", "yes please"]),
}

_PRETRAINING_DRIVER = textwrap.dedent("""
    import json, sys, traceback
    from absl import app, flags
    from absl.testing import flagsaver
    sys.path.insert(0, sys.argv[1])
    import run_pretraining
    import tfcore.experiment

    class Started(Exception):
        pass

    def started(*args, **kwargs):
        raise Started()

    tfcore.experiment.configure_runtime = started  # the first step of the work
    results = []
    for argv in json.load(open(sys.argv[2])):
        with flagsaver.flagsaver():
            try:
                flags.FLAGS(argv)
                run_pretraining.main([argv[0]])
                results.append(["finished", ""])
            except (flags.Error, app.UsageError) as e:
                results.append(["refused", str(e)])
            except SystemExit as e:
                results.append(["exit", str(e.code)])
            except Started:
                results.append(["started", ""])
            except Exception:
                results.append(["traceback", traceback.format_exc()])
    json.dump(results, open(sys.argv[3], "w"))
""")


def _draw(strategy, n):
    """n examples of a hypothesis strategy (for a batch that one subprocess runs)."""
    drawn = []

    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        drawn.append(value)

    collect()
    return drawn


# Non-finite and out-of-range floats: each script's config validation refuses them
# before any work (num_train_epochs=inf would otherwise reach int(inf)).
PRETRAINING_FLOATS = [("learning_rate", "nan"), ("learning_rate", "inf"), ("clip_norm", "-1"),
                    ("clip_norm", "nan"), ("weight_decay", "nan"), ("weight_decay", "-1"),
                    ("adam_beta1", "1.5"), ("adam_beta2", "nan"), ("end_learning_rate", "nan"),
                    ("decay_power", "-inf")]
CLASSIFIER_FLOATS = [("learning_rate", "inf"), ("num_train_epochs", "inf"), ("clip_norm", "-1"),
                   ("clip_norm", "nan"), ("weight_decay", "inf")]


@pytest.fixture(scope="module")
def pretraining_outcomes(classifier_files, tmp_path_factory):
    """Drawn hostile flag sets and the known gaps, through run_pretraining in ONE subprocess.

    (In-process, run_pretraining's flags would clash with run_classifier's.)
    """
    folder = tmp_path_factory.mktemp("pretraining_flags")
    base = {"input_file": str(folder / "none-*"), "do_train": "true",
            "bert_config_file": classifier_files["bert_config_file"],
            "output_dir": str(folder / "out")}
    hostile_sets = _draw(st.dictionaries(st.sampled_from(sorted(PRETRAINING_FLAGS)), st.none(),
                                         min_size=1, max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: PRETRAINING_FLAGS[k] for k in keys})), 60)
    gaps = [{name: value} for name, value in PRETRAINING_FLOATS]
    # The first is the control: without hostile values the checks pass.
    argvs = [_argv("run_pretraining.py", dict(base, **h)) for h in [{}] + hostile_sets + gaps]
    script, inputs, outputs = (folder / n for n in ("driver.py", "in.json", "out.json"))
    script.write_text(_PRETRAINING_DRIVER)
    inputs.write_text(json.dumps(argvs))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, str(script), REPO_ROOT, str(inputs), str(outputs)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    control, *outcomes = json.loads(outputs.read_text())
    assert control[0] == "started", control
    assert not os.path.exists(base["output_dir"])
    return (list(zip(hostile_sets, outcomes[:len(hostile_sets)])),
            list(zip(gaps, outcomes[len(hostile_sets):])))


def test_run_pretraining_refuses_hostile_flags_by_name(pretraining_outcomes):
    drawn, _ = pretraining_outcomes
    for hostile, (outcome, message) in drawn:
        assert outcome == "refused", (hostile, outcome, message[-2000:])
        assert any(f"--{name}" in message for name in hostile), (hostile, message)
    TRIED["run_pretraining.py flag sets (one subprocess)"] += len(drawn)


def test_run_pretraining_refuses_nonfinite_and_out_of_range_floats(pretraining_outcomes):
    _, gaps = pretraining_outcomes
    accepted = [hostile for hostile, (outcome, _) in gaps if outcome != "refused"]
    assert not accepted, f"accepted: {accepted}"


def test_run_classifier_refuses_nonfinite_and_out_of_range_floats(classifier_files):
    accepted = [{name: value} for name, value in CLASSIFIER_FLOATS
                if _run_classifier_outcome(dict(classifier_files, **{name: value}))[0]
                != "refused"]
    assert not accepted, f"accepted: {accepted}"


# run_classifier.py's command line (the script refuses --train_batch_size=0):
# tests/test_classifier_run_outputs.py::test_usage_error_is_one_line.
@pytest.mark.parametrize("script, flag_values, flag", [
    ("run_pretraining.py", {"dtype": "float8"}, "--dtype"),  # absl's parser refuses it
])
def test_command_line_usage_error_is_one_message_not_a_traceback(
        classifier_files, tmp_path, script, flag_values, flag):
    base = (dict(classifier_files, output_dir=str(tmp_path / "out"))
            if script == "run_classifier.py" else
            {"input_file": str(tmp_path / "x-*"), "do_train": "true",
             "bert_config_file": classifier_files["bert_config_file"],
             "output_dir": str(tmp_path / "out")})
    args = [sys.executable] + _argv(os.path.join(REPO_ROOT, script), dict(base, **flag_values))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=str(tmp_path),
                            timeout=120)
    assert result.returncode != 0
    assert flag in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert not os.path.exists(tmp_path / "out")
