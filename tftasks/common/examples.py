"""`Examples`: one split of text examples, with where each came from.

A split is parallel Python lists of `text_a`, optional `text_b` and labels
(whatever the task reads: a name, a list of names, a float), with the file
and row of each example so that errors can name them.

Example:

    examples = Examples(["good", "bad"], None, ["pos", "neg"], "train.tsv", [2, 3])
    len(examples), examples.where(1)      # 2, 'train.tsv, row 3'
    examples.head(1).text_a               # ['good']
"""

import dataclasses
from typing import List, Optional


@dataclasses.dataclass
class Examples:
    """One split: `text_a [n]`, `text_b [n]` or None, `labels [n]` or None (unlabelled).

    `rows[i]` is the 1-based line number of example i in `source`, for errors;
    `label_column` names the labels' column in error messages.
    """

    text_a: List[str]
    text_b: Optional[List[str]]
    labels: Optional[list]
    source: str
    rows: List[int]
    label_column: str = "the label column"

    def __len__(self):
        return len(self.text_a)

    def head(self, n):
        """The first `n` examples (all when n is None or larger)."""
        if n is None or n >= len(self):
            return self
        cut = lambda values: None if values is None else values[:n]  # noqa: E731
        return dataclasses.replace(self, text_a=self.text_a[:n], text_b=cut(self.text_b),
                                   labels=cut(self.labels), rows=self.rows[:n])

    def where(self, i):
        """'file, row N' of example i, for error messages."""
        return f"{self.source}, row {self.rows[i]}"
