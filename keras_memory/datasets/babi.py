"""The bAbI question answering tasks (Weston et al., 2015): fetch, parse, vectorise.

`load_task(task, split)` reads the 1k (or, with `size="10k"`, the 10k)
English training set of the bAbI project's `tasks_1-20_v1-2.tar.gz`,
downloaded once with `keras.utils.get_file` into `~/.keras/datasets` and
checked against its SHA-256. A folder of your own (`data_dir=`, or the
`KERAS_MEMORY_BABI_DIR` environment variable) wins over the download; it
holds the `qaN_*_train.txt` / `qaN_*_test.txt` files, like the archive's
`tasks_1-20_v1-2/en/`. The data is CC BY 3.0 (Facebook).

The v1.2 format, one line each::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? \tbathroom\t1

Lines are numbered from 1 within a story and a story restarts when the
number goes back to 1. A question line holds the question, a tab, the
answer and a tab-separated (or space-separated) list of the line numbers of
the supporting facts. A question's story is every statement since the start
of its story; questions themselves are not part of later stories.

Typical use::

    train = babi.load_task(1, "train")             # downloads on first use
    test = babi.load_task(1, "test", data_dir="path/to/en")   # or your folder
    vocab = babi.Vocabulary.build(train + test)
    data = babi.vectorize(train, vocab, memory_size=50)
    data["stories"].shape   # (1000, 50, sentence_len), int32 word ids
"""

import dataclasses
import os
import pathlib
import re

import keras
import numpy as np

from keras_memory import _validation as check
from keras_memory.datasets.vocabulary import PAD  # noqa: F401  (babi.PAD, as before)
from keras_memory.datasets.vocabulary import UNKNOWN  # noqa: F401
from keras_memory.datasets.vocabulary import UNKNOWN_WORDS  # noqa: F401
from keras_memory.datasets.vocabulary import Vocabulary

TASK_NAMES = {
    1: "single-supporting-fact",
    2: "two-supporting-facts",
    3: "three-supporting-facts",
    4: "two-arg-relations",
    5: "three-arg-relations",
    6: "yes-no-questions",
    7: "counting",
    8: "lists-sets",
    9: "simple-negation",
    10: "indefinite-knowledge",
    11: "basic-coreference",
    12: "conjunction",
    13: "compound-coreference",
    14: "time-reasoning",
    15: "basic-deduction",
    16: "basic-induction",
    17: "positional-reasoning",
    18: "size-reasoning",
    19: "path-finding",
    20: "agents-motivations",
}

SPLITS = ("train", "test")

_LINE = re.compile(r"^\s*([0-9]+) (.*)$")
_WORD = re.compile(r"[\w'-]+")


class BabiFormatError(ValueError):
    """A bAbI file does not follow the format; says where and what was expected."""


@dataclasses.dataclass(frozen=True)
class BabiExample:
    """One question with its story.

    Attributes:
        story: tuple of sentences (each a tuple of lower-case words), oldest
            first: every statement of the story before the question.
        story_line_ids: the line number of each story sentence.
        question: tuple of words.
        answer: the answer as one token (multi-word answers such as
            `"n,s"` in task 19 stay one token).
        supporting_line_ids: line numbers of the supporting facts.
    """

    story: tuple
    story_line_ids: tuple
    question: tuple
    answer: str
    supporting_line_ids: tuple


def tokenize(text):
    """Lower-case words of `text`, punctuation dropped: `"Where is Mary?"` ->
    `("where", "is", "mary")`."""
    return tuple(_WORD.findall(text.lower()))


def _format_error(source, line_number, expected, line):
    return BabiFormatError(
        f"{source}, line {line_number}: expected {expected}, got {line!r}."
    )


def parse_lines(lines, source="<lines>"):
    """Parses bAbI v1.2 lines into `BabiExample`s.

    Args:
        lines: iterable of strings (a file's lines).
        source: the name used in error messages (the file name).

    Returns:
        A list of `BabiExample`, in file order.

    Raises:
        BabiFormatError: (a `ValueError`) naming `source`, the line number,
            what was expected and the offending line, for: a line without a
            leading number, a number that is neither 1 nor the previous
            number + 1, a question without an answer, supporting-fact ids
            that are not numbers or not earlier statements of the same
            story, a question before any statement (an empty story), an
            empty sentence, and a file without questions.
    """
    examples = []
    story, line_ids = [], []
    previous = 0
    for line_number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise _format_error(
                source, line_number, "a line number, a space and a sentence", line
            )
        number, text = int(match.group(1)), match.group(2)
        if number == 1:
            story, line_ids = [], []
        elif number != previous + 1:
            raise _format_error(
                source,
                line_number,
                f"line number 1 (a new story) or {previous + 1}",
                line,
            )
        previous = number
        if "?" in text and "\t" not in text:
            raise _format_error(
                source, line_number, "a question, a tab and a non-empty answer", line
            )
        if "\t" not in text:
            words = tokenize(text)
            if not words:
                raise _format_error(source, line_number, "a sentence with words", line)
            story.append(words)
            line_ids.append(number)
            continue
        examples.append(
            _parse_question(text, story, line_ids, source, line_number, line)
        )
    if not examples:
        raise BabiFormatError(
            f"{source}: expected at least one question line (question, tab, "
            "answer, tab, supporting line numbers), found none."
        )
    return examples


def _parse_question(text, story, line_ids, source, line_number, line):
    fields = text.split("\t")
    question, answer = tokenize(fields[0]), fields[1].strip() if len(fields) > 1 else ""
    if not question or not answer:
        raise _format_error(
            source, line_number, "a question, a tab and a non-empty answer", line
        )
    if not story:
        raise _format_error(
            source, line_number, "at least one statement before a question", line
        )
    supporting = " ".join(fields[2:]).split()
    if not all(s.isascii() and s.isdigit() for s in supporting):
        raise _format_error(
            source, line_number, "supporting facts as line numbers after the answer", line
        )
    supporting = tuple(int(s) for s in supporting)
    unknown = [s for s in supporting if s not in line_ids]
    if unknown:
        raise _format_error(
            source,
            line_number,
            f"supporting facts among the story's statements {line_ids}, "
            f"not {unknown}",
            line,
        )
    return BabiExample(
        story=tuple(story),
        story_line_ids=tuple(line_ids),
        question=question,
        answer=answer.lower(),
        supporting_line_ids=supporting,
    )


def parse_file(path):
    """Parses one bAbI text file; see `parse_lines` for the errors raised."""
    path = pathlib.Path(path)
    # utf-8-sig: a byte-order mark at the start is skipped.
    with open(path, encoding="utf-8-sig") as handle:
        try:
            lines = handle.readlines()
        except UnicodeDecodeError as error:
            line_number = error.object[: error.start].count(b"\n") + 1
            raise BabiFormatError(
                f"{path}, line {line_number}: expected UTF-8 text, found the byte "
                f"{error.object[error.start:error.start + 1]!r} ({error.reason})."
            ) from None
    return parse_lines(lines, source=str(path))


def task_file(directory, task, split="train"):
    """Path of `qa{task}_*_{split}.txt` in `directory`.

    Raises:
        ValueError: `task` not in 1..20 or `split` not `"train"`/`"test"`.
        FileNotFoundError: no such file in `directory`.
    """
    task = check.positive_int("task", task)
    if task not in TASK_NAMES:
        raise ValueError(f"`task` must be in 1..20, received task={task}.")
    check.choice("split", split, SPLITS)
    directory = pathlib.Path(directory)
    matches = sorted(directory.glob(f"qa{task}_*_{split}.txt"))
    if not matches:
        raise FileNotFoundError(
            f"No bAbI file qa{task}_*_{split}.txt in {os.fspath(directory)!r}."
        )
    return matches[0]


# The bAbI project's archive (all languages, 1k and 10k training sets), and
# its SHA-256 as recorded by Hugging Face datasets' `babi_qa` loader.
ORIGIN = "http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"
SHA256 = "0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898"
ARCHIVE = "tasks_1-20_v1-2.tar.gz"
SIZES = {"1k": "en", "10k": "en-10k"}
DATA_DIR_VARIABLE = "KERAS_MEMORY_BABI_DIR"


class BabiDownloadError(OSError):
    """The bAbI archive could not be fetched, checked or unpacked."""


def download(cache_dir=None):
    """Downloads and unpacks the bAbI archive once; returns its top folder.

    The archive comes from `ORIGIN`, is checked against `SHA256` and is
    cached in `cache_dir` (default `~/.keras`) under `datasets/`; later
    calls find it there and do not touch the network.

    Returns:
        The `tasks_1-20_v1-2` folder, holding `en/`, `en-10k/`, ...

    Raises:
        BabiDownloadError: offline, unreachable, wrong hash or a broken
            archive; the message says where to put the files instead.
    """
    cache = pathlib.Path(os.path.expanduser(cache_dir or os.path.join("~", ".keras")))
    unpacked = cache / "datasets" / "tasks_1-20_v1-2_extracted" / "tasks_1-20_v1-2"
    if (unpacked / SIZES["1k"]).is_dir():
        return unpacked
    try:
        # get_file falls back to /tmp/.keras when the cache folder is missing.
        cache.mkdir(parents=True, exist_ok=True)
        extracted = keras.utils.get_file(ARCHIVE, origin=ORIGIN, file_hash=SHA256,
                                         hash_algorithm="sha256", extract=True,
                                         cache_dir=os.fspath(cache))
        unpacked = pathlib.Path(extracted) / "tasks_1-20_v1-2"
    except Exception as error:  # URL, hash and archive errors alike
        raise BabiDownloadError(
            f"Could not fetch the bAbI tasks from {ORIGIN} ({error}). Download "
            f"{ARCHIVE} from the bAbI project yourself, unpack it, and pass "
            f"`data_dir` (or set ${DATA_DIR_VARIABLE}) to its tasks_1-20_v1-2/en "
            f"folder (en-10k for the 10k set); or place the archive at "
            f"{cache / 'datasets' / ARCHIVE} and call again."
        ) from None
    if not (unpacked / SIZES["1k"]).is_dir():
        raise BabiDownloadError(
            f"{cache / 'datasets' / ARCHIVE} unpacked without a tasks_1-20_v1-2/en "
            f"folder; delete it and call again, or pass `data_dir`."
        )
    return unpacked


def task_folder(size="1k", data_dir=None, cache_dir=None):
    """The folder `load_task` reads: `data_dir`, `$KERAS_MEMORY_BABI_DIR`, or the download.

    Args:
        size: `"1k"` or `"10k"` training examples per task (the downloaded
            archive's `en/` or `en-10k/`); ignored for a folder of your own.
        data_dir: a folder of `qaN_*_{train,test}.txt` files.
        cache_dir: where `download` caches the archive.
    """
    check.choice("size", size, tuple(SIZES))
    data_dir = data_dir or os.environ.get(DATA_DIR_VARIABLE)
    if data_dir:
        return pathlib.Path(data_dir)
    return download(cache_dir) / SIZES[size]


def load_task(task, split="train", size="1k", data_dir=None, cache_dir=None):
    """Parses task `task` (1..20), split `"train"` or `"test"`.

    From `data_dir` (or `$KERAS_MEMORY_BABI_DIR`) when given, else from the
    bAbI archive, downloaded on first use (`download`); `size` picks its
    1k or 10k training set.

    Returns:
        A list of `BabiExample`.

    Raises:
        ValueError: `task` not in 1..20, `split` or `size` unknown.
        FileNotFoundError: no such task file in the folder.
        BabiDownloadError: the archive could not be fetched.
    """
    if isinstance(task, (str, os.PathLike)):
        raise TypeError(
            f"`task` must be a task number 1..20, received task={task!r}; the folder "
            f"goes in `data_dir` (load_task(task, split, data_dir=...))."
        )
    task = check.positive_int("task", task)
    if task not in TASK_NAMES:
        raise ValueError(f"`task` must be in 1..20, received task={task}.")
    check.choice("split", split, SPLITS)
    return parse_file(task_file(task_folder(size, data_dir, cache_dir), task, split))


def sentence_length(examples, memory_size=None):
    """Longest question or kept story sentence (in words) of `examples`."""
    longest = 0
    for example in examples:
        kept = example.story[-memory_size:] if memory_size else example.story
        longest = max([longest, len(example.question)] + [len(s) for s in kept])
    return longest


def vectorize(examples, vocabulary, memory_size=50, sentence_len=None,
              unknown="error"):
    """Word-id arrays for a list of `BabiExample`.

    The `memory_size` most recent sentences of each story are kept, **the
    most recent in slot 0** (so the temporal encoding of a slot means "this
    many sentences ago"); missing slots and words are padding (id 0).

    Args:
        examples: non-empty list of `BabiExample`.
        vocabulary: a `Vocabulary`.
        memory_size: int >= 1, number of memory slots.
        sentence_len: int >= 1, words per sentence, or `None` for the
            longest kept sentence or question. Longer sentences raise.
        unknown: `"error"` or `"map"`, see `Vocabulary.encode`.

    Returns:
        A dict of NumPy arrays:
        - `"stories"`: int32 `[examples, memory_size, sentence_len]`;
        - `"queries"`: int32 `[examples, sentence_len]`;
        - `"answers"`: int32 `[examples]`, answer word ids;
        - `"supporting"`: bool `[examples, memory_size]`, True on the slots
          that hold a supporting fact.
    """
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(
            "`vocabulary` must be a keras_memory.datasets.babi.Vocabulary, "
            f"received vocabulary of type {type(vocabulary).__name__}."
        )
    examples = list(examples)
    if not examples:
        raise ValueError("`examples` must hold at least one BabiExample, received [].")
    strangers = [e for e in examples if not isinstance(e, BabiExample)]
    if strangers:
        raise TypeError(
            "`examples` must be BabiExamples (from `parse_file` or `load_task`), "
            f"received an item of type {type(strangers[0]).__name__}: {strangers[0]!r:.60}."
        )
    memory_size = check.positive_int("memory_size", memory_size)
    longest = sentence_length(examples, memory_size)
    if sentence_len is None:
        sentence_len = longest
    sentence_len = check.positive_int("sentence_len", sentence_len)
    if longest > sentence_len:
        raise ValueError(
            f"`sentence_len` must be >= the longest kept sentence ({longest} "
            f"words), received sentence_len={sentence_len}."
        )
    count = len(examples)
    stories = np.zeros((count, memory_size, sentence_len), "int32")
    queries = np.zeros((count, sentence_len), "int32")
    answers = np.zeros((count,), "int32")
    supporting = np.zeros((count, memory_size), bool)
    for row, example in enumerate(examples):
        recent = list(zip(example.story, example.story_line_ids))[::-1][:memory_size]
        for slot, (sentence, line_id) in enumerate(recent):
            stories[row, slot, : len(sentence)] = vocabulary.encode(sentence, unknown)
            supporting[row, slot] = line_id in example.supporting_line_ids
        queries[row, : len(example.question)] = vocabulary.encode(
            example.question, unknown
        )
        (answers[row],) = vocabulary.encode([example.answer], unknown)
    return {
        "stories": stories,
        "queries": queries,
        "answers": answers,
        "supporting": supporting,
    }


def story_sentences(example, memory_size=50):
    """The kept sentences of `example` as strings, in slot order (newest first)."""
    return [" ".join(s) for s in example.story[::-1][:memory_size]]
