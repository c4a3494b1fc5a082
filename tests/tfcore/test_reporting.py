"""TrainingReporter's progress display: plain lines off a terminal, the Keras bar on one."""

import io

from tfcore.reporting import TrainingReporter, format_value

LOSSES = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.02, 0.01, 0.009, 0.008]


def feed(reporter, steps, seconds=0.5):
    """Calls the reporter at `steps` with the loss LOSSES[i] and accuracy 0.1 * i."""
    for i, step in enumerate(steps):
        reporter(step, {"loss": LOSSES[i], "accuracy": 0.1 * i, "grad_norm": 3.0}, seconds)


def test_plain_lines_every_tenth_of_the_run_without_escape_codes():
    stream = io.StringIO()
    reporter = TrainingReporter(20, examples_per_step=8, stream=stream)
    assert reporter.plain and reporter.progbar is None  # a StringIO is not a terminal
    feed(reporter, range(2, 21, 2))  # 10 executions of 2 steps
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\b" not in text
    lines = text.splitlines()
    assert [line.split(" - ")[0] for line in lines] == [
        f"step {s}/20 ({5 * s}%)" for s in range(2, 21, 2)]
    # The last line shows the last execution's values (no running mean), and the
    # same rate the summary reads from throughput().
    rate = format_value(reporter.throughput()["examples_per_second"])
    assert f"loss: {format_value(LOSSES[9])} - accuracy: 0.9000 - examples/s: {rate}" in lines[-1]
    assert "grad_norm" not in text  # TensorBoard only
    assert "examples/s" not in lines[0]  # the first execution (tracing) is not timed


def test_plain_lines_follow_log_every_and_uneven_executions():
    stream = io.StringIO()
    reporter = TrainingReporter(10, tokens_per_step=100, log_every=4, stream=stream)
    feed(reporter, [3, 6, 9, 10])
    steps = [line.split(" - ")[0] for line in stream.getvalue().splitlines()]
    assert steps == ["step 6/10 (60%)", "step 9/10 (90%)", "step 10/10 (100%)"]
    assert "tokens/s: 600.0000" in stream.getvalue()  # 100 tokens * 3 steps / 0.5 s


def test_terminal_bar_shows_the_reported_values_not_a_running_mean(capsys):
    reporter = TrainingReporter(3, plain=False)
    reporter.progbar.interval = 0  # draw every update
    feed(reporter, [1, 2, 3])
    drawn = capsys.readouterr().out
    # Averaged, step 2 would show loss 0.7500; the trainer reported 0.5.
    updates = drawn.split("\r")
    assert "loss: 0.5000" in updates[2] and "0.7500" not in drawn
    assert "loss: 0.2500" in updates[-1] and "accuracy: 0.2000" in updates[-1]


def test_quiet_reporter_shows_nothing_but_keeps_the_throughput():
    stream = io.StringIO()
    reporter = TrainingReporter(4, examples_per_step=2, verbose=False, stream=stream)
    feed(reporter, [1, 2, 3, 4])
    assert stream.getvalue() == ""
    # Tokens per step unknown (fine-tuning batches are trimmed): no token rate, not 0.
    assert reporter.throughput() == {"examples_per_second": 4.0, "timed_steps": 3}


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_the_keras_bar_in_a_terminal_only():
    assert TrainingReporter(5, stream=_Terminal()).progbar is not None
    assert not TrainingReporter(5, stream=_Terminal()).plain
    assert TrainingReporter(5, stream=io.StringIO()).progbar is None
    assert TrainingReporter(5, stream=_Terminal(), plain=True).progbar is None
