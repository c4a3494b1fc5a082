"""Quality and speed of one of our programs beside its Hugging Face PyTorch peer.

squad_vs_hf.py and ner_vs_hf.py describe a recipe and the two command lines;
this module runs them (ours as a user types it, the peer with
`--torch_python`), alternating which side goes first, reads each side's
figures, prints the table and, with `--write`, puts the block into
bench/RESULTS.md (between `<!-- run:NAME:begin -->` / `<!-- run:NAME:end -->`:
a rerun replaces its block where it stands; a first run appends it).

Example (inside a driver):

    run = Side("ours", command, read=read_our_metrics)
    rows = compare([ours, peer], seeds=[1, 2], repeats=1, work_dir="/tmp/x")
    print(format_table(rows, "F1"))
"""

import dataclasses
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

from absl import flags

from bench import paths
from bench.speed import common

RESULTS = os.path.join(paths.REPO_ROOT, "bench", "RESULTS.md")


def define_flags(work_dir):
    """The flags both drivers share; `work_dir`: the default working folder."""
    if "work_dir" in flags.FLAGS:
        return
    paths.define_data_dir()
    paths.define_torch_python()
    flags.DEFINE_string("work_dir", work_dir, "Output folders of the runs (ours_* / peer_* "
                        "inside are replaced by each run).")
    flags.DEFINE_list("seeds", ["12345"], "Seeds (each runs both sides); the table gives "
                      "the mean per side.")
    flags.DEFINE_integer("repeats", 1, "Runs per seed and side; the first side alternates.")
    flags.DEFINE_list("sides", ["ours", "peer"], "Sides to run: ours, peer.")
    flags.DEFINE_integer("threads", 2, "Threads per side (the peer's torch threads; ours "
                         "inherits OMP/TF thread variables).")
    flags.DEFINE_bool("write", False, "Put the block into bench/RESULTS.md.")
    flags.DEFINE_string("ceiling", "measure", "'measure' the matmul ceilings first, or 'skip'.")
    flags.DEFINE_bool("shared_head", True, "Both sides start from one seeded random head per "
                      "seed (bench/runs/head_folder.py), not two initialisations.")


HEAD_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "head_folder.py")


def start_folder(head, seed, train_file=None):
    """The checkpoint both sides start from: MiniLM, or (--shared_head) MiniLM + a seeded head.

    `head`: "span" or "token" (whose tags come from the CoNLL `train_file`).
    """
    if not flags.FLAGS.shared_head:
        return paths.minilm_folder()
    folder = os.path.join(flags.FLAGS.work_dir, f"minilm_{head}_head_seed{seed}")
    if not os.path.exists(os.path.join(folder, "config.json")):
        extra = [f"--train_file={train_file}"] if train_file else []
        subprocess.run([paths.torch_python(), HEAD_FOLDER, f"--head={head}",
                        f"--model_dir={paths.minilm_folder()}", f"--seed={seed}",
                        f"--output_dir={folder}", *extra], check=True)
    return folder


@dataclasses.dataclass
class Side:
    """One side: `command(seed, output_dir)` -> argv; `read(output_dir, stdout)` -> figures.

    The figures: a dict with the quality metrics and `train_seconds`,
    `train_examples` (rows or features trained on, one epoch), `examples_trained`
    (steps x batch), optionally `steady_examples_per_second` (the side's own figure
    without the first step(s)) and `predict_seconds`.
    """

    name: str
    command: Callable
    read: Callable
    env: dict = dataclasses.field(default_factory=dict)


def peer_env(threads):
    """Environment of the PyTorch peer: its threads, passive OpenMP waits, no PYTHONPATH."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    env.pop("PYTHONPATH", None)
    return env


def ours_env(threads):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS=str(threads),
                TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS=str(threads))


def last_json_line(text, what):
    """The last line of `text` that parses as a JSON object; SystemExit naming `what` else."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise SystemExit(f"{what}: no JSON result line in its output")


def read_peer(_output_dir, stdout):
    return last_json_line(stdout, "the PyTorch peer")


def read_metrics_json(output_dir):
    path = os.path.join(output_dir, "metrics.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: not readable ({e})") from None


def first_number(mapping, *keys):
    """The first of `keys` ("a.b" walks nested dicts) holding a number in `mapping`, else None."""
    for key in keys:
        value = mapping
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def run_side(side, seed, output_dir):
    """Runs one side once; returns its figures plus wall seconds, pressure and command."""
    if os.path.isdir(output_dir):  # ours resumes from a checkpoint there: start afresh
        shutil.rmtree(output_dir)
    os.makedirs(output_dir)
    argv = side.command(seed, output_dir)
    print(f"\n[{side.name}, seed {seed}] " + shlex.join(argv), flush=True)
    pressure = common.check_pressure(f"before {side.name}")
    log_path = os.path.join(output_dir, f"{side.name}.log")
    start = time.perf_counter()
    with open(log_path, "w") as log:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, text=True,
                              env=side.env, cwd=paths.REPO_ROOT)
    wall = time.perf_counter() - start
    sys.stdout.write(done.stdout[-2000:])
    if done.returncode:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f"{side.name} failed (exit {done.returncode}); the end of "
                         f"{log_path}:\n{tail}")
    figures = side.read(output_dir, done.stdout)
    figures.update(side=side.name, seed=seed, wall_seconds=wall, command=argv,
                   pressure_before=pressure, pressure_after=common.check_pressure("after"))
    if figures.get("train_seconds") and figures.get("examples_trained"):
        figures["examples_per_second"] = figures["examples_trained"] / figures["train_seconds"]
    return figures


def compare(sides, seeds, repeats, work_dir):
    """Every side once per (seed, repeat); the side that goes first alternates. -> rows."""
    rows, index = [], 0
    for repeat in range(repeats):
        for seed in seeds:
            order = sides if index % 2 == 0 else list(reversed(sides))
            for position, side in enumerate(order):
                folder = os.path.join(work_dir, f"{side.name}_seed{seed}_r{repeat}")
                row = run_side(side, seed, folder)
                row.update(repeat=repeat, first=position == 0)
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "command"}), flush=True)
            index += 1
    return rows


def command_line(name):
    """This run's `python -m bench NAME ...` line (from sys.argv)."""
    args = sys.argv[2:] if sys.argv[1:2] == [name] else sys.argv[1:]
    return shlex.join(["python", "-m", "bench", name, *args])


def fmt(value, digits=2):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def mean(rows, key):
    values = [row[key] for row in rows if row.get(key) is not None]
    return statistics.fmean(values) if values else None


def spread(rows, key):
    """Sample standard deviation of `key` over `rows` (None below two values)."""
    values = [row[key] for row in rows if row.get(key) is not None]
    return statistics.stdev(values) if len(values) > 1 else None


def summary(rows, quality, bar):
    """Markdown lines: per-run table, then means per side, the difference and speed ratio."""
    header = ["side", "seed", "first", quality, "train s", "train examples",
              "examples/s (all steps)", "examples/s (after the first)", "predict s", "wall s"]
    table = [[r["side"], str(r["seed"]), "yes" if r["first"] else "", fmt(r.get(quality)),
              fmt(r.get("train_seconds"), 1), fmt(r.get("train_examples"), 0),
              fmt(r.get("examples_per_second")), fmt(r.get("steady_examples_per_second")),
              fmt(r.get("predict_seconds"), 1), fmt(r["wall_seconds"], 1)] for r in rows]
    lines = [*common.markdown_table(header, table), ""]
    by_side = {name: [r for r in rows if r["side"] == name] for name in ("ours", "peer")}
    if all(by_side.values()):
        ours_q, peer_q = mean(by_side["ours"], quality), mean(by_side["peer"], quality)
        ours_s = mean(by_side["ours"], "examples_per_second")
        peer_s = mean(by_side["peer"], "examples_per_second")
        diff = ours_q - peer_q if None not in (ours_q, peer_q) else None
        ratio = ours_s / peer_s if ours_s and peer_s else None
        runs = len(by_side["ours"])
        sd_ours, sd_peer = spread(by_side["ours"], quality), spread(by_side["peer"], quality)
        if sd_ours is not None and sd_peer is not None:
            error = (sd_ours ** 2 / runs + sd_peer ** 2 / len(by_side["peer"])) ** 0.5
            lines += [f"Seed spread of {quality} (sample std): ours {fmt(sd_ours)}, peer "
                      f"{fmt(sd_peer)}; standard error of the difference of the means "
                      f"{fmt(error)}.", ""]
        lines += [
            f"Mean over {runs} run(s) per side: {quality} ours **{fmt(ours_q)}**, peer "
            f"**{fmt(peer_q)}**, difference {fmt(diff)} (bar: within {bar}: "
            f"{'met' if diff is not None and abs(diff) <= bar else 'NOT met'}); "
            f"training examples/s ours {fmt(ours_s)}, peer {fmt(peer_s)}, ratio "
            f"**{fmt(ratio)}x** (bar: >= 1: "
            f"{'met' if ratio is not None and ratio >= 1 else 'NOT met'}; counted over every "
            "step, ours' tracing and compiling included); wall s ours "
            f"{fmt(mean(by_side['ours'], 'wall_seconds'), 0)}, peer "
            f"{fmt(mean(by_side['peer'], 'wall_seconds'), 0)}."]
    return lines


def measure_ceiling(mode, threads):
    """The matmul ceilings line (TensorFlow, this process), or a note when skipped."""
    common.setup_threads(threads)
    if mode == "skip":
        return "Ceilings not measured (`--ceiling=skip`)."
    from bench.speed import ceiling
    return ceiling.describe(ceiling.measure(with_bandwidth=False, repeats=5))


def block(name, title, command_line, recipe_lines, rows, ceiling_line, quality, bar):
    """The markdown block of this run (title, machine, command, recipe, sides, table)."""
    examples = {r["side"]: r["command"] for r in reversed(rows)}
    lines = [f"### {title}", "",
             f"Machine: {machine()}.  ",
             f"Command: `{command_line}`  ",
             f"Date: {common.today()}; CPU pressure before the first run: "
             f"`{rows[0]['pressure_before']}`, after the last: `{rows[-1]['pressure_after']}`.",
             "", ceiling_line, "", *recipe_lines, ""]
    for side, argv in examples.items():
        lines += [f"{side}:", "", "    " + shlex.join(argv), ""]
    lines += summary(rows, quality, bar)
    return "\n".join(lines).rstrip() + "\n"


def machine():
    try:
        return common.machine_line()
    except ImportError:  # keras_hub absent: the CPU line without it
        return f"{os.cpu_count()} vCPUs"


def write_block(name, text, path=RESULTS):
    """Replaces `name`'s marked block in `path`, or appends it; atomic, keeps the mode."""
    begin, end = f"<!-- run:{name}:begin -->", f"<!-- run:{name}:end -->"
    with open(path, encoding="utf-8") as f:
        current = f.read()
    marked = f"{begin}\n{text.rstrip()}\n\n{end}\n"
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(current):
        updated = pattern.sub(lambda _: marked, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + marked
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".RESULTS-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(updated)
    os.chmod(tmp, os.stat(path).st_mode & 0o777)
    os.replace(tmp, path)
    print(f"wrote the {name} block to {path}", flush=True)
