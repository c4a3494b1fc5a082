"""The clients users point at our SavedModels, each run in a fresh process.

- `compare_loaders(path, requests)`: every request through `tf.saved_model.load`
  and through a session-based loader (restore op + init op, then the signature
  tensors, as TF Serving's C++ `LoadSavedModel` loads), in a process that imports
  only tensorflow and tensorflow_text. Returns, per signature, the max abs
  difference of numeric outputs and whether string outputs are identical.
  `compare_loaders_of({path: requests})` does several SavedModels in ONE such
  process (each fresh process pays ~5 s of TensorFlow import).
- `saved_model_cli_run(path, signature, input_exprs)`: TensorFlow's
  `saved_model_cli run` with the tensorflow_text ops registered.
  `saved_model_cli_runs([(path, signature, input_exprs)])`: the same command
  line for each, one after the other in ONE process (`saved_model_cli.main()`
  with that `sys.argv`).

Example:

    assert_loaders_agree_of({"out/saved_model": {"serving_default": {"text": ["hi"]}}})
    for out in saved_model_cli_runs([("out/saved_model", "serving_default", "text=['hi']")]):
        assert "Result for output key" in out

`requests` maps a signature name to `{input name: JSON-able value}`; values are
converted to the dtype the signature declares.
"""

import json
import os
import subprocess
import sys
import textwrap

_COMPARE = textwrap.dedent(r'''
    import json, sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

    exports = json.loads(sys.argv[1])  # {path: {signature: {input: value}}}
    assert sorted(m for m in sys.modules if m.split(".")[0] in
                  ("tfbert", "tfgpt", "tfcore", "tfrecords", "tfseq2seq", "tftasks")
                  ) == [], "imported ours"

    def as_inputs(spec_of, values):
        return {k: np.asarray(v, dtype=spec_of[k]) for k, v in values.items()}

    def compare(path, requests):
        print(f"comparing the loaders on {path}", file=sys.stderr, flush=True)
        eager, session = {}, {}
        loaded = tf.saved_model.load(path)
        for name, values in requests.items():
            fn = loaded.signatures[name]
            specs = fn.structured_input_signature[1]
            dtypes = {k: s.dtype.as_numpy_dtype if s.dtype != tf.string else object
                      for k, s in specs.items()}
            out = fn(**{k: tf.constant(v) for k, v in as_inputs(dtypes, values).items()})
            eager[name] = {k: v.numpy() for k, v in out.items()}

        graph = tf.Graph()
        with tf.compat.v1.Session(graph=graph) as sess:
            meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            for name, values in requests.items():
                sig = meta.signature_def[name]
                dtypes = {k: tf.as_dtype(t.dtype).as_numpy_dtype if t.dtype != 7 else object
                          for k, t in sig.inputs.items()}
                feeds = {sig.inputs[k].name: v for k, v in as_inputs(dtypes, values).items()}
                session[name] = sess.run({k: t.name for k, t in sig.outputs.items()}, feeds)

        report = {}
        for name in requests:
            a, b = eager[name], session[name]
            assert sorted(a) == sorted(b), (name, sorted(a), sorted(b))
            diffs, strings_equal = {}, True
            for key in a:
                x, y = np.asarray(a[key]), np.asarray(b[key])
                assert x.shape == y.shape, (name, key, x.shape, y.shape)
                if x.dtype.kind in "OSU":
                    strings_equal &= x.tolist() == y.tolist()
                else:
                    diffs[key] = (float(np.max(np.abs(x.astype(np.float64) - y)))
                                  if x.size else 0.0)
            report[name] = {"max_abs_diff": diffs, "strings_equal": strings_equal,
                            "outputs": sorted(a)}
        return report

    print("REPORT " + json.dumps({path: compare(path, requests)
                                  for path, requests in exports.items()}))
''')

_SAVED_MODEL_CLI = ("import sys, tensorflow_text\n"
                    "from tensorflow.python.tools import saved_model_cli\n"
                    "sys.argv[0] = 'saved_model_cli'\n"
                    "saved_model_cli.main()\n")

# The same command lines one after the other in one process: `main()` parses
# `sys.argv` anew each time and ends with SystemExit (code None or 0: success).
_SAVED_MODEL_CLI_RUNS = textwrap.dedent(r'''
    import contextlib, io, json, sys, traceback
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    from tensorflow.python.tools import saved_model_cli

    answers = []
    for path, signature, exprs in json.loads(sys.argv[1]):
        sys.argv = ["saved_model_cli", "run", "--dir", path, "--tag_set", "serve",
                    "--signature_def", signature, "--input_exprs", exprs]
        stdout, error = io.StringIO(), None
        with contextlib.redirect_stdout(stdout):
            try:
                saved_model_cli.main()
            except SystemExit as exit:
                if exit.code not in (None, 0):
                    error = f"exit code {exit.code}"
            except Exception:
                error = traceback.format_exc()
        answers.append({"argv": sys.argv, "stdout": stdout.getvalue(), "error": error})
    print("ANSWERS " + json.dumps(answers))
''')


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # the fresh process sees only installed packages
    return env


def _common_folder(paths):
    return os.path.commonpath([os.path.dirname(os.path.abspath(str(p))) for p in paths])


def compare_loaders_of(exports, timeout=600):
    """`{path: compare_loaders(path, requests)}` for `{path: requests}`, in one fresh process."""
    exports = {str(path): requests for path, requests in exports.items()}
    result = subprocess.run([sys.executable, "-c", _COMPARE, json.dumps(exports)],
                            capture_output=True, text=True, timeout=timeout, env=_env(),
                            cwd=_common_folder(exports))
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, result.stderr[-4000:]
    return json.loads(lines[-1][len("REPORT "):])


def compare_loaders(path, requests, timeout=600):
    """`{signature: {"max_abs_diff": {output: float}, "strings_equal": bool, "outputs": [...]}}`."""
    return compare_loaders_of({path: requests}, timeout)[str(path)]


def saved_model_cli_runs(requests, timeout=600):
    """stdout of `saved_model_cli run --dir PATH --tag_set serve ...` for each
    `(path, signature, input_exprs)`, run one after the other in one fresh process."""
    requests = [[str(path), signature, exprs] for path, signature, exprs in requests]
    result = subprocess.run([sys.executable, "-c", _SAVED_MODEL_CLI_RUNS, json.dumps(requests)],
                            capture_output=True, text=True, timeout=timeout, env=_env(),
                            cwd=_common_folder([path for path, _, _ in requests]))
    lines = [line for line in result.stdout.splitlines() if line.startswith("ANSWERS ")]
    assert result.returncode == 0 and lines, result.stderr[-4000:]
    answers = json.loads(lines[-1][len("ANSWERS "):])
    failed = [(a["argv"], a["error"][-2000:]) for a in answers if a["error"]]
    assert not failed, (failed, result.stderr[-2000:])
    return [a["stdout"] for a in answers]


def saved_model_cli_run(path, signature, input_exprs, timeout=600):
    """Runs `saved_model_cli run --dir PATH --tag_set serve ...`; returns its stdout."""
    args = [sys.executable, "-c", _SAVED_MODEL_CLI, "run", "--dir", str(path), "--tag_set",
            "serve", "--signature_def", signature, "--input_exprs", input_exprs]
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=_env(),
                            cwd=os.path.dirname(os.path.abspath(path)))
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def assert_agree(report, atol=1e-6):
    """A `compare_loaders` report: numeric outputs within `atol`, strings identical."""
    for name, entry in report.items():
        worst = max(entry["max_abs_diff"].values(), default=0.0)
        assert worst <= atol and entry["strings_equal"], (name, entry)


def assert_loaders_agree(path, requests, atol=1e-6):
    """`compare_loaders` with every numeric output within `atol` and strings identical."""
    report = compare_loaders(path, requests)
    assert_agree(report, atol)
    return report


def assert_loaders_agree_of(exports, atol=1e-6):
    """`assert_loaders_agree` for each of `{path: requests}`, in one fresh process."""
    reports = compare_loaders_of(exports)
    for path, report in reports.items():
        try:
            assert_agree(report, atol)
        except AssertionError as error:
            raise AssertionError(f"{path}: {error}") from None
    return reports
