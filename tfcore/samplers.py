"""Next-token samplers: greedy, random (temperature), top-k, top-p, keras-hub objects.

Our samplers draw with stateless random ops from a `[2]` int32 seed that the
decode loop derives from the user's seed and the step, so a seed gives the
same tokens every time, in Python and inside an exported SavedModel (where
the seed and the temperature are inputs). A temperature <= 0 (or NaN) falls
back to greedy decoding instead of dividing by zero.

keras-hub sampler objects (`keras_hub.samplers.TopKSampler(k=5, seed=1)`,
...) are accepted too: their own `compute_probabilities` (with their own
temperature) and `get_next_token` run inside our loop; they draw from their
own seed generator, so our `seed` argument does not apply to them.

Example:

    sampler = get_sampler("top_k", k=10)
    next_ids = sampler(logits, seed=tf.constant([7, 0]), temperature=0.8)   # int32 [batch]
"""

import tensorflow as tf

# Logit given to tokens a filter removes (finite: keeps softmax NaN-free).
FILTERED_LOGIT = -1e9


def _greedy(logits):
    return tf.argmax(logits, axis=-1, output_type=tf.int32)


def _draw(logits, seed, temperature):
    """Samples from softmax(logits / temperature) per row; greedy when temperature <= 0."""
    temperature = tf.cast(temperature, tf.float32)
    usable = temperature > 0.0
    safe = tf.where(usable, temperature, 1.0)
    drawn = tf.random.stateless_categorical(logits / safe, 1, seed=seed, dtype=tf.int32)[:, 0]
    return tf.where(usable, drawn, _greedy(logits))


class GreedySampler:
    """The most likely token (ties: the lowest id)."""

    name = "greedy"

    def cache_key(self):
        return (self.name,)

    def __call__(self, logits, seed=None, temperature=None):
        return _greedy(logits)


class RandomSampler(GreedySampler):
    """A draw from the whole distribution softmax(logits / temperature)."""

    name = "random"

    def __call__(self, logits, seed, temperature=1.0):
        return _draw(logits, seed, temperature)


class TopKSampler(GreedySampler):
    """A draw among the `k` most likely tokens (renormalised)."""

    name = "top_k"

    def __init__(self, k=5):
        if int(k) < 1:
            raise ValueError(f"top_k sampler: k must be >= 1, got {k}.")
        self.k = int(k)

    def cache_key(self):
        return (self.name, self.k)

    def __call__(self, logits, seed, temperature=1.0):
        k = min(self.k, logits.shape[-1]) if logits.shape[-1] is not None else self.k
        values, indices = tf.math.top_k(logits, k=k)
        choice = _draw(values, seed, temperature)
        return tf.gather(indices, choice[:, None], batch_dims=1)[:, 0]


class TopPSampler(GreedySampler):
    """Nucleus sampling: a draw among the most likely tokens whose probabilities
    (at the given temperature) sum to at least `p`; `k` optionally caps their number."""

    name = "top_p"

    def __init__(self, p=0.9, k=None):
        if not 0.0 < float(p) <= 1.0:
            raise ValueError(f"top_p sampler: p must be in (0, 1], got {p}.")
        self.p, self.k = float(p), None if k is None else int(k)

    def cache_key(self):
        return (self.name, self.p, self.k)

    def __call__(self, logits, seed, temperature=1.0):
        vocab = self.k or tf.shape(logits)[-1]
        values, indices = tf.math.top_k(logits, k=vocab)  # sorted, most likely first
        temperature = tf.cast(temperature, tf.float32)
        scaled = values / tf.where(temperature > 0.0, temperature, 1.0)
        probs = tf.nn.softmax(scaled, axis=-1)
        # Keep a token while the mass before it is below p: the first always stays.
        before = tf.math.cumsum(probs, axis=-1, exclusive=True)
        values = tf.where(before < self.p, values, FILTERED_LOGIT)
        choice = _draw(values, seed, temperature)
        return tf.gather(indices, choice[:, None], batch_dims=1)[:, 0]


class KerasHubSampler:
    """Runs a `keras_hub.samplers.Sampler` object's probability and choice steps."""

    def __init__(self, sampler):
        self.sampler = sampler

    def cache_key(self):
        return ("keras_hub", id(self.sampler))

    def __call__(self, logits, seed=None, temperature=None):
        probabilities = self.sampler.compute_probabilities(logits)
        return tf.cast(self.sampler.get_next_token(probabilities), tf.int32)


SAMPLERS = {"greedy": GreedySampler, "random": RandomSampler, "temperature": RandomSampler,
            "top_k": TopKSampler, "top_p": TopPSampler}


def get_sampler(sampler="greedy", **kwargs):
    """A sampler from a name (`greedy`, `random`/`temperature`, `top_k`, `top_p`), one of
    ours, or a keras-hub sampler object. `kwargs` (`k`, `p`) go to named samplers."""
    if isinstance(sampler, GreedySampler) or isinstance(sampler, KerasHubSampler):
        return sampler
    if isinstance(sampler, str):
        if sampler not in SAMPLERS:
            raise ValueError(f"Unknown sampler {sampler!r}; expected one of {sorted(SAMPLERS)} "
                             "or a keras_hub.samplers object.")
        return SAMPLERS[sampler](**kwargs)
    if hasattr(sampler, "get_next_token") and hasattr(sampler, "compute_probabilities"):
        return KerasHubSampler(sampler)
    raise TypeError(f"sampler must be a name, a tfgpt sampler or a keras_hub sampler, "
                    f"got {type(sampler).__name__}.")
