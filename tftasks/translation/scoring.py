"""Corpus BLEU and chrF of detokenized translations, with sacreBLEU's defaults.

BLEU: cased, the `13a` tokenizer (mteval-v13a) applied to the detokenized
text, exponential smoothing, brevity penalty over the corpus. chrF: chrF2
(character n-grams up to 6, no word n-grams, beta 2, whitespace ignored).
Hypotheses are the model's detokenized output; references are the raw lines of
the reference file (`tftasks.translation.corpus.read_lines`), never re-encoded.
The signatures are sacreBLEU's, to quote next to the scores, e.g.
`nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`.

Example:

    scores = corpus_scores(["A man rides a bike."], ["A man is riding a bike."])
    scores["bleu"], scores["chrf"], scores["bleu_signature"]
"""

from tftasks.common.errors import DataError


def _reference_streams(references, num_hypotheses):
    """list of str (one reference each), or list of such lists (several references)."""
    references = list(references)
    streams = [references] if not references or isinstance(references[0], str) else [
        list(r) for r in references]
    for k, stream in enumerate(streams):
        if len(stream) != num_hypotheses:
            raise DataError(f"{num_hypotheses} hypotheses but reference set {k} has "
                            f"{len(stream)} lines; they must be line-aligned")
    return streams


def corpus_scores(hypotheses, references):
    """Corpus BLEU and chrF2 (sacreBLEU defaults) of `hypotheses` against `references`.

    Args:
      hypotheses: list of str, detokenized translations.
      references: list of str, line-aligned with the hypotheses; or a list of
        such lists for several references per sentence.

    Returns:
      dict: bleu (0-100), chrf (0-100), bleu_signature, chrf_signature,
      bleu_precisions (4 n-gram precisions, 0-100), bleu_bp (brevity penalty),
      bleu_sys_len, bleu_ref_len (13a tokens), sentences.
    """
    from sacrebleu.metrics import BLEU, CHRF

    hypotheses = list(hypotheses)
    streams = _reference_streams(references, len(hypotheses))
    bleu, chrf = BLEU(), CHRF()
    bleu_score = bleu.corpus_score(hypotheses, streams)
    chrf_score = chrf.corpus_score(hypotheses, streams)
    return {
        "bleu": float(bleu_score.score), "chrf": float(chrf_score.score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "bleu_precisions": [float(p) for p in bleu_score.precisions],
        "bleu_bp": float(bleu_score.bp), "bleu_sys_len": int(bleu_score.sys_len),
        "bleu_ref_len": int(bleu_score.ref_len), "sentences": len(hypotheses),
    }


def format_scores(scores):
    """One line: `BLEU 35.21 (signature) | chrF2 61.30 (signature)`."""
    return (f"BLEU {scores['bleu']:.2f} ({scores['bleu_signature']}) | "
            f"chrF2 {scores['chrf']:.2f} ({scores['chrf_signature']})")
