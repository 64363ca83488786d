"""Datasets for memory networks. `babi`: the bAbI question answering tasks."""

from keras_memory.datasets import babi

__all__ = ["babi"]
