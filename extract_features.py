r"""Contextual vectors of every token from chosen BERT layers; Google's flags keep working.

    python extract_features.py --input_file=input.txt --output_file=output.jsonl \
        --vocab_file=uncased_L-12_H-768_A-12/vocab.txt \
        --bert_config_file=uncased_L-12_H-768_A-12/bert_config.json \
        --init_checkpoint=uncased_L-12_H-768_A-12/bert_model.ckpt \
        --layers=-1,-2,-3,-4 --max_seq_length=128 --batch_size=8

Each line of --input_file is one example: a text, or `text_a ||| text_b`.
Each line of --output_file is Google's JSON:
`{"linex_index": 0, "features": [{"token": "[CLS]", "layers": [{"index": -1,
"values": [...]}, ...]}, ...]}` (values rounded to 6 decimals; [CLS] and
[SEP] included, padding not). --layers counts transformer blocks: -1 is the
last (Hugging Face's hidden_states[-1]), 0 the first block's output.
--init_checkpoint takes a Google TF1, Hugging Face or saved folder; its
bert_config.json/config.json and vocab.txt are used unless given, and a
Hugging Face folder's tokenizer_config.json decides --do_lower_case when the
flag is not given. The output file appears complete or not at all. The flags
become a `tftasks.features.FeaturesConfig` and `tftasks.features.run(config)`
does the work.
"""

import sys
import time

from absl import app, flags, logging

from tfcore.cli import config_from_flags

FLAGS = flags.FLAGS
# Google's extract_features.py flags (same names and defaults).
flags.DEFINE_string("input_file", None, "One example a line: text, or `text_a ||| text_b`.")
flags.DEFINE_string("output_file", None, "JSON lines, one per input line.")
flags.DEFINE_string("layers", "-1,-2,-3,-4", "Layer indexes, comma-separated (-1: the last).")
flags.DEFINE_string("bert_config_file", None, "bert_config.json (default: --init_checkpoint's).")
flags.DEFINE_integer("max_seq_length", 128, "Tokens per example, [CLS]/[SEP] included; "
                     "longer inputs are truncated.")
flags.DEFINE_string("init_checkpoint", None, "Weights: Google TF1, Hugging Face or ours.")
flags.DEFINE_string("vocab_file", None, "vocab.txt (default: the --init_checkpoint folder's).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents (uncased models).")
flags.DEFINE_integer("batch_size", 32, "Examples per batch.")
flags.DEFINE_bool("use_tpu", False, "Accepted for compatibility (this machine's devices run).")
flags.DEFINE_string("master", None, "Accepted for compatibility.")
flags.DEFINE_integer("num_tpu_cores", 8, "Accepted for compatibility.")
flags.DEFINE_bool("use_one_hot_embeddings", False, "Accepted for compatibility (same vectors).")
# Progress lines per run (and the last batch).
PROGRESS_LINES = 10


def config_from_command_line(flag_values=FLAGS):
    """The `FeaturesConfig` of the parsed flags (--do_lower_case not given: None, "decide")."""
    from tftasks.features import FeaturesConfig
    lower = flag_values["do_lower_case"]
    return config_from_flags(FeaturesConfig, flag_values,
                             do_lower_case=lower.value if lower.present else None)


class ProgressLines:
    """`(done, total)` -> a plain line about every tenth of the input and at the end."""

    def __init__(self, stream=sys.stdout):
        self.stream, self.started, self.next_line = stream, time.time(), 1

    def __call__(self, done, total):
        if done == 0:  # the model is loaded: time the extraction from here
            self.started = time.time()
        if done < self.next_line and done < total:
            return
        self.next_line = done + max(1, total // PROGRESS_LINES)
        seconds = time.time() - self.started
        self.stream.write(f"extract_features: {done}/{total} examples "
                          f"({100 * done // max(total, 1)}%) - {done / max(seconds, 1e-9):.1f} "
                          f"examples/s - {seconds:.0f}s\n")
        self.stream.flush()


def main(argv):
    """Runs `tftasks.features.run`; known failures end with one clear line."""
    del argv
    import tftasks.features
    from tftasks.common.errors import DataError, OptionError
    try:
        summary = tftasks.features.run(config_from_command_line(), progress=ProgressLines())
    except OptionError as e:
        raise app.UsageError(str(e)) from None
    except DataError as e:
        logging.error("%s", e)
        sys.exit(f"extract_features.py: error: {e}")
    print(f"Wrote {summary['examples']} examples ({summary['tokens']} tokens, layers "
          f"{','.join(map(str, summary['layers']))} of {summary['num_layers']}) to "
          f"{summary['output_file']} in {summary['seconds']:.1f} s.")


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
