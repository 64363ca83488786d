import numpy as np
import pytest
from gradients import check_gradients
from keras import ops

import keras_memory as km
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
        np.testing.assert_allclose(reads[:, h], np_(addressing.read(memory, weights[:, h])),
                                   atol=1e-6)


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


# -- DNC memory functions (Graves et al., 2016) ----------------------------------
#
# A NumPy transcription of the paper's equations, written from the paper
# (Methods, "Dynamic memory allocation" and "Temporal memory linkage"), and
# deepmind's own special cases (google-deepmind/dnc addressing_test.py).


def np_allocation(usage, eps=EPS):
    usage = eps + (1 - eps) * np.asarray(usage, "float64")
    result = np.zeros_like(usage)
    for b in range(usage.shape[0]):
        order = np.argsort(usage[b], kind="stable")  # phi: least used first
        product = 1.0
        for j in order:
            result[b, j] = (1 - usage[b, j]) * product
            product *= usage[b, j]
    return result


def np_write_allocation(usage, gates):
    usage = np.asarray(usage, "float64").copy()
    heads = []
    for i in range(gates.shape[1]):
        a = np_allocation(usage)
        heads.append(a)
        usage = usage + (1 - usage) * gates[:, i : i + 1] * a
    return np.stack(heads, 1)


def np_usage_update(usage, write_weights, free_gates, read_weights):
    usage = usage + (1 - usage) * (1 - np.prod(1 - write_weights, axis=1))
    return usage * np.prod(1 - free_gates[:, :, None] * read_weights, axis=1)


def np_precedence(precedence, write_weights):
    return (1 - write_weights.sum(-1, keepdims=True)) * precedence + write_weights


def np_link(link, precedence, write_weights):
    out = np.zeros_like(link)
    batch, heads, size, _ = link.shape
    for b, w, i, j in np.ndindex(batch, heads, size, size):
        if i != j:
            ww = write_weights[b, w]
            out[b, w, i, j] = (1 - ww[i] - ww[j]) * link[b, w, i, j] + ww[i] * precedence[b, w, j]
    return out


def np_directional(link, read_weights, forward):
    matrix = link if forward else np.swapaxes(link, -1, -2)
    return np.einsum("bwij,brj->brwi", matrix, read_weights)


B_, N_, M_, R_, W_ = 2, 5, 3, 2, 2
DNC = np.random.default_rng(11)
USAGE = DNC.uniform(size=(B_, N_))
WRITE_W = DNC.dirichlet(np.ones(N_), size=(B_, W_)) * 0.9
READ_W = DNC.dirichlet(np.ones(N_), size=(B_, R_))
LINK = np_link(DNC.uniform(size=(B_, W_, N_, N_)) * 0.2,
               DNC.dirichlet(np.ones(N_), size=(B_, W_)) * 0.5, WRITE_W)
PRECEDENCE = DNC.dirichlet(np.ones(N_), size=(B_, W_)) * 0.7


def test_allocation_matches_the_paper():
    np.testing.assert_allclose(np_(addressing.allocation(f32(USAGE))), np_allocation(USAGE),
                               atol=1e-6)


def test_allocation_goes_to_the_least_used_rows_in_order():
    usage = f32([[0.9, 0.1, 0.5, 1.0]])
    weights = np_(addressing.allocation(usage))
    # Row 1 (least used) gets 1 - 0.1; row 2 gets (1 - 0.5) * 0.1; then row 0.
    np.testing.assert_allclose(weights, [[0.1 * 0.5 * 0.1, 0.9, 0.05, 0.0]], atol=1e-5)
    # Ties: all rows free, so the first row takes everything (every backend).
    np.testing.assert_allclose(np_(addressing.allocation(np.zeros((2, 4), "float32"))),
                               [[1 - EPS, EPS * (1 - EPS), 0, 0]] * 2, atol=1e-9)


def test_write_allocation_heads_allocate_the_next_free_rows():
    # Least used first: rows 1, 2, 3, 0; each head takes the next one.
    usage = f32([[0.9, 0.0, 0.3, 0.6]])
    weights = np_(addressing.write_allocation(usage, f32([[1.0, 1.0, 1.0]])))
    assert weights.shape == (1, 3, 4)
    np.testing.assert_array_equal(np.argmax(weights, -1), [[1, 2, 3]])
    gates = DNC.uniform(size=(B_, W_))
    np.testing.assert_allclose(np_(addressing.write_allocation(f32(USAGE), f32(gates))),
                               np_write_allocation(USAGE, gates), atol=1e-6)


def test_usage_update_matches_the_paper_and_frees_and_fills_rows():
    free = DNC.uniform(size=(B_, R_))
    np.testing.assert_allclose(
        np_(addressing.usage_update(f32(USAGE), f32(WRITE_W), f32(free), f32(READ_W))),
        np_usage_update(USAGE, WRITE_W, free, READ_W), atol=1e-6)
    # A full write makes a row used; a full free of a read row frees it.
    usage = f32([[0.0, 0.5, 0.5]])
    write_weights = f32([[[1.0, 0.0, 0.0]]])
    read_weights = f32([[[0.0, 1.0, 0.0]]])
    new = np_(addressing.usage_update(usage, write_weights, f32([[1.0]]), read_weights))
    np.testing.assert_allclose(new, [[1.0, 0.0, 0.5]], atol=1e-7)


def test_precedence_and_links_match_the_paper():
    np.testing.assert_allclose(
        np_(addressing.precedence_update(f32(PRECEDENCE), f32(WRITE_W))),
        np_precedence(PRECEDENCE, WRITE_W), atol=1e-6)
    link = np_(addressing.link_update(f32(LINK), f32(PRECEDENCE), f32(WRITE_W)))
    np.testing.assert_allclose(link, np_link(LINK, PRECEDENCE, WRITE_W), atol=1e-6)
    assert np.all(np.diagonal(link, axis1=-2, axis2=-1) == 0)


def test_writes_to_rows_0_then_1_link_0_to_1_and_reads_follow_them():
    size = 3
    link = np.zeros((1, 1, size, size), "float32")
    precedence = np.zeros((1, 1, size), "float32")
    for row in (0, 1):
        write_weights = f32(one_hot(row, size)[None, None])
        link = addressing.link_update(link, precedence, write_weights)
        precedence = addressing.precedence_update(precedence, write_weights)
    link = np_(link)
    assert link[0, 0, 1, 0] == 1.0 and link.sum() == 1.0  # L[1, 0]: 1 came after 0

    def directional(row, forward):
        weights = f32(one_hot(row, size)[None, None])
        return np_(addressing.directional_read_weights(link, weights, forward))

    forward, backward = directional(0, True), directional(1, False)
    np.testing.assert_array_equal(forward[0, 0, 0], one_hot(1, size))  # forward from 0 reads 1
    np.testing.assert_array_equal(backward[0, 0, 0], one_hot(0, size))  # backward from 1 reads 0


@pytest.mark.parametrize("forward", [True, False])
def test_directional_read_weights_match_the_paper(forward):
    weights = np_(addressing.directional_read_weights(f32(LINK), f32(READ_W), forward))
    assert weights.shape == (B_, R_, W_, N_)
    np.testing.assert_allclose(weights, np_directional(LINK, READ_W, forward), atol=1e-6)


def _interface(rng, writes=W_):
    modes = rng.dirichlet(np.ones(2 * writes + 1), size=(B_, R_))
    w = writes
    return dict(
        read_keys=rng.normal(size=(B_, R_, M_)), read_strengths=rng.uniform(1, 3, (B_, R_)),
        write_keys=rng.normal(size=(B_, w, M_)), write_strengths=rng.uniform(1, 3, (B_, w)),
        erase_vectors=rng.uniform(size=(B_, w, M_)), write_vectors=rng.normal(size=(B_, w, M_)),
        free_gates=rng.uniform(size=(B_, R_)), allocation_gates=rng.uniform(size=(B_, w)),
        write_gates=rng.uniform(size=(B_, w)), read_modes=modes,
    )


def _np_cosine_weights(keys, memory, strengths):
    dots = np.einsum("bhm,bnm->bhn", keys, memory)
    norms = (np.sqrt((keys ** 2).sum(-1) + EPS)[..., None]
             * np.sqrt((memory ** 2).sum(-1) + EPS)[:, None])
    scores = strengths[..., None] * dots / norms
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    return scores / scores.sum(-1, keepdims=True)


@pytest.mark.parametrize("writes", [1, W_])  # one write head has its own sums
def test_dnc_access_is_the_paper_step_in_deepmind_order(writes):
    rng = np.random.default_rng(3)
    memory = rng.normal(size=(B_, N_, M_))
    link, precedence = LINK[:, :writes], PRECEDENCE[:, :writes]
    previous_writes = WRITE_W[:, :writes]
    state = (memory, USAGE, link, precedence, READ_W, previous_writes)
    interface = _interface(rng, writes)
    result = addressing.dnc_access(*map(f32, state), **{k: f32(v) for k, v in interface.items()})
    i = interface
    usage = np_usage_update(USAGE, previous_writes, i["free_gates"], READ_W)
    allocation = np_write_allocation(usage, i["write_gates"] * i["allocation_gates"])
    content = _np_cosine_weights(i["write_keys"], memory, i["write_strengths"])
    g, a = i["write_gates"][..., None], i["allocation_gates"][..., None]
    write_weights = g * (a * allocation + (1 - a) * content)
    erase = np.prod(1 - write_weights[..., None] * i["erase_vectors"][:, :, None], axis=1)
    new_memory = memory * erase + np.einsum("bwn,bwm->bnm", write_weights, i["write_vectors"])
    new_link = np_link(link, precedence, write_weights)
    precedence = np_precedence(precedence, write_weights)
    modes, w = i["read_modes"], writes
    read_weights = (
        np.einsum("brw,brwn->brn", modes[..., :w], np_directional(new_link, READ_W, False))
        + np.einsum("brw,brwn->brn", modes[..., w:2 * w], np_directional(new_link, READ_W, True))
        + modes[..., 2 * w:] * _np_cosine_weights(i["read_keys"], new_memory, i["read_strengths"])
    )
    expected = dict(read_words=np.einsum("brn,bnm->brm", read_weights, new_memory),
                    memory=new_memory, usage=usage, link=new_link, precedence=precedence,
                    read_weights=read_weights, write_weights=write_weights)
    assert result._fields == tuple(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(np_(getattr(result, name)), value, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_dnc_functions_stay_finite_at_usage_0_and_1(value):
    usage = np.full((B_, N_), value, "float32")
    assert np.all(np.isfinite(np_(addressing.allocation(usage))))
    rng = np.random.default_rng(4)
    zeros = np.zeros
    state = (zeros((B_, N_, M_)), usage, zeros((B_, W_, N_, N_)), zeros((B_, W_, N_)),
             zeros((B_, R_, N_)), zeros((B_, W_, N_)))
    interface = {k: f32(v) for k, v in _interface(rng).items()}
    result = addressing.dnc_access(*map(f32, state), **interface)
    for name, part in zip(result._fields, result):
        assert np.all(np.isfinite(np_(part))), name


@pytest.mark.parametrize(
    "name, fn, args",
    [
        # Distinct usages: the sort is smooth there (piecewise smooth overall).
        ("allocation", lambda u: _total(addressing.allocation(u)), [USAGE]),
        ("write_allocation",
         lambda u, g: _total(ops.sum(addressing.write_allocation(u, g), axis=1)),
         [USAGE, DNC.uniform(size=(B_, W_))]),
        ("usage_update", lambda u, w, f, r: _total(addressing.usage_update(u, w, f, r)),
         [USAGE, WRITE_W, DNC.uniform(size=(B_, R_)), READ_W]),
        ("precedence", lambda p, w: _total(ops.sum(addressing.precedence_update(p, w), 1)),
         [PRECEDENCE, WRITE_W]),
        ("link", lambda k, p, w: _total(ops.sum(addressing.link_update(k, p, w), (1, 2))),
         [LINK, PRECEDENCE, WRITE_W]),
        ("directional", lambda k, r: _total(ops.sum(
            addressing.directional_read_weights(k, r, True), (1, 2))), [LINK, READ_W]),
    ],
)
def test_dnc_finite_difference_gradients(name, fn, args):
    check_gradients(fn, args)


def test_address_takes_head_parameters_by_their_field_names():
    """`address(**params)` for a head's `HeadParameters` (erase and add aside)."""
    rng = np.random.default_rng(5)
    head = km.NTMReadHead()
    head.build([(None, 3), (None, 6, 4), (None, 6)])
    params = head.parameters(f32(rng.normal(size=(2, head.projection_size))))
    memory, previous = f32(rng.normal(size=(2, 6, 4))), f32(np.full((2, 6), 1 / 6))
    fields = {k: v for k, v in params._asdict().items() if v is not None}
    by_name = np_(addressing.address(**fields, previous_weights=previous, memory=memory))
    by_position = np_(addressing.address(
        params.key, params.strength, params.gate, params.shift, params.sharpening,
        previous, memory))
    np.testing.assert_array_equal(by_name, by_position)
