"""Activation functions by the names used in bert_config.json / config.json.

`"gelu"` is the exact erf form: the released Google BERT checkpoints were
trained with it and Hugging Face's BERT uses it. `"gelu_new"`, `"gelu_tanh"`
and `"gelu_pytorch_tanh"` are the tanh approximation (Google's later code,
keras-hub, GPT-2).

Example:

    act = get_activation("gelu")      # exact
    y = act(tf.constant([0.5]))
"""

import keras


def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


ACTIVATIONS = {
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "gelu_tanh": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "relu": keras.activations.relu,
    "tanh": keras.activations.tanh,
    "swish": keras.activations.silu,
    "silu": keras.activations.silu,
    "linear": keras.activations.linear,
}


def get_activation(name: str):
    """Returns the activation function called `name`; raises naming the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None
