"""Translation: parallel text -> SentencePiece -> TFRecords -> Seq2SeqModel -> BLEU, SavedModel."""
