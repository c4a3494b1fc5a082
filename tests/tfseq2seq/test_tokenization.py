"""SentencePieceTokenizer: graph ids == Python ids, eos / pad / truncation, Marian-style
piece tables, and a SavedModel that reloads in a process importing only tensorflow(-text)."""

import os
import shutil

import pytest
import sentencepiece as spm
import tensorflow as tf

from tests.tftasks.translation.tiny_parallel import tiny_pairs, tiny_sentencepiece
from tfcore.export import ServingModule, save_atomically
from tfseq2seq.tokenization import SentencePieceTokenizer

TEXTS = ["Ein älterer Herr läuft über die Straße.", "Two girls sit on a big bridge, while it rains.",
         "Öffentliche Übergänge für Jäger", "The dog looks over the snow.", "", "x",
         "Zürich 2024: Maß und Ärger!"]
BAD_UTF8 = [b"Stra\xdfe", b"\xff\xfeab", b"Ein \xc3", b"\xed\xa0\x80 Hund"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return tiny_sentencepiece(str(tmp_path_factory.mktemp("spm")))


def marian_table(model_file, missing="▁Schnee"):
    """A vocab.json-like table: ids not the model's ("</s>" 0, "<unk>" 1, others reversed,
    "<pad>" last) and one piece left out (it must map to the table's unk)."""
    processor = spm.SentencePieceProcessor(model_file=model_file)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    assert missing in pieces
    ordinary = [p for p in pieces if p not in ("<pad>", "</s>", "<unk>", missing)]
    table = {"</s>": 0, "<unk>": 1}
    table.update({p: 2 + i for i, p in enumerate(reversed(ordinary))})
    table["<pad>"] = len(table)
    return table


@pytest.fixture(scope="module")
def tokenizers(model_file):
    return {"spm": SentencePieceTokenizer(model_file),
            "table": SentencePieceTokenizer(model_file, pieces_to_ids=marian_table(model_file))}


@pytest.mark.parametrize("kind", ["spm", "table"])
def test_graph_ids_equal_python_ids(tokenizers, kind):
    tokenizer = tokenizers[kind]
    inputs = [t.encode("utf-8") for t in TEXTS] + BAD_UTF8
    graph = tokenizer.tokenize(tf.constant(inputs)).to_list()
    python = [tokenizer.encode(t) for t in inputs]
    assert graph == python
    assert all(ids[-1] == tokenizer.eos_id and tokenizer.eos_id not in ids[:-1] for ids in graph)
    assert python[TEXTS.index("")] == [tokenizer.eos_id]


def test_special_ids(tokenizers, model_file):
    plain, table = tokenizers["spm"], tokenizers["table"]
    assert (plain.pad_id, plain.eos_id, plain.unk_id) == (0, 1, 2)
    assert (table.eos_id, table.unk_id, table.pad_id) == (0, 1, len(marian_table(model_file)) - 1)
    # The piece left out of the table -> the table's unk; the spm model knows it.
    assert table.encode("Schnee") == [table.unk_id, table.eos_id]
    assert plain.encode("Schnee")[0] != plain.unk_id


def test_invalid_utf8_is_replaced_not_an_error(tokenizers):
    tokenizer = tokenizers["spm"]
    for raw in BAD_UTF8:
        expected = tokenizer.encode(raw.decode("utf-8", "replace"))
        assert tokenizer.tokenize(tf.constant([raw])).to_list() == [expected]
    # The valid part survives.
    assert tokenizer.encode(b"Stra\xdfe Hund")[-2:] == tokenizer.encode("Hund")[-2:]


@pytest.mark.parametrize("kind", ["spm", "table"])
def test_detokenize_inverts_tokenize(tokenizers, kind):
    tokenizer = tokenizers[kind]
    normal = TEXTS[:2] + TEXTS[3:4] + [p for pair in tiny_pairs()[::37] for p in pair]
    if kind == "table":  # The table lacks "▁Schnee": it would decode as unk.
        normal = [t for t in normal if "Schnee" not in t]
    ids = tokenizer.tokenize(tf.constant(normal))
    assert [t.decode("utf-8") for t in tokenizer.detokenize(ids).numpy()] == normal
    assert [tokenizer.decode(tokenizer.encode(t)) for t in normal] == normal


@pytest.mark.parametrize("kind", ["spm", "table"])
def test_detokenize_stops_at_eos_and_drops_pad(tokenizers, kind):
    tokenizer = tokenizers[kind]
    eos, pad = tokenizer.eos_id, tokenizer.pad_id
    a = tokenizer.encode("A man walks across the street.")
    b = tokenizer.encode("Ein Hund sitzt auf dem Wasser.")
    width = len(a) + len(b) + 2
    rows = [a[:-1] + [eos] + b[:3] + [pad] * (width - len(a) - 3),        # junk after eos
            [pad] + b[:2] + [pad] + b[2:-1] + [pad] * (width - len(b) - 1),  # pads, no eos at all
            [eos] + a + [pad] * (width - len(a) - 1)]                        # eos first: empty
    dense = tokenizer.detokenize(tf.constant(rows)).numpy().tolist()
    ragged = tokenizer.detokenize(tf.ragged.constant([r[:len(r) - 1] for r in rows])).numpy()
    expected = ["A man walks across the street.", tokenizer.decode(b), ""]
    assert [t.decode() for t in dense] == expected == [tokenizer.decode(r) for r in rows]
    assert [t.decode() for t in ragged.tolist()] == expected
    # unk and ids outside the vocabulary are dropped in both paths, no error.
    extra = a[:2] + [tokenizer.unk_id, tokenizer.vocab_size + 5, -3] + a[2:]
    assert tokenizer.detokenize(tf.constant([extra])).numpy()[0].decode() == (
        tokenizer.decode(extra)) == "A man walks across the street."


def test_max_length_truncates_and_keeps_eos(model_file):
    long_text = "Drei Jungen schauen über eine große Brücke, während es regnet."
    full = SentencePieceTokenizer(model_file).encode(long_text)
    short = SentencePieceTokenizer(model_file, max_length=5)
    assert len(full) > 5
    assert short.encode(long_text) == full[:4] + [1]
    assert short.tokenize(tf.constant([long_text, "x"])).to_list() == [
        full[:4] + [1], short.encode("x")]
    no_eos = SentencePieceTokenizer(model_file, add_eos=False, max_length=3)
    assert no_eos.encode(long_text) == full[:3]
    assert no_eos.tokenize(tf.constant([long_text])).to_list() == [full[:3]]


class _Export(ServingModule):
    """A SavedModel root (as our exports): text -> ids and ids -> text, both tokenizers."""

    def __init__(self, plain, table):
        super().__init__()
        self.plain, self.table = plain, table

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def tokenize(self, texts):
        return {"plain": self.plain.tokenize(texts).to_tensor(-1),
                "table": self.table.tokenize(texts).to_tensor(-1)}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="plain_ids"),
                                  tf.TensorSpec([None, None], tf.int32, name="table_ids")])
    def detokenize(self, plain_ids, table_ids):
        return {"plain": self.plain.detokenize(plain_ids), "table": self.table.detokenize(table_ids)}


def export_tokenizers(model_file, folder):
    """Saves `_Export` of a copy of `model_file`, deleting the copy -> (path, tokenizers)."""
    copy = os.path.join(folder, "copy.model")
    shutil.copy(model_file, copy)
    tokenizers = {"spm": SentencePieceTokenizer(copy),
                  "table": SentencePieceTokenizer(copy, pieces_to_ids=marian_table(copy))}
    path = os.path.join(folder, "saved_model")
    export = _Export(tokenizers["spm"], tokenizers["table"])
    save_atomically(export, path, signatures={"tokenize": export.tokenize,
                                              "detokenize": export.detokenize})
    os.remove(copy)  # The SavedModel must hold the model proto itself.
    return path, tokenizers


def check_loaded_outputs(outputs, tokenizers, texts):
    """`outputs`: {"plain"/"table": ids padded with -1, "text_plain"/"text_table": str}."""
    for kind, key in (("spm", "plain"), ("table", "table")):
        expected = [tokenizers[kind].encode(t) for t in texts]
        assert [[i for i in row if i >= 0] for row in outputs[key]] == expected
        assert outputs["text_" + key] == texts


SAVED_TEXTS = ["Ein Hund läuft über den Rasen.", "A woman rides through the water."]


def test_saved_model_reloads(model_file, tmp_path):
    path, tokenizers = export_tokenizers(model_file, str(tmp_path))
    model = tf.saved_model.load(path)
    ids = model.tokenize(tf.constant(SAVED_TEXTS))
    text = model.detokenize(tf.where(ids["plain"] < 0, tokenizers["spm"].pad_id, ids["plain"]),
                            tf.where(ids["table"] < 0, tokenizers["table"].pad_id, ids["table"]))
    outputs = {k: v.numpy().tolist() for k, v in ids.items()}
    outputs.update({"text_" + k: [t.decode() for t in v.numpy()] for k, v in text.items()})
    check_loaded_outputs(outputs, tokenizers, SAVED_TEXTS)
