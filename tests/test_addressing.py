import numpy as np
import pytest
from gradients import check_gradients
from keras import ops

from keras_memory import addressing

EPS = addressing.EPSILON


def np_(x):
    return ops.convert_to_numpy(x)


def f32(x):
    return np.asarray(x, "float32")


def one_hot(index, size):
    return np.eye(size, dtype="float32")[index]


# -- hand-computed examples ----------------------------------------------------


def test_cosine_similarity_by_hand():
    key = f32([[1.0, 0.0]])
    memory = f32([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-2.0, 0.0]]])
    similarity = np_(addressing.cosine_similarity(key, memory))
    np.testing.assert_allclose(similarity, [[1.0, 0.0, 2**-0.5, -1.0]], atol=1e-5)


def test_content_addressing_by_hand():
    key = f32([[1.0, 0.0]])
    memory = f32([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]])
    beta = f32([[2.0]])
    weights = np_(addressing.content_addressing(key, memory, beta))
    scores = np.exp([2.0, 0.0, -2.0])
    np.testing.assert_allclose(weights, [scores / scores.sum()], atol=1e-5)


@pytest.mark.parametrize("zero", ["key", "memory", "both"])
def test_content_addressing_on_zeros_is_finite_and_uniform(zero):
    rng = np.random.default_rng(0)
    key = f32(rng.normal(size=(2, 3)))
    memory = f32(rng.normal(size=(2, 5, 3)))
    if zero in ("key", "both"):
        key = np.zeros_like(key)
    if zero in ("memory", "both"):
        memory = np.zeros_like(memory)
    weights = np_(addressing.content_addressing(key, memory, f32([[50.0], [1.0]])))
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, 0.2, atol=1e-6)


def test_interpolate_by_hand():
    content = f32([[1.0, 0.0, 0.0]])
    previous = f32([[0.0, 0.0, 1.0]])
    weights = np_(addressing.interpolate(content, previous, f32([[0.25]])))
    np.testing.assert_allclose(weights, [[0.25, 0.0, 0.75]], atol=1e-7)


@pytest.mark.parametrize(
    "radius, shift",
    [(r, s) for r in (1, 2) for s in range(-r, r + 1)],
)
@pytest.mark.parametrize("row", [0, 3, 5])
def test_circular_shift_moves_focus_and_wraps(radius, shift, row):
    size = 6
    weights = one_hot(row, size)[None]
    shift_weights = one_hot(shift + radius, 2 * radius + 1)[None]
    shifted = np_(addressing.circular_shift(weights, shift_weights))
    np.testing.assert_array_equal(shifted, one_hot((row + shift) % size, size)[None])


def test_circular_shift_matches_graves_formula():
    rng = np.random.default_rng(1)
    weights = f32(rng.dirichlet(np.ones(7), size=3))
    shift_weights = f32(rng.dirichlet(np.ones(5), size=3))
    shifted = np_(addressing.circular_shift(weights, shift_weights))
    expected = np.zeros_like(weights)
    for b in range(3):
        for i in range(7):
            for j in range(7):
                offset = (i - j) % 7  # shift i - j, in -2..2 after wrapping
                signed = offset if offset <= 2 else offset - 7
                if -2 <= signed <= 2:
                    expected[b, i] += weights[b, j] * shift_weights[b, signed + 2]
    np.testing.assert_allclose(shifted, expected, atol=1e-6)


def test_sharpen_by_hand():
    weights = f32([[0.2, 0.8]])
    sharpened = np_(addressing.sharpen(weights, f32([[2.0]])))
    np.testing.assert_allclose(sharpened, [[0.04 / 0.68, 0.64 / 0.68]], atol=1e-5)


@pytest.mark.parametrize("gamma", [1.0, 100.0, 1e4])
def test_sharpen_is_stable_for_large_gamma_and_zero_weights(gamma):
    weights = f32([[0.0, 0.3, 0.7, 0.0], [0.25, 0.25, 0.25, 0.25]])
    sharpened = np_(addressing.sharpen(weights, f32([[gamma], [gamma]])))
    assert np.all(np.isfinite(sharpened))
    np.testing.assert_allclose(sharpened.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(sharpened[1], 0.25, atol=1e-6)
    if gamma >= 100:
        np.testing.assert_allclose(sharpened[0], [0, 0, 1, 0], atol=1e-6)


def test_address_runs_the_four_stages_in_order():
    rng = np.random.default_rng(2)
    memory = f32(rng.normal(size=(2, 6, 3)))
    key = f32(rng.normal(size=(2, 3)))
    beta, gate, gamma = f32([[3.0], [0.5]]), f32([[0.7], [0.2]]), f32([[1.5], [4.0]])
    shift_weights = f32(rng.dirichlet(np.ones(3), size=2))
    previous = f32(rng.dirichlet(np.ones(6), size=2))
    weights = np_(addressing.address(key, beta, gate, shift_weights, gamma, previous, memory))

    cosine = np.einsum("bm,bnm->bn", key, memory) / (
        np.sqrt((key**2).sum(-1) + EPS)[:, None] * np.sqrt((memory**2).sum(-1) + EPS)
    )
    content = np.exp(beta * cosine)
    content /= content.sum(-1, keepdims=True)
    gated = gate * content + (1 - gate) * previous
    shifted = sum(np.roll(gated, s, axis=-1) * shift_weights[:, s + 1 : s + 2]
                  for s in (-1, 0, 1))
    sharp = (shifted + EPS) ** gamma
    expected = sharp / sharp.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_read_by_hand():
    memory = f32([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    reads = np_(addressing.read(memory, f32([[0.5, 0.5, 0.0]])))
    np.testing.assert_allclose(reads, [[2.0, 3.0]], atol=1e-6)


def test_write_by_hand():
    memory = f32([[[1.0, 1.0], [2.0, 2.0]]])
    weights = f32([[1.0, 0.0]])
    erase = f32([[1.0, 0.5]])
    add = f32([[3.0, 4.0]])
    new = np_(addressing.write(memory, weights, erase, add))
    # Row 0 is fully addressed: erased to [0, 0.5], then [3, 4] added.
    np.testing.assert_allclose(new, [[[3.0, 4.5], [2.0, 2.0]]], atol=1e-6)


def test_write_with_two_heads_multiplies_erase_and_sums_add():
    rng = np.random.default_rng(3)
    memory = f32(rng.normal(size=(1, 4, 2)))
    weights = f32(rng.dirichlet(np.ones(4), size=(1, 2)))
    erase = f32(rng.uniform(size=(1, 2, 2)))
    add = f32(rng.normal(size=(1, 2, 2)))
    new = np_(addressing.write(memory, weights, erase, add))
    keep = np.ones((4, 2))
    added = np.zeros((4, 2))
    for h in range(2):
        keep *= 1 - np.outer(weights[0, h], erase[0, h])
        added += np.outer(weights[0, h], add[0, h])
    np.testing.assert_allclose(new[0], memory[0] * keep + added, atol=1e-6)


def test_head_axis_equals_separate_calls():
    rng = np.random.default_rng(4)
    memory = f32(rng.normal(size=(2, 5, 3)))
    keys = f32(rng.normal(size=(2, 3, 3)))
    betas = f32(rng.uniform(1, 5, size=(2, 3, 1)))
    together = np_(addressing.content_addressing(keys, memory, betas))
    for h in range(3):
        alone = np_(addressing.content_addressing(keys[:, h], memory, betas[:, h]))
        np.testing.assert_allclose(together[:, h], alone, atol=1e-6)
    weights = f32(rng.dirichlet(np.ones(5), size=(2, 3)))
    reads = np_(addressing.read(memory, weights))
    for h in range(3):
        np.testing.assert_allclose(reads[:, h], np_(addressing.read(memory, weights[:, h])), atol=1e-6)


@pytest.mark.parametrize("width", [2, 4])
def test_circular_shift_rejects_even_width(width):
    with pytest.raises(ValueError, match="odd"):
        addressing.circular_shift(f32(np.ones((1, 6)) / 6), f32(np.ones((1, width)) / width))


def test_circular_shift_rejects_more_shifts_than_rows():
    with pytest.raises(ValueError, match="2R \\+ 1 must be <= N"):
        addressing.circular_shift(f32(np.ones((1, 3)) / 3), f32(np.ones((1, 5)) / 5))


def test_masked_softmax_all_masked_row_is_zero():
    weights = np_(addressing.masked_softmax(f32([[1.0, 2.0]]), np.array([[False, False]])))
    np.testing.assert_array_equal(weights, [[0.0, 0.0]])


# -- gradients -------------------------------------------------------------------

RNG = np.random.default_rng(5)
MEMORY = RNG.normal(size=(2, 4, 3))
KEY = RNG.normal(size=(2, 3))
WEIGHTS = RNG.dirichlet(np.ones(4), size=2)


def _total(weighting):
    # A scalar that depends on every output entry differently.
    return ops.sum(weighting * ops.convert_to_tensor(np.arange(1.0, 1.0 + weighting.shape[-1])))


@pytest.mark.parametrize(
    "name, fn, args",
    [
        ("cosine", lambda k, m: _total(addressing.cosine_similarity(k, m)), [KEY, MEMORY]),
        ("content", lambda k, m, b: _total(addressing.content_addressing(k, m, b)),
         [KEY, MEMORY, [[2.0], [0.5]]]),
        ("interpolate", lambda c, p, g: _total(addressing.interpolate(c, p, g)),
         [WEIGHTS, WEIGHTS[::-1], [[0.3], [0.8]]]),
        ("shift", lambda w, s: _total(addressing.circular_shift(w, s)),
         [WEIGHTS, RNG.dirichlet(np.ones(3), size=2)]),
        ("sharpen", lambda w, g: _total(addressing.sharpen(w, g)), [WEIGHTS, [[1.5], [3.0]]]),
        ("read", lambda m, w: _total(addressing.read(m, w)), [MEMORY, WEIGHTS]),
        ("write", lambda m, w, e, a: _total(ops.sum(addressing.write(m, w, e, a), axis=1)),
         [MEMORY, WEIGHTS, RNG.uniform(size=(2, 3)), RNG.normal(size=(2, 3))]),
        ("address",
         lambda k, b, g, s, y, p, m: _total(addressing.address(k, b, g, s, y, p, m)),
         [KEY, [[2.0], [1.0]], [[0.6], [0.3]], RNG.dirichlet(np.ones(3), size=2),
          [[1.5], [2.5]], WEIGHTS, MEMORY]),
    ],
)
def test_finite_difference_gradients(name, fn, args):
    check_gradients(fn, args)
