import numpy as np
import pytest
from babi_data import STORY, synthetic_task, write_task

from keras_memory.datasets import babi


def test_parser_reads_stories_questions_and_restarts():
    examples = babi.parse_lines(STORY.splitlines(True), source="story.txt")
    assert len(examples) == 3
    first, second, third = examples
    assert first.story == (("mary", "moved", "to", "the", "bathroom"),
                           ("john", "went", "to", "the", "hallway"))
    assert first.question == ("where", "is", "mary")
    assert first.answer == "bathroom" and first.supporting_line_ids == (1,)
    # Questions are not memories; the story grows until it restarts at 1.
    assert len(second.story) == 3 and second.story_line_ids == (1, 2, 4)
    assert third.story == (("sandra", "travelled", "to", "the", "office"),)


def test_multi_word_answers_and_space_separated_supporting_facts():
    lines = ["1 The office is east of the hallway.",
             "2 The kitchen is north of the office.",
             "3 How do you go from the kitchen to the hallway?\ts,w\t2 1"]
    (example,) = babi.parse_lines(lines)
    assert example.answer == "s,w" and example.supporting_line_ids == (2, 1)


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["Mary moved to the bathroom."], "line 1: expected a line number"),
        (["1 Mary went home.", "3 John went home."], "line 2: expected line number 1"),
        (["1 Mary went home.", "2 Where is Mary?"], "line 2: expected a question, a tab"),
        (["1 Mary went home.", "2 Where is Mary?\thome\tone"], "supporting facts as line"),
        (["1 Mary went home.", "2 Where is Mary?\thome\t7"], "not [7]"),
        (["1 Where is Mary?\thome\t"], "at least one statement before"),
        (["1 Mary went home."], "at least one question"),
        ([], "at least one question"),
        (["1 ..."], "a sentence with words"),
    ],
)
def test_malformed_lines_raise_with_place_and_expectation(lines, expected):
    with pytest.raises(babi.BabiFormatError, match="bad.txt") as info:
        babi.parse_lines(lines, source="bad.txt")
    assert expected in str(info.value)
    assert isinstance(info.value, ValueError)


def test_malformed_file_error_names_the_file(tmp_path):
    path = tmp_path / "qa1_broken_train.txt"
    path.write_text("1 Mary went home.\n2 Where is Mary? home 1\n")
    with pytest.raises(ValueError, match=r"qa1_broken_train.txt, line 2"):
        babi.parse_file(path)


def test_load_task_finds_files_and_rejects_bad_arguments(tmp_path):
    write_task(tmp_path, task=3, train_count=5, test_count=2)
    assert len(babi.load_task(tmp_path, 3, "train")) == 5
    assert len(babi.load_task(tmp_path, 3, "test")) == 2
    with pytest.raises(FileNotFoundError, match="qa4_"):
        babi.load_task(tmp_path, 4)
    with pytest.raises(ValueError, match="task=21"):
        babi.load_task(tmp_path, 21)
    with pytest.raises(ValueError, match="split='valid'"):
        babi.load_task(tmp_path, 3, "valid")
    with pytest.raises(TypeError, match="task=1.5"):
        babi.load_task(tmp_path, 1.5)


def test_vocabulary_round_trips_and_handles_unknown_words(tmp_path):
    vocabulary = babi.Vocabulary.build(babi.parse_lines(STORY.splitlines()))
    assert vocabulary.tokens[:2] == [babi.PAD, babi.UNKNOWN]
    ids = vocabulary.encode(["mary", "bathroom"])
    assert vocabulary.decode(ids) == ["mary", "bathroom"]
    with pytest.raises(ValueError, match="'unicorn'"):
        vocabulary.encode(["unicorn"])
    assert vocabulary.encode(["unicorn"], unknown="map") == [1]
    with pytest.raises(ValueError, match="unknown='drop'"):
        vocabulary.encode(["mary"], unknown="drop")
    with pytest.raises(ValueError, match="out of range"):
        vocabulary.decode([len(vocabulary)])
    vocabulary.save(tmp_path / "vocab.json")
    assert babi.Vocabulary.load(tmp_path / "vocab.json") == vocabulary
    (tmp_path / "other.json").write_text('{"tokens": ["a"]}')
    with pytest.raises(ValueError, match="not a saved Vocabulary"):
        babi.Vocabulary.load(tmp_path / "other.json")


def test_vectorize_keeps_the_most_recent_sentences_newest_first():
    examples = babi.parse_lines(STORY.splitlines())
    vocabulary = babi.Vocabulary.build(examples)
    data = babi.vectorize(examples, vocabulary, memory_size=2, sentence_len=6)
    assert data["stories"].shape == (3, 2, 6) and data["stories"].dtype == np.int32
    assert data["queries"].shape == (3, 6) and data["answers"].shape == (3,)
    def decode(ids):
        return [w for w in vocabulary.decode(ids) if w != babi.PAD]

    # Example 2 has 3 sentences; only the 2 newest are kept, newest in slot 0.
    assert decode(data["stories"][1, 0]) == ["daniel", "went", "back", "to", "the", "hallway"]
    assert decode(data["stories"][1, 1]) == ["john", "went", "to", "the", "hallway"]
    assert data["supporting"][1].tolist() == [True, False]
    # Example 3 has one sentence: slot 1 is all padding.
    assert not data["stories"][2, 1].any()
    assert decode(data["queries"][0]) == ["where", "is", "mary"]
    assert vocabulary.decode([data["answers"][2]]) == ["office"]


def test_vectorize_rejects_bad_arguments():
    examples = babi.parse_lines(STORY.splitlines())
    vocabulary = babi.Vocabulary.build(examples)
    with pytest.raises(ValueError, match="sentence_len=3"):
        babi.vectorize(examples, vocabulary, sentence_len=3)
    with pytest.raises(ValueError, match="memory_size=0"):
        babi.vectorize(examples, vocabulary, memory_size=0)
    with pytest.raises(TypeError, match="vocabulary"):
        babi.vectorize(examples, {"mary": 2})
    with pytest.raises(ValueError, match="at least one"):
        babi.vectorize([], vocabulary)
    other = babi.parse_lines(synthetic_task(3, seed=5).splitlines())
    with pytest.raises(ValueError, match="Unknown word"):
        babi.vectorize(other, vocabulary)
    mapped = babi.vectorize(other, vocabulary, unknown="map")
    assert (mapped["stories"] == 1).any()
