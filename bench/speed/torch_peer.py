"""The Hugging Face PyTorch peer: a timing server run by `--torch_python`.

    /work/refvenv/bin/python bench/speed/torch_peer.py THREADS

(peer.py starts it; /work/refvenv/bin/python is `--torch_python`'s documented default.)

It never imports TensorFlow (torch is never a dependency of the project).
It prints one JSON line when ready (`{"torch": ..., "transformers": ...}`),
then answers one JSON line per command read from stdin, so the benchmark
process can interleave it with the TensorFlow sides (while it waits on stdin
it uses no CPU). Commands:

- `{"cmd": "build", "name", "task", "model", "precision", ...}`: builds a
  random-init model (`task`: bert_train, gpt_train, generate, serving) and warms
  it up; answers `{"seconds"}`.
- `{"cmd": "run", "name", ...}`: runs its own timing loop and answers
  `{"seconds"}` (training: `steps` optimizer steps; generation: one `generate`
  call) or `{"latencies": [...]}` (serving: `calls` forward passes).
- `{"cmd": "drop", "name"}`, `{"cmd": "quit"}`.
Errors answer `{"error": "..."}` and keep the server alive.
"""

import contextlib
import gc
import json
import os
import sys
import time
import traceback



def _load_data_module():
    """bench/speed/data.py (NumPy only, shared with the TensorFlow side), loaded by path.

    The script's folder is taken off sys.path first: its modules must not shadow
    the standard library's inside torch and transformers.
    """
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.util.spec_from_file_location("bench_perf_data", os.path.join(here, "data.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data = _load_data_module()


def log(*args):
    print("[torch peer]", *args, file=sys.stderr, flush=True)


def _bert_config(spec):
    from transformers import BertConfig
    m = spec["model"]
    return BertConfig(vocab_size=m["vocab"], hidden_size=m["hidden"],
                      num_hidden_layers=m["layers"], num_attention_heads=m["heads"],
                      intermediate_size=m["intermediate"], type_vocab_size=2,
                      max_position_embeddings=m.get("max_positions", 512))


def _gpt2_config(spec):
    from transformers import GPT2Config
    m = spec["model"]
    return GPT2Config(vocab_size=m["vocab"], n_positions=m.get("max_positions", 1024),
                      n_embd=m["hidden"], n_layer=m["layers"], n_head=m["heads"])


def _autocast(torch, precision):
    if precision == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class BertTrain:
    """BertForPreTraining, AdamW, MLM + NSP on one repeated batch (autocast for bf16)."""

    def __init__(self, torch, spec):
        from transformers import BertForPreTraining
        m = self._setup(torch, spec, BertForPreTraining(_bert_config(spec)))
        b = data.bert_pretraining_batch(spec["batch"], spec["seq"], spec["predictions"],
                                        m["vocab"], seed=spec.get("seed", 0))
        labels = torch.full((spec["batch"], spec["seq"]), -100, dtype=torch.long)
        labels.scatter_(1, torch.from_numpy(b["masked_lm_positions"]).long(),
                        torch.from_numpy(b["masked_lm_ids"]).long())
        self.inputs = {
            "input_ids": torch.from_numpy(b["input_ids"]).long(),
            "token_type_ids": torch.from_numpy(b["segment_ids"]).long(),
            "attention_mask": torch.from_numpy(b["input_mask"]).long(),
            "labels": labels,
            "next_sentence_label": torch.from_numpy(b["next_sentence_labels"][:, 0]).long(),
        }

    def _setup(self, torch, spec, model):
        """Keeps `model` in training mode with AdamW; returns the spec's model sizes."""
        self.torch, self.precision = torch, spec["precision"]
        self.model = model.train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4,
                                           weight_decay=0.01, eps=1e-6)
        return spec["model"]

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        with _autocast(self.torch, self.precision):
            loss = self.model(**self.inputs).loss
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def run(self, cmd):
        start = time.perf_counter()
        for _ in range(cmd["steps"]):
            loss = self.step()
        return {"seconds": time.perf_counter() - start, "loss": loss}


class GPTTrain(BertTrain):
    """GPT2LMHeadModel, AdamW, next-token loss on one repeated `[batch, seq]` batch."""

    def __init__(self, torch, spec):
        from transformers import GPT2LMHeadModel
        m = self._setup(torch, spec, GPT2LMHeadModel(_gpt2_config(spec)))
        ids = torch.from_numpy(data.token_ids(spec["batch"], spec["seq"], m["vocab"])).long()
        self.inputs = {"input_ids": ids, "labels": ids}


class Generate:
    """GPT2LMHeadModel.generate, greedy, exactly `new` tokens (no end token)."""

    def __init__(self, torch, spec):
        from transformers import GPT2LMHeadModel
        self.torch = torch
        model = GPT2LMHeadModel(_gpt2_config(spec)).eval()
        if spec["precision"] == "bfloat16":
            model = model.to(torch.bfloat16)
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = 0
        self.model = model

    def run(self, cmd):
        torch = self.torch
        prompt = torch.from_numpy(data.token_ids(cmd["batch"], cmd["prompt"],
                                                 self.model.config.vocab_size,
                                                 seed=cmd["batch"])).long()
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(prompt, attention_mask=torch.ones_like(prompt),
                                      max_new_tokens=cmd["new"], min_new_tokens=cmd["new"],
                                      do_sample=False)
        seconds = time.perf_counter() - start
        if out.shape[1] != cmd["prompt"] + cmd["new"]:
            raise RuntimeError(f"generated {out.shape[1] - cmd['prompt']} tokens, "
                               f"expected {cmd['new']}")
        return {"seconds": seconds}


class Serving:
    """BertModel forward under inference_mode: float32, bfloat16 weights, or bf16 autocast."""

    def __init__(self, torch, spec):
        from transformers import BertModel
        self.torch, self.precision = torch, spec["precision"]
        model = BertModel(_bert_config(spec)).eval()
        if spec["precision"] == "bfloat16":
            model = model.to(torch.bfloat16)
        self.model = model

    def run(self, cmd):
        torch = self.torch
        b = data.bert_pretraining_batch(cmd["batch"], cmd["seq"], 1, self.model.config.vocab_size)
        inputs = {"input_ids": torch.from_numpy(b["input_ids"]).long(),
                  "token_type_ids": torch.from_numpy(b["segment_ids"]).long(),
                  "attention_mask": torch.from_numpy(b["input_mask"]).long()}
        latencies = []
        autocast = _autocast(torch, "bfloat16" if self.precision == "autocast" else "float32")
        with torch.inference_mode(), autocast:
            for _ in range(cmd["calls"]):
                start = time.perf_counter()
                out = self.model(**inputs)
                out.last_hidden_state.float().sum().item()
                latencies.append(time.perf_counter() - start)
        return {"latencies": latencies}


TASKS = {"bert_train": BertTrain, "gpt_train": GPTTrain, "generate": Generate,
         "serving": Serving}


def warm_up(runner, cmd):
    """One untimed run (allocations, oneDNN primitives)."""
    warm = dict(cmd.get("warmup", {}))
    for _ in range(cmd.get("warmup_repeats", 1)):
        runner.run(warm)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    import torch
    import transformers
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    models = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "quit":
                break
            if cmd["cmd"] == "build":
                start = time.perf_counter()
                runner = TASKS[cmd["task"]](torch, cmd)
                warm_up(runner, cmd)
                models[cmd["name"]] = runner
                reply = {"seconds": time.perf_counter() - start}
            elif cmd["cmd"] == "run":
                reply = models[cmd["name"]].run(cmd)
            elif cmd["cmd"] == "drop":
                models.pop(cmd["name"], None)
                gc.collect()
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown command {cmd['cmd']!r}"}
        except Exception as e:  # noqa: BLE001  (reported to the client, server stays up)
            log(traceback.format_exc())
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
