"""Datasets for memory networks. `babi`: the bAbI question answering tasks;
`vocabulary`: `Vocabulary`, words <-> ids (also `babi.Vocabulary`)."""

from keras_memory.datasets import babi

__all__ = ["babi"]
