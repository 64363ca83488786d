"""Tiny hand-written bAbI files for the tests (no dependency on shared data)."""

import numpy as np

STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Where is Daniel? \thallway\t4
1 Sandra travelled to the office.
2 Where is Sandra? \toffice\t1
"""

PEOPLE = ["mary", "john", "sandra", "daniel"]
PLACES = ["kitchen", "garden", "office", "hallway", "bathroom"]


def synthetic_task(count, seed=0, story_len=4):
    """Lines of a bAbI-style "where is X?" task: the answer is X's last place."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        where = {}
        for number in range(1, story_len + 1):
            person, place = rng.choice(PEOPLE), rng.choice(PLACES)
            where[person] = place
            lines.append(f"{number} {person} went to the {place}.")
        person = rng.choice(list(where))
        lines.append(f"{story_len + 1} Where is {person}?\t{where[person]}\t1")
    return "\n".join(lines) + "\n"


def write_task(directory, task=1, train_count=40, test_count=20, seed=0):
    """Writes qa{task}_synthetic_{train,test}.txt into `directory`."""
    (directory / f"qa{task}_synthetic_train.txt").write_text(
        synthetic_task(train_count, seed)
    )
    (directory / f"qa{task}_synthetic_test.txt").write_text(
        synthetic_task(test_count, seed + 1)
    )


# Word-id inputs for MemN2N tests.
B, N, J, V, D = 3, 4, 3, 7, 6  # batch, slots, words, vocabulary, memory_dim


def ids(seed=0, batch=B):
    rng = np.random.default_rng(seed)
    story = rng.integers(1, V, size=(batch, N, J)).astype("int32")
    story[:, :, -1] = 0          # a padding word in every sentence
    story[:, -1] = 0             # an empty last slot
    query = rng.integers(1, V, size=(batch, J)).astype("int32")
    query[:, -1] = 0
    return query, story
