"""`fresh_initializer`: every matrix of a layer draws its own start."""

import keras
import numpy as np
import pytest

import keras_memory as km
from keras_memory._kernels import fresh_initializer


def draw(initializer):
    return keras.ops.convert_to_numpy(initializer((4, 3)))


def test_one_unseeded_initializer_repeats_itself_and_copies_do_not():
    initializer = keras.initializers.RandomNormal(stddev=0.1)
    # The Keras behaviour the helper exists for.
    np.testing.assert_array_equal(draw(initializer), draw(initializer))
    first, second = fresh_initializer(initializer, 0), fresh_initializer(initializer, 1)
    assert not np.array_equal(draw(first), draw(second))
    assert fresh_initializer(initializer).get_config() == initializer.get_config()


def test_an_int_seed_stays_reproducible_and_each_index_differs():
    initializer = keras.initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(
        draw(fresh_initializer(initializer, 2)), draw(fresh_initializer(initializer, 2))
    )
    assert not np.array_equal(
        draw(fresh_initializer(initializer, 0)), draw(fresh_initializer(initializer, 1))
    )
    assert initializer.get_config()["seed"] == 7  # the original is untouched


@pytest.mark.parametrize(
    "initializer",
    [keras.initializers.Zeros(), keras.initializers.Constant(0.5),
     keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(3))],
)
def test_constant_and_generator_seeded_initializers_are_kept(initializer):
    assert fresh_initializer(initializer, 1) is initializer


def test_same_seed_builds_the_same_model_with_distinct_hop_embeddings():
    def weights():
        keras.utils.set_random_seed(3)
        model = km.memn2n(12, 4, memory_size=5, memory_dim=6)
        return [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]

    first, second = weights(), weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
