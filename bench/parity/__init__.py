"""Parity with references: our outputs against independent implementations on real weights and data.

`python -m bench minilm_references` then `minilm` (all-MiniLM-L6-v2 against
PyTorch), `tokenizer_hf` (BertTokenizer ids against transformers' tokenizers),
`classifier_export` (a served classifier against the in-process model). The
claims the suite can hold on tiny fixtures are tests (tests/journeys,
tests/tfbert, tests/tfgpt); these run what needs real weights or transformers.
"""
