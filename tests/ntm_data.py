"""Sizes and inputs shared by the NTM tests: tiny, so that tests stay fast."""

import numpy as np

B, T, I = 3, 6, 4  # batch, time, input features
N, M, C = 8, 5, 12  # memory rows, row width, controller units
SMALL = dict(memory_size=N, memory_dim=M, controller_size=C)


def sequences(batch=B, time=T, features=I, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, time, features)).astype("float32")
