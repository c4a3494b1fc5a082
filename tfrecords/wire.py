"""Serialized `tf.train.Example` bytes for a fixed schema, built with NumPy.

`tf.train.Example(...).SerializeToString()` costs about 27 us a record here,
more than everything else the writer does per record. The schema is fixed, so
the protobuf wire format (https://protobuf.dev/programming-guides/encoding/)
is written directly for a whole batch of records with array operations:

    Example   { Features features = 1; }
    Features  { map<string, Feature> feature = 1; }   // entries: key = 1, value = 2
    Feature   { BytesList bytes_list = 1; FloatList float_list = 2;
                Int64List int64_list = 3; }
    Int64List { repeated int64 value = 1 [packed]; }   // varints
    FloatList { repeated float value = 1 [packed]; }   // little-endian float32

Map entries follow the schema order. Parsing (`tf.io.parse_example`) gives the
same tensors as for `SerializeToString()`; tests check that.

Example:

    blob, lengths = encode_examples(schema, {"input_ids": ids, ...})  # ids: [n, 128]
    records = split_records(blob, lengths)                            # n bytes objects
"""

import numpy as np

from tfrecords import features

# Protobuf wire types (encoding guide): 2 = length-delimited.
_LEN = 2
# Feature's oneof field numbers (tensorflow/core/example/feature.proto).
_FEATURE_FIELD = {features.FLOAT32: 2, features.INT64: 3}


def _tag(field_number, wire_type=_LEN):
    return bytes([field_number << 3 | wire_type])


def _varint_bytes(value):
    """One non-negative int -> its varint bytes."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _varint_sizes(values):
    """Bytes taken by the varint of each non-negative int64 value."""
    sizes = np.ones(values.shape, np.int64)
    for shift in range(7, 64, 7):
        above = values >= (1 << shift)
        if not above.any():
            break
        sizes += above
    return sizes


class _Rows:
    """A piece of every record, as a padded `[n, width]` uint8 matrix.

    Row i's bytes are `data[i][valid[i]]` (`valid` None: all of them). Pieces
    are concatenated along axis 1 and compacted by one boolean mask at the end,
    so no per-byte index arithmetic is ever needed.
    """

    def __init__(self, data, valid, lengths):
        self.data, self.valid, self.lengths = data, valid, lengths

    @classmethod
    def constant(cls, data, n):
        row = np.frombuffer(data, np.uint8)
        return cls(np.broadcast_to(row, (n, row.size)), None, np.full(n, row.size, np.int64))

    @classmethod
    def varints(cls, values):
        """`values` int `[n, k]`, non-negative -> the packed varints of each row."""
        values = np.asarray(values)
        if values.size and values.min() < 0:
            raise ValueError("negative int64 values would need 10-byte varints; "
                             "the record schemas hold none")
        # 32-bit arithmetic is about twice as fast and enough for token ids.
        small = not values.size or values.max() < (1 << 32)
        utype = np.uint32 if small else np.uint64
        values = values.astype(utype)
        n, k = values.shape
        sizes = _varint_sizes(values)
        width = int(sizes.max()) if sizes.size else 1
        if width == 1:  # Every value < 128: one byte each.
            return cls(values.astype(np.uint8), None, np.full(n, k, np.int64))
        planes = []
        for i in range(width):
            group = ((values >> utype(7 * i)) & utype(0x7F)).astype(np.uint8)
            if i + 1 < width:  # Continuation bit: more groups follow.
                group |= (values >= (1 << 7 * (i + 1))).astype(np.uint8) << 7
            planes.append(group)
        data = np.stack(planes, axis=2).reshape(n, k * width)
        valid = (np.arange(width) < sizes[..., None]).reshape(n, k * width)
        return cls(data, valid, sizes.sum(axis=1))

    @classmethod
    def floats(cls, values):
        raw = np.ascontiguousarray(values, "<f4").view(np.uint8)
        return cls(raw, None, np.full(raw.shape[0], raw.shape[1], np.int64))


def _concat(pieces):
    """Row-wise concatenation of pieces -> (bytes of all rows back to back, lengths)."""
    data = np.concatenate([p.data for p in pieces], axis=1)
    lengths = np.sum([p.lengths for p in pieces], axis=0)
    if all(p.valid is None for p in pieces):
        return data.reshape(-1), lengths
    valid = np.concatenate([np.ones(p.data.shape, bool) if p.valid is None else p.valid
                            for p in pieces], axis=1)
    return data[valid], lengths


def _feature_pieces(feature, values, n):
    """Pieces of one map entry and the entry's byte length per row."""
    if feature.dtype == features.FLOAT32:
        payload = _Rows.floats(np.asarray(values, np.float32).reshape(n, feature.length))
    else:
        payload = _Rows.varints(np.asarray(values).reshape(n, feature.length))
    # Packed repeated field `value = 1`; an empty list has no field at all.
    list_len = payload.lengths + (1 + _varint_sizes(payload.lengths)) * (feature.length > 0)
    feature_len = 1 + _varint_sizes(list_len) + list_len
    key = feature.name.encode("utf-8")
    key_field = _tag(1) + _varint_bytes(len(key)) + key
    entry_len = len(key_field) + 1 + _varint_sizes(feature_len) + feature_len
    pieces = [
        _Rows.constant(_tag(1), n), _Rows.varints(entry_len[:, None]),
        _Rows.constant(key_field + _tag(2), n), _Rows.varints(feature_len[:, None]),
        _Rows.constant(_tag(_FEATURE_FIELD[feature.dtype]), n),
        _Rows.varints(list_len[:, None]),
    ]
    if feature.length:
        pieces += [_Rows.constant(_tag(1), n), _Rows.varints(payload.lengths[:, None]),
                   payload]
    return pieces, 1 + _varint_sizes(entry_len) + entry_len


def encode_examples(schema, columns):
    """Serializes `n` records of a fixed schema as `tf.train.Example` bytes.

    Args:
      schema: tuple of `features.Feature`.
      columns: `{name: array [n, length]}`; int64 features take non-negative
        integers, float features anything castable to float32.

    Returns:
      `(blob, lengths)`: uint8 array of the `n` serialized records back to back,
      and int64 `[n]` byte lengths.
    """
    n = len(next(iter(columns.values())))
    pieces, features_len = [], 0
    for feature in schema:
        entry_pieces, size = _feature_pieces(feature, columns[feature.name], n)
        pieces += entry_pieces
        features_len = features_len + size
    features_len = np.broadcast_to(np.asarray(features_len, np.int64), (n,))
    head = [_Rows.constant(_tag(1), n), _Rows.varints(features_len[:, None])]
    return _concat(head + pieces)


def split_records(blob, lengths):
    """`encode_examples` output -> list of `bytes`, one per record."""
    data = blob.tobytes()
    ends = np.cumsum(lengths).tolist()
    starts = [0] + ends[:-1]
    return [data[s:e] for s, e in zip(starts, ends)]
