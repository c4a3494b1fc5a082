"""Pretraining data: text -> TFRecord shards (BERT MLM+NSP, GPT blocks) -> tf.data.

- `tfrecords.features`: the one schema of every record kind.
- `tfrecords.create_pretraining_data`: the writer CLI (Google's flags).
- `tfrecords.build_vocab`: learns a WordPiece `vocab.txt` from a corpus.
- `tfrecords.reader`: `bert_pretraining_dataset`, `gpt_dataset`.

Submodules are imported on use: the writer's worker processes should not pay
for the reader's imports, nor the reader for the writer's.
"""
