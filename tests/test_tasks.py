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


def test_copy_sequences_layout():
    inputs, targets, weights = tasks.copy_sequences(
        4, min_length=2, max_length=5, num_bits=3, seed=1
    )
    assert inputs.shape == (4, 11, 4) and targets.shape == (4, 11, 3)
    assert weights.shape == (4, 11)
    for x, y, w in zip(inputs, targets, weights):
        length = int(np.argmax(x[:, 3]))  # the delimiter step
        assert 2 <= length <= 5 and x[length, 3] == 1 and x[:, 3].sum() == 1
        np.testing.assert_array_equal(x[length:, :3], 0)  # no data after it
        np.testing.assert_array_equal(y[length + 1 : 2 * length + 1], x[:length, :3])
        np.testing.assert_array_equal(w, (np.arange(11) > length) & (np.arange(11) <= 2 * length))
        np.testing.assert_array_equal(y[w == 0], 0)


def test_copy_sequences_pad_to_and_errors():
    inputs, _, _ = tasks.copy_sequences(2, 3, 3, num_bits=2, pad_to=10, seed=0)
    assert inputs.shape == (2, 10, 3)
    with pytest.raises(ValueError, match="pad_to=5"):
        tasks.copy_sequences(2, 3, 3, pad_to=5)
    with pytest.raises(ValueError, match="min_length=4 and max_length=3"):
        tasks.copy_sequences(2, 4, 3)
    with pytest.raises(ValueError, match="num_bits=0"):
        tasks.copy_sequences(2, num_bits=0)


def test_copy_task_dataset_is_seeded_per_batch():
    data = tasks.CopyTask(3, steps_per_epoch=4, max_length=4, seed=5)
    assert len(data) == 4
    first = data[2]
    np.testing.assert_array_equal(first[0], tasks.CopyTask(3, 4, max_length=4, seed=5)[2][0])
    assert not np.array_equal(first[0], data[1][0])
    data.on_epoch_end()
    assert not np.array_equal(first[0], data[2][0])


def test_bit_errors_per_sequence_counts_only_weighted_steps():
    metric = tasks.BitErrorsPerSequence()
    y_true = np.array([[[1, 0], [1, 1], [0, 0]], [[0, 0], [0, 0], [1, 1]]], "float32")
    y_pred = np.array([[[0.9, 0.8], [0.2, 0.7], [1, 1]], [[0, 0], [0, 0], [0, 0]]], "float32")
    weights = np.array([[1, 1, 0], [0, 0, 1]], "float32")
    metric.update_state(y_true, y_pred, sample_weight=weights)
    # Sequence 1: 1 + 1 wrong bits on weighted steps; sequence 2: 2.
    assert float(metric.result()) == pytest.approx(2.0)
    logits = tasks.BitErrorsPerSequence(from_logits=True)
    logits.update_state(y_true, y_pred - 0.5, sample_weight=weights)
    assert float(logits.result()) == pytest.approx(2.0)
    revived = tasks.BitErrorsPerSequence.from_config(logits.get_config())
    assert revived.from_logits is True
