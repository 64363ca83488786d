"""bAbI: download and cache, parse, vocabulary, vectorise."""

import hashlib
import pathlib
import tarfile

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
    assert len(babi.load_task(3, "train", data_dir=tmp_path)) == 5
    assert len(babi.load_task(3, "test", data_dir=tmp_path)) == 2
    with pytest.raises(FileNotFoundError, match="qa4_"):
        babi.load_task(4, data_dir=tmp_path)
    with pytest.raises(ValueError, match="task=21"):
        babi.load_task(21, data_dir=tmp_path)
    with pytest.raises(ValueError, match="split='valid'"):
        babi.load_task(3, "valid", data_dir=tmp_path)
    with pytest.raises(ValueError, match="size='100k'"):
        babi.load_task(3, size="100k", data_dir=tmp_path)
    with pytest.raises(TypeError, match="task=1.5"):
        babi.load_task(1.5, data_dir=tmp_path)
    with pytest.raises(TypeError, match="data_dir"):  # the old argument order
        babi.load_task(tmp_path, 3)


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


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A tiny bAbI archive at a file:// origin, its hash pinned; returns the cache dir."""
    top = tmp_path / "build" / "tasks_1-20_v1-2"
    for folder, count in (("en", 5), ("en-10k", 9)):
        (top / folder).mkdir(parents=True)
        write_task(top / folder, task=1, train_count=count, test_count=2)
    tarball = tmp_path / "origin" / "tasks_1-20_v1-2.tar.gz"
    tarball.parent.mkdir()
    with tarfile.open(tarball, "w:gz") as handle:
        handle.add(top, arcname="tasks_1-20_v1-2")
    monkeypatch.setattr(babi, "ORIGIN", tarball.as_uri())
    monkeypatch.setattr(babi, "SHA256", hashlib.sha256(tarball.read_bytes()).hexdigest())
    monkeypatch.delenv(babi.DATA_DIR_VARIABLE, raising=False)
    return tmp_path / "cache"


def test_load_task_downloads_once_and_reads_the_cache(archive):
    assert len(babi.load_task(1, "train", cache_dir=archive)) == 5
    assert len(babi.load_task(1, "train", size="10k", cache_dir=archive)) == 9
    assert (archive / "datasets" / "tasks_1-20_v1-2.tar.gz").exists()
    pathlib.Path(babi.ORIGIN.removeprefix("file://")).unlink()  # offline from now on
    assert len(babi.load_task(1, "test", cache_dir=archive)) == 2
    with pytest.raises(FileNotFoundError, match="qa2_"):
        babi.load_task(2, cache_dir=archive)
    with pytest.raises(ValueError, match="split='dev'"):
        babi.load_task(1, "dev", cache_dir=archive)


def test_a_wrong_hash_or_no_network_is_one_clear_error(archive, monkeypatch):
    monkeypatch.setattr(babi, "SHA256", "0" * 64)
    with pytest.raises(babi.BabiDownloadError) as info:
        babi.load_task(1, cache_dir=archive)
    message = str(info.value)
    for fragment in ("hash", "data_dir", babi.DATA_DIR_VARIABLE, "tasks_1-20_v1-2/en"):
        assert fragment in message, (fragment, message)
    monkeypatch.setattr(babi, "ORIGIN", (archive / "nowhere.tar.gz").as_uri())
    with pytest.raises(babi.BabiDownloadError, match="Could not fetch"):
        babi.load_task(1, cache_dir=archive)


def test_a_folder_of_ones_own_wins_over_the_download(archive, tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    write_task(mine, task=1, train_count=3, test_count=1)
    monkeypatch.setattr(babi, "ORIGIN", (tmp_path / "nowhere.tar.gz").as_uri())
    assert len(babi.load_task(1, data_dir=mine, cache_dir=archive)) == 3
    monkeypatch.setenv(babi.DATA_DIR_VARIABLE, str(mine))
    assert len(babi.load_task(1, cache_dir=archive)) == 3
