import keras
import numpy as np
import pytest

from keras_memory import tasks


def test_key_value_lookup_answer_is_value_beside_matching_key():
    (query, memories), answers = tasks.key_value_lookup(
        50, memory_size=5, key_dim=4, num_classes=3, noise=0.0, seed=0
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
        ({"num_examples": 4, "memory_size": 0}, ValueError, "memory_size=0"),
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
        np.testing.assert_array_equal(y[w == 0], tasks.NO_TARGET)


def test_copy_sequences_pad_to_and_errors():
    inputs, _, _ = tasks.copy_sequences(2, 3, 3, num_bits=2, pad_to=10, seed=0)
    assert inputs.shape == (2, 10, 3)
    with pytest.raises(ValueError, match="pad_to=5"):
        tasks.copy_sequences(2, 3, 3, pad_to=5)
    with pytest.raises(ValueError, match="min_length=4 and max_length=3"):
        tasks.copy_sequences(2, 4, 3)
    with pytest.raises(ValueError, match="num_bits=0"):
        tasks.copy_sequences(2, num_bits=0)


def test_algorithmic_task_without_a_seed_draws_a_fresh_one():
    first, second = (tasks.AlgorithmicTask("copy", 4, 1, buckets=1) for _ in range(2))
    assert first.seed != second.seed
    assert not np.array_equal(first[0][0], second[0][0])
    # The seed drawn is kept: a task made with it gives the same batches.
    again = tasks.AlgorithmicTask("copy", 4, 1, buckets=1, seed=first.seed)
    np.testing.assert_array_equal(first[0][0], again[0][0])


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


def test_bit_errors_per_sequence_skips_steps_without_target():
    y_true = np.array([[[1, 0], [0.5, 0.5], [0, 1]]], "float32")
    y_pred = np.array([[[0, 0], [1, 0], [1, 1]]], "float32")
    metric = tasks.BitErrorsPerSequence()
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(2.0)  # step 2 is not counted
    y_true[0, 1] = 0.0
    fresh = tasks.BitErrorsPerSequence()
    fresh.update_state(y_true, y_pred)
    assert float(fresh.result()) == pytest.approx(3.0)


@pytest.mark.parametrize("task", tasks.TASK_NAMES)
def test_targets_off_the_output_phase_are_no_target(task):
    data = tasks.AlgorithmicTask(task, 3, steps_per_epoch=2, seed=1)
    _, targets, weights = data[0]
    assert (weights == 0).any() and (weights > 0).any()
    np.testing.assert_array_equal(targets[weights == 0], tasks.NO_TARGET)
    assert set(np.unique(targets[weights > 0])) <= {0.0, 1.0}


def test_repeat_copy_layout():
    inputs, targets, weights = tasks.repeat_copy_sequences(
        3, min_length=2, max_length=3, min_repeats=2, max_repeats=4, num_bits=3, seed=2
    )
    assert inputs.shape == (3, 3 * 5 + 2, 5) and targets.shape == (3, 17, 4)
    for x, y, w in zip(inputs, targets, weights):
        length = int(np.argmax(x[:, 3]))
        repeats = int(round(x[length, 4] * 4))
        assert 2 <= length <= 3 and 2 <= repeats <= 4
        data = x[:length, :3]
        out = y[length + 1 : length + 1 + length * repeats, :3]
        np.testing.assert_array_equal(out, np.tile(data, (repeats, 1)))
        end = length + 1 + length * repeats
        assert y[end, 3] == 1 and y[w > 0, 3].sum() == 1
        assert w.sum() == length * repeats + 1 and w[end] == 1


def test_associative_recall_answer_is_the_item_after_the_query():
    inputs, targets, weights = tasks.associative_recall_sequences(
        5, min_items=2, max_items=4, item_length=2, num_bits=3, seed=3
    )
    assert inputs.shape[1] == tasks.associative_recall_steps(4, 2)
    for x, y, w in zip(inputs, targets, weights):
        starts = np.flatnonzero(x[:, 3])  # item markers
        items = [x[s + 1 : s + 3, :3] for s in starts]
        query_start = np.flatnonzero(x[:, 4])[0]
        query = x[query_start + 1 : query_start + 3, :3]
        position = next(i for i, item in enumerate(items) if np.array_equal(item, query))
        answer = y[w == 1]
        np.testing.assert_array_equal(answer, items[position + 1])
        assert w.sum() == 2


def test_priority_sort_outputs_highest_priority_first():
    inputs, targets, weights = tasks.priority_sort_sequences(
        4, num_items=6, num_outputs=4, num_bits=3, seed=4
    )
    assert inputs.shape == (4, 11, 5)
    for x, y, w in zip(inputs, targets, weights):
        order = np.argsort(-x[:6, 3])[:4]
        np.testing.assert_array_equal(y[7:11], x[order, :3])
        assert x[6, 4] == 1 and w.sum() == 4


@pytest.mark.parametrize("task", tasks.TASK_NAMES)
def test_algorithmic_task_pads_to_few_buckets(task):
    data = tasks.AlgorithmicTask(task, batch_size=2, steps_per_epoch=40, buckets=3, seed=0)
    seen = {data[i][0].shape[1] for i in range(40)}
    assert seen <= set(data.bucket_lengths) and len(data.bucket_lengths) <= 3
    inputs, targets, weights = data[0]
    assert inputs.shape[:2] == targets.shape[:2] == weights.shape
    assert weights.sum() > 0
    assert task_channels_match(task, inputs, targets)


def task_channels_match(task, inputs, targets):
    return tasks.task_channels(task) == (inputs.shape[-1], targets.shape[-1])


def test_copy_buckets_mix_lengths_that_share_a_bucket():
    data = tasks.CopyTask(8, steps_per_epoch=60, min_length=1, max_length=20, buckets=4, seed=1)
    assert data.bucket_lengths == [11, 21, 31, 41]
    seen, mixed = set(), False
    for i in range(60):
        x, _, _ = data[i]
        lengths = np.argmax(x[:, :, 8], axis=1)  # delimiter step = length
        needed = {data.padded_length(2 * length + 1) for length in lengths}
        assert needed == {x.shape[1]}  # every example fits, none is too short
        mixed |= len(set(lengths)) > 1
        seen |= set(lengths.tolist())
    assert mixed and seen == set(range(1, 21))


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: tasks.repeat_copy_sequences(2, min_repeats=3, max_repeats=2), "min_repeats=3"),
        (lambda: tasks.associative_recall_sequences(2, min_items=1), "min_items=1"),
        (lambda: tasks.priority_sort_sequences(2, num_items=3, num_outputs=4), "num_outputs=4"),
        (lambda: tasks.AlgorithmicTask("sorting", 2, 2), "task='sorting'"),
        (lambda: tasks.AlgorithmicTask("copy", 2, 2, buckets=0), "buckets=0"),
        (lambda: tasks.AlgorithmicTask("copy", 2, 2, pad=0), "pad=0"),
    ],
)
def test_task_errors_name_the_argument(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


@pytest.mark.parametrize("task", tasks.TASK_NAMES)
def test_padding_value_fills_only_the_steps_after_each_example(task):
    data = tasks.AlgorithmicTask(task, batch_size=3, steps_per_epoch=2, buckets=1,
                                 seed=0, padding_value=-1.0)
    inputs, _, weights = data[0]
    for x, w in zip(inputs, weights):
        padding = np.all(x == -1.0, axis=-1)
        if padding.any():
            first = int(np.argmax(padding))
            assert padding[first:].all()  # padding only at the end
            assert w[first:].sum() == 0 and w[:first].sum() > 0
    assert np.all((inputs == -1.0).all(-1) | ~(inputs == -1.0).any(-1))


def test_pad_longest_gives_one_shape_and_one_length_per_batch():
    data = tasks.CopyTask(4, steps_per_epoch=30, buckets=20, pad="longest",
                          padding_value=-1.0, seed=2)
    lengths = set()
    for index in range(30):
        inputs, _, weights = data[index]
        assert inputs.shape[1] == 41 == data.bucket_lengths[-1]
        per_row = weights.sum(axis=1)
        assert np.all(per_row == per_row[0])  # one copy length in the batch
        lengths.add(int(per_row[0]))
        ended = (inputs == -1.0).all(-1)
        np.testing.assert_array_equal(ended.sum(1), 41 - (2 * per_row + 1))
    assert len(lengths) > 10  # and lengths vary from batch to batch


def test_pad_count_pads_each_length_to_the_shortest_padded_length_that_fits():
    data = tasks.CopyTask(4, steps_per_epoch=40, buckets=20, pad=4,
                          padding_value=-1.0, seed=3)
    assert data.padded_lengths == [11, 21, 31, 41]
    assert len(data.bucket_lengths) == 20
    shapes = set()
    for index in range(40):
        inputs, _, weights = data[index]
        per_row = weights.sum(axis=1)
        assert np.all(per_row == per_row[0])  # one copy length per batch
        needed = 2 * int(per_row[0]) + 1
        fits = [length for length in data.padded_lengths if length >= needed]
        assert inputs.shape[1] == fits[0]
        shapes.add(inputs.shape[1])
    assert shapes == set(data.padded_lengths)


def test_padded_lengths_follow_the_pad_mode():
    assert tasks.CopyTask(2, 1, buckets=4).padded_lengths == [11, 21, 31, 41]
    assert tasks.CopyTask(2, 1, buckets=4, pad="longest").padded_lengths == [41]
    assert tasks.CopyTask(2, 1, buckets=4, pad=2).padded_lengths == [21, 41]


def test_first_two_batches_span_the_longest_and_shortest_bucket():
    data = tasks.CopyTask(2, steps_per_epoch=5, buckets=4, seed=9)
    assert data[0][0].shape[1] == data.bucket_lengths[-1]
    assert data[1][0].shape[1] == data.bucket_lengths[0]


def test_algorithmic_task_trains_with_fit_on_this_backend():
    import keras_memory as km

    data = tasks.CopyTask(2, steps_per_epoch=4, max_length=4, buckets=3, seed=0)
    model = km.ntm(9, memory_size=8, memory_dim=4, controller_size=8, output_size=8)
    model.compile(optimizer="adam",
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  weighted_metrics=[tasks.BitErrorsPerSequence(from_logits=True)])
    history = model.fit(data, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_bit_errors_under_metrics_equal_weighted_metrics_in_fit():
    """Keras gives `metrics=` no sample weights; the figure must not change."""
    import keras_memory as km

    data = tasks.CopyTask(4, steps_per_epoch=2, max_length=4, buckets=1, seed=3)
    keras.utils.set_random_seed(0)
    model = km.ntm(9, memory_size=8, memory_dim=4, controller_size=8, output_size=8)
    model.compile(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[tasks.BitErrorsPerSequence(from_logits=True, name="plain")],
        weighted_metrics=[tasks.BitErrorsPerSequence(from_logits=True, name="weighted")],
    )
    results = model.evaluate(data, verbose=0, return_dict=True)
    assert results["plain"] == pytest.approx(results["weighted"])
    # Counting every step instead would add the input phase's errors.
    inputs, targets, weights = data[0]
    every_step = tasks.BitErrorsPerSequence(from_logits=True)
    every_step.update_state(np.where(weights[..., None] > 0, targets, 0.0),
                            model.predict(inputs, verbose=0))
    assert float(every_step.result()) != pytest.approx(results["plain"])


@pytest.mark.parametrize("weight, expected", [
    (np.eye(1, 5).repeat(2, 0), 3.0),            # per step: step 0 only
    (np.eye(1, 5).repeat(2, 0)[..., None], 3.0),  # per step, trailing 1
    (np.array([1.0, 0.0]), 7.5),                  # per sequence
])
def test_bit_errors_per_sequence_weights_per_step_or_per_sequence(weight, expected):
    metric = tasks.BitErrorsPerSequence()
    metric.update_state(np.zeros((2, 5, 3)), np.ones((2, 5, 3)), weight.astype("float32"))
    assert float(metric.result()) == expected


def test_bit_errors_per_sequence_counts_integer_targets_and_bool_predictions():
    metric = tasks.BitErrorsPerSequence()
    metric.update_state(np.zeros((2, 5, 3), "int32"), np.ones((2, 5, 3), bool))
    assert float(metric.result()) == 15.0


@pytest.mark.parametrize("y_true, weight, fragment", [
    (np.zeros((4, 4)), np.ones((4, 4)), "sample_weight"),
    (np.zeros((2, 5, 3)), np.ones((2, 4)), "sample_weight"),
    (np.zeros((2, 5)), None, "y_pred"),
])
def test_bit_errors_per_sequence_rejects_shapes_it_cannot_read(y_true, weight, fragment):
    metric = tasks.BitErrorsPerSequence()
    y_pred = np.ones((2, 5, 3)) if fragment == "y_pred" else np.ones_like(y_true)
    with pytest.raises(ValueError, match=fragment):
        metric.update_state(y_true, y_pred, weight)


def test_fact_sequences_hold_every_subject_relation_pair_once():
    facts = tasks.fact_sequences(num_subjects=5, num_relations=3, num_objects=4, seed=1)
    assert facts.inputs.shape == facts.targets.shape == facts.weights.shape == (15, 2)
    assert facts.inputs.dtype == facts.targets.dtype == np.int32
    pairs = {tuple(row) for row in facts.inputs.tolist()}
    assert len(pairs) == 15
    subjects, relations = facts.inputs[:, 0], facts.inputs[:, 1]
    assert set(subjects) == set(range(1, 6)) and set(relations) == set(range(6, 9))
    np.testing.assert_array_equal(facts.targets[:, 0], relations)
    first, end = facts.objects
    assert (first, end, facts.vocab_size) == (9, 13, 13)
    assert np.all((facts.targets[:, 1] >= first) & (facts.targets[:, 1] < end))
    np.testing.assert_array_equal(facts.weights, np.tile([0.0, 1.0], (15, 1)))


def test_fact_sequences_are_seeded_and_objects_random():
    first = tasks.fact_sequences(50, 2, num_objects=10, seed=3)
    np.testing.assert_array_equal(first.targets,
                                  tasks.fact_sequences(50, 2, num_objects=10, seed=3).targets)
    other = tasks.fact_sequences(50, 2, num_objects=10, seed=4)
    assert not np.array_equal(first.targets, other.targets)
    assert len(np.unique(first.targets[:, 1])) == 10
