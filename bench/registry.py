"""The one list of benchmarks: `python -m bench NAME` -> module, with a line each.

Every module named here has `main(argv)` for `absl.app.run`; the dispatcher
passes `python -m bench NAME` as `argv[0]` (the speed module runs several
names and reads it). Groups follow the subpackages and the topics of
bench/RESULTS.md.
"""

SPEED = "bench.speed.cli"
GROUPS = {
    "speed": {
        "ceiling": (SPEED, "float32/bf16 2048^3 matmul GFLOP/s and memory read GB/s"),
        "bert_train": (SPEED, "BERT pretraining step: ours vs keras-hub vs HF PyTorch"),
        "gpt_train": (SPEED, "GPT-2 training step, seq 256: ours vs keras-hub vs HF PyTorch"),
        "generate": (SPEED, "GPT-2 greedy generation, batch 1 and 8: the three sides"),
        "serving": (SPEED, "BERT encoder SavedModel latency p50/p99: the three sides"),
        "all": (SPEED, "ceiling, bert_train, gpt_train, generate, serving in one run"),
        "profile": (SPEED, "op-type self times of one training side (tf.profiler)"),
        "generate_cache": ("bench.speed.generate_cache",
                           "GPT-2-small: cached generate vs an uncached greedy loop"),
        "translate_beam": ("bench.speed.translate_beam",
                           "beam-4 translation tok/s: Seq2SeqModel vs HF MarianMTModel, same weights"),
        "seq2seq_cache": ("bench.speed.seq2seq_cache",
                          "Seq2SeqModel cached greedy generate vs an uncached decode loop"),
        "optimizer_apply": ("bench.speed.optimizer_apply",
                            "one AdamW apply on all-MiniLM-L6-v2's shapes: fused kernels vs element-wise"),
    },
    "parity": {
        "minilm": ("bench.parity.minilm",
                   "all-MiniLM-L6-v2 (HF and Google TF1 folders, export) vs PyTorch"),
        "minilm_references": ("bench.parity.minilm_references",
                              "writes the PyTorch references and TF1 checkpoint `minilm` reads"),
        "tokenizer_hf": ("bench.parity.tokenizer_hf",
                         "BertTokenizer ids vs HF's on real text, fuzz, every code point"),
        "classifier_export": ("bench.parity.classifier_export",
                              "a fine-tuned classifier's SavedModel vs the in-process model"),
        "squad_postprocess": ("bench.parity.squad_postprocess",
                              "SQuAD answers vs a write_predictions transcription, all dev"),
        "heads_minilm": ("bench.parity.heads_minilm",
                         "span and 13-label token heads on all-MiniLM-L6-v2 vs HF PyTorch"),
        "extract_features_hf": ("bench.parity.extract_features_hf",
                                "extract_features.py on 100 SST-2 sentences vs HF hidden_states"),
        "t5_buckets": ("bench.parity.t5_buckets",
                       "T5 relative position buckets vs transformers', distances +-4,096"),
    },
    "data": {
        "writer_speed": ("bench.data.writer_speed",
                         "pretraining-data writer vs Google's script, interleaved"),
        "writer_memory": ("bench.data.writer_memory", "writer peak RSS on 50 MB vs 500 MB"),
        "reader_speed": ("bench.data.reader_speed", "reader examples/s, static vs dynamic masks"),
        "records_vs_google": ("bench.data.records_vs_google",
                              "record statistics of ours vs Google's over seeds"),
        "nsp_seeds": ("bench.data.nsp_seeds",
                      "instances and random-next fraction over many seeds, both packers"),
        "record_stats": ("bench.data.record_stats", "statistics of BERT pretraining shards"),
        "translation_data": ("bench.data.translation_data",
                             "Multi30k: SentencePiece training, ids/sentence, records, token batches"),
    },
    "runs": {
        "classifier_sst2": ("bench.runs.classifier_sst2",
                            "fine-tune all-MiniLM-L6-v2 on 20,000 SST-2 rows"),
        "gpt_shakespeare": ("bench.runs.gpt_shakespeare",
                            "char-level Tiny Shakespeare GPT beside nanoGPT"),
        "squad_vs_hf": ("bench.runs.squad_vs_hf",
                        "run_squad.py vs HF PyTorch fine-tuning: SQuAD dev F1 and examples/s"),
        "ner_vs_hf": ("bench.runs.ner_vs_hf",
                      "run_ner.py vs HF PyTorch fine-tuning: WNUT-17 entity F1 and examples/s"),
        "translation_vs_torch": ("bench.runs.translation_vs_torch",
                                 "a run_translation.py run vs a PyTorch nn.Transformer, same recipe"),
        "unchanged": ("bench.runs.unchanged",
                      "behaviour fingerprints of the programs, to compare across a refactor"),
    },
}
BENCHMARKS = {name: entry for group in GROUPS.values() for name, entry in group.items()}


def module_of(name):
    """The module that runs benchmark `name`; KeyError when there is none."""
    return BENCHMARKS[name][0]


def listing():
    """The benchmarks by group, one line each."""
    width = max(map(len, BENCHMARKS))
    lines = ["usage: python -m bench NAME [--flags]   (python -m bench NAME --help: its flags)"]
    for group, entries in GROUPS.items():
        lines += ["", f"{group} (bench/{group}/):"]
        lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in entries.items()]
    return "\n".join(lines)
