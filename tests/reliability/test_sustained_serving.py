"""Sustained serving: 8 client threads, 2,000 requests to each of two SavedModels.

ONE subprocess imports only tensorflow and tensorflow_text and holds
`tf.saved_model.load` of a tiny text classifier (`ClassifierExport`) and of
the GPT generator (`GeneratorExport`: BPE tokenizer, top-k sampling, fixed
seeds, 1-3 new tokens). The requests mix batch sizes and texts (hostile ones
included: invalid UTF-8, empty, long). Every answer must equal the
single-threaded answer to the same request (bit for bit), and the process's
RSS (`VmRSS` of /proc/self/status) must grow by less than 50 MB from the end
of the warm-up to the end. The figures are printed (`pytest -s`) so they can
be quoted.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.reliability.tiny_exports import shared_export

THREADS = 8
REQUESTS_PER_MODEL = 2000
MAX_RSS_GROWTH_MB = 50

_SERVER = textwrap.dedent(r'''
    import json, random, re, sys, time
    from concurrent.futures import ThreadPoolExecutor
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the export's tokenizer ops)

    classifier_dir, generator_dir, out_path, threads, per_model = sys.argv[1:6]
    threads, per_model = int(threads), int(per_model)

    def status_kb(field):
        return int(re.search(field + r":\s+(\d+)", open("/proc/self/status").read())[1])

    classify = tf.saved_model.load(classifier_dir).signatures["serving_default"]
    generate = tf.saved_model.load(generator_dir).signatures["serving_default"]
    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "good", "bad", "movie", "world", "hello"]

    def text():
        kind = rng.random()
        if kind < 0.7:
            return " ".join(rng.choice(words) for _ in range(rng.randint(0, 12))).encode()
        if kind < 0.8:
            return bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))  # not UTF-8
        if kind < 0.9:
            return "".join(chr(rng.choice([rng.randrange(32, 0xD800),
                                           rng.randrange(0xE000, 0x110000)]))
                           for _ in range(rng.randint(1, 30))).encode()
        return ("good " * rng.randint(50, 400)).encode()  # longer than the window

    classifier_requests = [[text() for _ in range(rng.randint(1, 8))] for _ in range(50)]
    generator_requests = [([text() for _ in range(rng.randint(1, 3))], rng.randint(1, 3),
                           rng.choice([0.0, 0.7, 1.0]), rng.randrange(2 ** 31))
                          for _ in range(50)]

    def serve(request):
        model, i = request
        if model == "classifier":
            out = classify(text_a=tf.constant(classifier_requests[i]))
            return out["probabilities"].numpy().tobytes() + b"|" + b",".join(
                out["label"].numpy().tolist())
        prompts, new, temperature, seed = generator_requests[i]
        out = generate(prompt=tf.constant(prompts), max_new_tokens=tf.constant(new),
                       temperature=tf.constant(temperature), seed=tf.constant(seed))
        return b"\0".join(out["text"].numpy().tolist()) + out["new_tokens"].numpy().tobytes()

    # Single-threaded answers: the reference, and the first warm-up.
    expected = {(m, i): serve((m, i)) for m, n in (("classifier", len(classifier_requests)),
                                                   ("generator", len(generator_requests)))
                for i in range(n)}
    requests = [(m, i % 50) for m in ("classifier", "generator") for i in range(per_model)]
    rng.shuffle(requests)
    mismatches, rss_samples = [], []

    def run(batch):
        with ThreadPoolExecutor(threads) as pool:
            for request, answer in zip(batch, pool.map(serve, batch)):
                if answer != expected[request]:
                    mismatches.append(request)

    run(requests[:200])  # concurrent warm-up (not counted)
    mismatches.clear()
    baseline, started = status_kb("VmRSS"), time.monotonic()
    for start in range(0, len(requests), 250):
        run(requests[start:start + 250])
        rss_samples.append(status_kb("VmRSS"))
    seconds = time.monotonic() - started
    forbidden = [m for m in ("tfbert", "tfgpt", "tfcore", "tfrecords", "keras_hub")
                 if m in sys.modules]
    json.dump({"threads": threads, "requests": {m: sum(r[0] == m for r in requests)
                                                 for m in ("classifier", "generator")},
               "mismatches": len(mismatches), "seconds": round(seconds, 1),
               "requests_per_second": round(len(requests) / seconds, 1),
               "rss_mb_after_warmup": round(baseline / 1024, 1),
               "rss_mb_end": round(rss_samples[-1] / 1024, 1),
               "rss_growth_mb": round((rss_samples[-1] - baseline) / 1024, 1),
               "rss_samples_mb": [round(s / 1024, 1) for s in rss_samples],
               "peak_rss_mb": round(status_kb("VmHWM") / 1024, 1),
               "forbidden_modules": forbidden}, open(out_path, "w"))
''')


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return (shared_export("classifier", tmp_path_factory),
            shared_export("generator", tmp_path_factory))


def test_concurrent_requests_give_single_threaded_answers_without_growing(exports, tmp_path):
    script, report = tmp_path / "server.py", tmp_path / "report.json"
    script.write_text(_SERVER)
    # Only tensorflow and tensorflow_text: the repository is not on the path.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    result = subprocess.run([sys.executable, str(script), *exports, str(report), str(THREADS),
                             str(REQUESTS_PER_MODEL)], capture_output=True, text=True,
                            env=env, cwd=str(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(report.read_text())
    print("\nsustained serving: " + json.dumps(figures))
    assert figures["requests"] == {"classifier": REQUESTS_PER_MODEL,
                                   "generator": REQUESTS_PER_MODEL}
    assert figures["mismatches"] == 0, figures
    assert figures["forbidden_modules"] == [], figures
    assert figures["rss_growth_mb"] < MAX_RSS_GROWTH_MB, figures
