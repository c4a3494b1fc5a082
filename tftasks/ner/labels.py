"""`TagSet`: the tags a token classifier predicts (learned from training), and their scheme.

Saved in `labels.json` (`tftasks.common.outputs.write_labels`) in output_dir,
best/ and a folder to continue from, so that reruns, evaluation-only runs and
the export use the tags of training. Tags are sorted with "O" first;
the scheme is IOB1, IOB2 or BIOES (`--tag_scheme=auto`: detected from the
training tags).

Example:

    tag_set = TagSet.learn(train.tags, "auto")   # TagSet(["O", "B-LOC", ...], "IOB2")
    tag_set.encode(sentences)                     # int32 ids, DataError for unknown tags
    TagSet.from_json(tag_set.to_json()) == tag_set
"""

import dataclasses
from typing import List

from tftasks.common.errors import DataError
from tftasks.ner.tags import OUTSIDE, SCHEMES, check_scheme, detect_scheme, split_tag

KIND = "token_classification"


@dataclasses.dataclass(frozen=True)
class TagSet:
    """`names`: the tags, id = index; `scheme`: IOB1, IOB2 or BIOES."""

    names: List[str]
    scheme: str

    @property
    def num_labels(self):
        return len(self.names)

    @property
    def entity_types(self):
        return sorted({split_tag(t)[1] for t in self.names if t != OUTSIDE})

    @classmethod
    def learn(cls, sentences, scheme="auto"):
        """The tags of training `Sentences` ("O" first, then sorted); DataError on a bad tag."""
        detected = detect_scheme(sentences.tags)
        if scheme == "auto":
            scheme = detected
        for i, tags in enumerate(sentences.tags):
            for j, tag in enumerate(tags):
                try:
                    check_scheme(tag, scheme)
                except ValueError as e:
                    raise DataError(f"{sentences.where(i, j)}: {e}; --tag_scheme={scheme}"
                                    f"{'' if scheme == detected else f' (the data look {detected})'}"
                                    ".") from None
        names = sorted({t for tags in sentences.tags for t in tags} - {OUTSIDE})
        return cls([OUTSIDE] + names, scheme)

    def encode(self, sentences):
        """Tag ids per sentence (lists of int); DataError naming the line of an unknown tag."""
        ids = {t: i for i, t in enumerate(self.names)}
        out = []
        for i, tags in enumerate(sentences.tags):
            row = []
            for j, tag in enumerate(tags):
                if tag not in ids:
                    raise DataError(f"{sentences.where(i, j)}: tag {tag!r} is not among the "
                                    f"{len(self.names)} tags learned from training "
                                    f"({self.names}).")
                row.append(ids[tag])
            out.append(row)
        return out

    def to_json(self):
        return {"kind": KIND, "tags": list(self.names), "scheme": self.scheme}

    @classmethod
    def from_json(cls, data):
        """The TagSet of a `labels.json` dict, or None when it holds another task's labels."""
        if not data or data.get("kind") != KIND:
            return None
        if data.get("scheme") not in SCHEMES:
            raise DataError(f"labels.json: unknown tag scheme {data.get('scheme')!r}.")
        return cls(list(data["tags"]), data["scheme"])
