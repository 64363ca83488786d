import numpy as np
import pytest

from keras_memory import tasks


def test_key_value_lookup_answer_is_value_beside_matching_key():
    (query, memories), answers = tasks.key_value_lookup(
        50, num_memories=5, key_dim=4, num_classes=3, noise=0.0, seed=0
    )
    assert query.shape == (50, 7) and memories.shape == (50, 5, 7)
    assert answers.dtype == np.int32 and query.dtype == np.float32
    np.testing.assert_array_equal(query[:, 4:], 0.0)
    for q, m, a in zip(query, memories, answers):
        slot = np.argmin(np.abs(m[:, :4] - q[:4]).sum(-1))
        assert np.argmax(m[slot, 4:]) == a


def test_key_value_lookup_is_seeded():
    first = tasks.key_value_lookup(10, seed=3)
    second = tasks.key_value_lookup(10, seed=3)
    np.testing.assert_array_equal(first[0][1], second[0][1])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0][1], tasks.key_value_lookup(10, seed=4)[0][1])


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"num_examples": 0}, ValueError, "num_examples=0"),
        ({"num_examples": 4, "num_memories": 0}, ValueError, "num_memories=0"),
        ({"num_examples": 4, "key_dim": 1.5}, TypeError, "key_dim=1.5"),
        ({"num_examples": 4, "noise": -1.0}, ValueError, "noise=-1.0"),
    ],
)
def test_key_value_lookup_rejects_bad_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        tasks.key_value_lookup(**kwargs)
