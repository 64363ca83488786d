"""`Vocabulary`: words <-> ids for text memories (id 0 padding, id 1 unknown)."""

import json
import os

import numpy as np

from keras_memory import _validation as check

PAD = "<pad>"
UNKNOWN = "<unk>"
UNKNOWN_WORDS = ("error", "map")


class Vocabulary:
    """Word <-> id mapping; id 0 is padding, id 1 stands for unknown words.

    Args:
        words: iterable of words; they get ids 2, 3, ... in sorted order.

    Examples:
        >>> vocab = Vocabulary(["mary", "bathroom"])
        >>> vocab.encode(["mary", "kitchen"], unknown="map")
        [3, 1]
        >>> vocab.decode([3, 2])
        ['mary', 'bathroom']
    """

    def __init__(self, words=()):
        reserved = {PAD, UNKNOWN}
        self.tokens = [PAD, UNKNOWN] + sorted(set(words) - reserved)
        self._ids = {token: index for index, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, examples):
        """The vocabulary of every story, question and answer of `examples`."""
        words = set()
        for example in examples:
            for sentence in example.story:
                words.update(sentence)
            words.update(example.question)
            words.add(example.answer)
        return cls(words)

    def __len__(self):
        return len(self.tokens)

    def __contains__(self, word):
        return word in self._ids

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def encode(self, words, unknown="error"):
        """Ids of `words`.

        Args:
            words: iterable of strings.
            unknown: `"error"` (default) raises a ValueError naming the first
                unknown word; `"map"` maps unknown words to id 1 (`<unk>`).
        """
        check.choice("unknown", unknown, UNKNOWN_WORDS)
        ids = []
        for word in words:
            index = self._ids.get(word)
            if index is None:
                if unknown == "error":
                    raise ValueError(
                        f"Unknown word {word!r}: not in the vocabulary of "
                        f"{len(self)} tokens. Pass unknown='map' to map unknown "
                        "words to <unk>."
                    )
                index = 1
            ids.append(index)
        return ids

    def decode(self, ids):
        """Words of `ids` (ints in `0..len(self) - 1`)."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(
                f"`ids` must be integer token ids, received ids with dtype {ids.dtype}."
            )
        words = []
        for index in ids.reshape(-1).tolist():
            if not 0 <= index < len(self):
                raise ValueError(
                    f"Token id {index} is out of range for a vocabulary of "
                    f"{len(self)} tokens."
                )
            words.append(self.tokens[index])
        return words

    def get_config(self):
        return {"tokens": list(self.tokens)}

    def save(self, path):
        """Writes the vocabulary as JSON to `path`."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.get_config(), handle, indent=1)

    @classmethod
    def load(cls, path):
        """Reads a vocabulary written by `save`."""
        with open(path, encoding="utf-8") as handle:
            try:
                config = json.load(handle)
            except (json.JSONDecodeError, UnicodeDecodeError):
                config = None
        tokens = config.get("tokens") if isinstance(config, dict) else None
        if not isinstance(tokens, list) or tokens[:2] != [PAD, UNKNOWN]:
            raise ValueError(
                f"{os.fspath(path)!r} is not a saved Vocabulary: expected a JSON "
                f"object whose 'tokens' list starts with {PAD!r}, {UNKNOWN!r}."
            )
        return cls(tokens[2:])
