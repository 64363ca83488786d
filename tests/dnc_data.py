"""Sizes and inputs shared by the DNC tests: tiny, so that tests stay fast."""

import numpy as np

B, T, I = 3, 6, 4  # batch, time, input features
N, M, C = 6, 4, 10  # memory rows, row width, controller units
SMALL = dict(memory_size=N, memory_dim=M, controller_size=C)
STEP_MASK = np.ones((B, T), bool)
STEP_MASK[0, 1] = False
STEP_MASK[1, -2:] = False
STEP_MASK[:, 5] = False


def sequences(batch=B, time=T, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, time, I)).astype("float32")
