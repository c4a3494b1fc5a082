import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from tests.tfgpt.gpt_testing import tiny_lm
import functools

from tfgpt.decoding import generate as generate_default
from tfcore.samplers import TopKSampler, TopPSampler, get_sampler
from tfgpt.streaming import stream

PROMPTS = [[5, 9, 2, 33, 7, 11], [40, 1], [17, 3, 8]]
PAD = 60  # tiny_config: vocab 61, eos = pad = 60
# XLA (the default) is covered by the first test; elsewhere the plain graph traces once.
generate = functools.partial(generate_default, jit_compile=False)


def uncached_greedy(lm, prompt, new):
    """Reference: one full forward pass per new token, no cache."""
    ids = list(prompt)
    for _ in range(new):
        logits = lm({"token_ids": tf.constant([ids], tf.int32)})
        ids.append(int(tf.argmax(logits[0, -1])))
    return ids


@pytest.mark.parametrize("jit_compile", [False, True])
def test_cached_batched_greedy_equals_uncached_one_by_one(jit_compile):
    lm = tiny_lm()
    out = lm.generate(tf.ragged.constant(PROMPTS), max_new_tokens=8, jit_compile=jit_compile)
    assert out.shape == (3, 6 + 8)
    for row, prompt in zip(out.numpy(), PROMPTS):
        expected = uncached_greedy(lm, prompt, 8)
        assert row[:len(expected)].tolist() == expected
        assert np.all(row[len(expected):] == PAD)


def test_batched_prompts_equal_running_them_one_by_one_with_padding_mask():
    lm = tiny_lm()
    padded = np.full((3, 6), 0, np.int32)
    mask = np.zeros((3, 6), np.int32)
    for i, p in enumerate(PROMPTS):
        padded[i, :len(p)], mask[i, :len(p)] = p, 1
    greedy = generate(lm, padded, max_new_tokens=7, padding_mask=mask).numpy()
    assert greedy.shape == (3, 13)
    for row, prompt in zip(greedy, PROMPTS):
        alone = generate(lm, [prompt], max_new_tokens=7).numpy()[0]
        assert np.array_equal(row[:len(alone)], alone) and np.all(row[len(alone):] == PAD)
    sampled = generate(lm, padded, max_new_tokens=7, padding_mask=mask, sampler="top_k", k=4,
                       seed=3).numpy()
    assert np.array_equal(sampled[:, :6] * mask, padded) and sampled.shape == (3, 13)


def test_end_token_stops_a_row_and_pads_the_rest():
    lm = tiny_lm()
    free = generate(lm, tf.ragged.constant(PROMPTS), max_new_tokens=8).numpy()
    end = int(free[1, 2 + 2])  # the third new token of the second prompt
    out, counts = generate(lm, tf.ragged.constant(PROMPTS), max_new_tokens=8, end_token_id=end,
                           return_lengths=True)
    out = out.numpy()
    row = out[1]
    first_end = 2 + list(row[2:]).index(end)
    assert np.array_equal(row[:first_end + 1], free[1][:first_end + 1])
    assert np.all(row[first_end + 1:] == PAD) and counts.numpy()[1] == first_end + 1 - 2


def test_top_k_never_samples_outside_the_top_k():
    logits = tf.constant(np.random.default_rng(0).normal(size=(64, 61)) * 3, tf.float32)
    top3 = tf.math.top_k(logits, 3).indices.numpy()
    sampler = TopKSampler(k=3)
    seen = set()
    for seed in range(20):
        chosen = sampler(logits, tf.constant([seed, 1]), 2.0).numpy()
        assert all(c in t for c, t in zip(chosen, top3))
        seen.update(zip(range(64), chosen))
    assert len(seen) > 64 * 2  # it does sample, not always the argmax


def test_top_k_and_top_p_in_generation_stay_in_their_sets():
    lm = tiny_lm()
    for sampler, kwargs in (("top_k", {"k": 2}), ("top_p", {"p": 0.5})):
        out = generate(lm, [[5, 9, 2]], max_new_tokens=10, sampler=sampler, seed=4,
                       temperature=1.5, **kwargs).numpy()[0]
        logits = lm({"token_ids": out[None, :-1]}).numpy()[0]
        for position in range(3, 13):
            step = logits[position - 1] / 1.5
            order = np.argsort(-step)
            if sampler == "top_k":
                allowed = order[:2]
            else:
                probs = np.exp(step - step.max())
                probs /= probs.sum()
                before = np.cumsum(probs[order]) - probs[order]
                allowed = order[before < 0.5]
            assert out[position] in allowed, (sampler, position)


def test_top_p_keeps_the_smallest_nucleus():
    probs = np.array([[0.5, 0.3, 0.15, 0.05]])
    logits = tf.constant(np.log(probs), tf.float32)
    draws = {int(TopPSampler(p=0.75)(logits, tf.constant([s, 0]), 1.0)[0]) for s in range(60)}
    assert draws == {0, 1}


def test_seed_reproducibility_and_temperature_zero_is_greedy():
    lm = tiny_lm()
    ragged = tf.ragged.constant(PROMPTS)
    a = generate(lm, ragged, max_new_tokens=10, sampler="random", seed=7)
    b = generate(lm, ragged, max_new_tokens=10, sampler="random", seed=7)
    c = generate(lm, ragged, max_new_tokens=10, sampler="random", seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    cold = generate(lm, ragged, max_new_tokens=10, sampler="top_p", temperature=0.0, seed=1)
    assert np.array_equal(cold, generate(lm, ragged, max_new_tokens=10))


def test_keras_hub_sampler_objects_are_accepted():
    lm = tiny_lm()
    out = generate(lm, [[5, 9, 2]], max_new_tokens=6,
                   sampler=keras_hub.samplers.TopKSampler(k=1, seed=1))
    assert np.array_equal(out, generate(lm, [[5, 9, 2]], max_new_tokens=6))


def test_streaming_yields_what_generate_returns():
    lm = tiny_lm()
    tokens = list(stream(lm, [17, 3, 8], max_new_tokens=9, sampler="top_k", k=5, seed=2))
    batch = generate(lm, [[17, 3, 8]], max_new_tokens=9, sampler="top_k", k=5, seed=2).numpy()[0]
    assert tokens == batch[3:].tolist()


def test_bad_requests_name_the_problem():
    lm = tiny_lm()
    with pytest.raises(ValueError, match=r"prompt length 40 \+ max_new_tokens 10 = 50 exceeds "
                                         r"max_position_embeddings 48"):
        generate(lm, np.ones((2, 40), np.int32), max_new_tokens=10)
    with pytest.raises(ValueError, match=r"prompt\(s\) \[1\] are empty"):
        generate(lm, tf.ragged.constant([[1, 2], []], tf.int32), max_new_tokens=3)
    with pytest.raises(ValueError, match="max_new_tokens must be >= 0"):
        generate(lm, [[1, 2]], max_new_tokens=-1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="right padding"):
        generate(lm, [[1, 2, 3]], padding_mask=[[1, 0, 1]], max_new_tokens=2)
    with pytest.raises(ValueError, match="Unknown sampler 'beam'"):
        get_sampler("beam")
    with pytest.raises(ValueError, match="exceeds max_position_embeddings 48"):
        list(stream(lm, [1] * 40, max_new_tokens=9))
    unchanged = generate(lm, tf.ragged.constant([[1, 2, 3], [4]]), max_new_tokens=0).numpy()
    assert unchanged.tolist() == [[1, 2, 3], [4, PAD, PAD]]
