"""One table of bad calls across the public API (issue: reliability).

Every call must raise `ValueError` or `TypeError` *before any computation*:
from keras_memory's own checks (the innermost frame of the traceback is in
the package, not in a backend op), with a message that names the argument
and the value received.
"""

import functools

import numpy as np
import pytest

import keras_memory as km
from keras_memory import addressing, tasks
from keras_memory.datasets import babi


def f32(*shape):
    return np.ones(shape, "float32")


def i32(*shape):
    return np.ones(shape, "int32")


def built_memory_network(**kwargs):
    layer = km.MemoryNetwork(memory_dim=4, **kwargs)
    layer.build([(None, 6), (None, 5, 6)])
    return layer


def bad_babi_file(tmp_path, text):
    path = tmp_path / "qa1_bad_train.txt"
    path.write_text(text)
    return lambda: babi.load_task(1, data_dir=tmp_path)


def ntm_with_two_initial_states():
    layer = km.NTM(memory_size=4, memory_dim=3, controller_size=5)
    sequences = np.zeros((2, 3, 4), "float32")
    return layer(sequences, initial_state=[np.zeros((2, 3), "float32")] * 2)


def memory_layer_with_a_wrong_initial_state(layer_class):
    def call():
        layer = layer_class(memory_size=4, memory_dim=3, controller_size=5)
        sequences = np.zeros((2, 3, 4), "float32")
        layer(sequences)
        states = [np.zeros((2, size), "float32") for size in layer.cell.state_size]
        states[3] = np.zeros((2, layer.cell.state_size[3] + 1), "float32")
        return layer(sequences, initial_state=states)

    return call


def tiny_vocabulary():
    return babi.Vocabulary(["mary", "went", "home", "where", "is"])


def tiny_examples():
    return babi.parse_lines(["1 mary went home.", "2 where is mary?\thome\t1"])


CASES = [
    # MemoryHop / MemoryNetwork
    ("hop memory_dim 0", lambda: km.MemoryHop(0), ValueError, ["memory_dim=0"]),
    ("hop memory_dim float", lambda: km.MemoryHop(2.5), TypeError, ["memory_dim=2.5"]),
    ("hop memories rank 2", lambda: km.MemoryHop(4)([f32(2, 4), f32(2, 6)]),
     ValueError, ["memories", "rank 3", "(2, 6)"]),
    ("hop query width", lambda: km.MemoryHop(4)([f32(2, 5), f32(2, 3, 6)]),
     ValueError, ["query", "(2, 5)"]),
    ("hop batch mismatch", lambda: km.MemoryHop(4)([f32(2, 4), f32(3, 3, 6)]),
     ValueError, ["same batch size", "(2, 4)", "(3, 3, 6)"]),
    ("hop single input", lambda: km.MemoryHop(4)(f32(2, 4)), ValueError,
     ["[query, memories]"]),
    ("hop memory_mask shape",
     lambda: km.MemoryHop(4)([f32(2, 4), f32(2, 3, 6)], memory_mask=np.ones((2, 4), bool)),
     ValueError, ["memory_mask", "(2, 4)"]),
    ("network num_hops 0", lambda: km.MemoryNetwork(num_hops=0), ValueError, ["num_hops=0"]),
    ("network unknown tying", lambda: km.MemoryNetwork(weight_tying="tied"), ValueError,
     ["weight_tying='tied'"]),
    ("network adjacent output_dim",
     lambda: km.MemoryNetwork(output_dim=3, weight_tying="adjacent")([f32(2, 6), f32(2, 4, 6)]),
     ValueError, ["output_dim=3"]),
    ("network other memory count",
     lambda: built_memory_network(memory_size=5)([f32(2, 6), f32(2, 4, 6)]),
     ValueError, ["memory_size", "5", "(2, 4, 6)"]),
    ("network query vs memories width",
     lambda: km.MemoryNetwork(4)([f32(2, 5), f32(2, 3, 6)]), ValueError, ["query", "(2, 5)"]),
    ("builder input_dim 0", lambda: km.memory_network(0), ValueError, ["input_dim=0"]),
    ("builder memory_size -1", lambda: km.memory_network(6, memory_size=-1), ValueError,
     ["memory_size=-1"]),
    # Text memories
    ("memn2n vocab_size 1", lambda: km.MemN2N(1), ValueError, ["vocab_size=1"]),
    ("memn2n float token ids", lambda: km.MemN2N(9)([f32(2, 3), i32(2, 4, 3)]), TypeError,
     ["query", "float32"]),
    ("memn2n sentence lengths differ", lambda: km.MemN2N(9)([i32(2, 3), i32(2, 4, 5)]),
     ValueError, ["sentence_len", "(2, 4, 5)"]),
    ("memn2n word id = vocab_size", lambda: km.MemN2N(9)([i32(2, 3), 9 * i32(2, 4, 3)]),
     ValueError, ["story", "word id 9", "vocab_size - 1 = 8"]),
    ("memn2n negative word id", lambda: km.MemN2N(9)([-i32(2, 3), i32(2, 4, 3)]),
     ValueError, ["query", "word id -1"]),
    ("memn2n random_noise 1.5", lambda: km.MemN2N(9, random_noise=1.5), ValueError,
     ["random_noise=1.5"]),
    ("memn2n builder sentence_len 0", lambda: km.memn2n(9, 0), ValueError, ["sentence_len=0"]),
    ("sentence encoding unknown", lambda: km.SentenceEncoding("tfidf"), ValueError,
     ["encoding='tfidf'"]),
    # NTM (and the DNC: NTM_ARGUMENTS, DNC_ARGUMENTS below)
    ("cell num_heads float", lambda: km.NTMCell(num_heads=1.0), TypeError, ["num_heads=1.0"]),
    ("ntm builder input_size 0", lambda: km.ntm(0), ValueError, ["input_size=0"]),
    ("ntm builder sequence_length 0", lambda: km.ntm(5, sequence_length=0), ValueError,
     ["sequence_length=0"]),
    ("read head shift_range -1", lambda: km.NTMReadHead(shift_range=-1), ValueError,
     ["shift_range=-1"]),
    ("read head unknown key activation", lambda: km.NTMReadHead(key_activation="relu6"),
     ValueError, ["key_activation='relu6'"]),
    ("read head weights vs memory",
     lambda: km.NTMReadHead()([f32(2, 8), f32(2, 6, 4), f32(2, 5)]), ValueError,
     ["previous_weights", "(2, 5)"]),
    ("write head shift_range vs memory",
     lambda: km.NTMWriteHead(shift_range=3)([f32(2, 8), f32(2, 4, 4), f32(2, 4)]),
     ValueError, ["shift_range=3", "memory_size=4"]),
    ("even shift width", lambda: addressing.circular_shift(f32(2, 5), f32(2, 4)), ValueError,
     ["odd", "4"]),
    ("ntm remat not a bool", lambda: km.NTMCell(remat="yes"), ValueError, ["remat='yes'"]),
    # DNC
    ("dnc memory_size 0", lambda: km.DNCCell(memory_size=0), ValueError, ["memory_size=0"]),
    ("dnc num_read_heads 0", lambda: km.DNC(num_read_heads=0), ValueError,
     ["num_read_heads=0"]),
    ("dnc num_write_heads 0", lambda: km.DNCCell(num_write_heads=0), ValueError,
     ["num_write_heads=0"]),
    ("dnc unknown controller", lambda: km.DNC(controller="gru"), ValueError,
     ["controller='gru'"]),
    ("dnc input rank 2", lambda: km.DNC(memory_size=4, memory_dim=2, controller_size=4)(
        f32(2, 5)), ValueError, ["sequences", "rank 3", "(2, 5)"]),
    ("dnc builder input_size 0", lambda: km.dnc(0), ValueError, ["input_size=0"]),
    ("allocation usage rank", lambda: addressing.write_allocation(f32(2, 5), f32(2)),
     ValueError, ["write_gates", "(2,)"]),
    # Task generators
    ("copy batch_size 0", lambda: tasks.copy_sequences(0), ValueError, ["batch_size=0"]),
    ("copy min above max", lambda: tasks.copy_sequences(2, min_length=5, max_length=3),
     ValueError, ["min_length=5", "max_length=3"]),
    ("unknown task", lambda: tasks.AlgorithmicTask("sorting", 2, 1), ValueError,
     ["task='sorting'"]),
    ("unknown padding mode", lambda: tasks.AlgorithmicTask("copy", 2, 1, pad="max"),
     ValueError, ["pad='max'"]),
    ("task seed -1", lambda: tasks.AlgorithmicTask("copy", 2, 1, seed=-1), ValueError,
     ["seed=-1"]),
    ("task seed text", lambda: tasks.AlgorithmicTask("copy", 2, 1, seed="abc"), TypeError,
     ["seed='abc'"]),
    ("lookup noise inf", lambda: tasks.key_value_lookup(4, noise=float("inf")), ValueError,
     ["noise=inf"]),
    ("lookup noise None", lambda: tasks.key_value_lookup(4, noise=None), TypeError,
     ["noise=None"]),
    ("lookup noise text", lambda: tasks.key_value_lookup(4, noise="0.1"), TypeError,
     ["noise='0.1'"]),
    # bAbI loader
    ("babi task 21", lambda: babi.task_file(".", 21), ValueError, ["task=21"]),
    ("babi split", lambda: babi.task_file(".", 1, "dev"), ValueError, ["split='dev'"]),
    ("babi sentence_len too small",
     lambda: babi.vectorize(tiny_examples(), tiny_vocabulary(), sentence_len=1), ValueError,
     ["sentence_len=1"]),
    ("babi memory_size 0",
     lambda: babi.vectorize(tiny_examples(), tiny_vocabulary(), memory_size=0), ValueError,
     ["memory_size=0"]),
    ("babi empty story", lambda: babi.parse_lines(["1 where is mary?\thome\t"]), ValueError,
     ["line 1", "at least one statement"]),
    ("babi superscript fact id",
     lambda: babi.parse_lines(["1 mary went home.", "2 where is mary?\thome\t\u00b2"]),
     ValueError, ["line 2", "supporting facts"]),
    ("babi vectorize raw lines", lambda: babi.vectorize(["1 Mary went home."],
                                                        tiny_vocabulary()),
     TypeError, ["examples", "str"]),
    ("vocabulary decode float id", lambda: tiny_vocabulary().decode([2.5]), TypeError,
     ["ids", "float64"]),
    ("NTM initial_state count", ntm_with_two_initial_states, ValueError,
     ["initial_state", "7 tensors", "received 2"]),
    ("NTM initial_state sizes", memory_layer_with_a_wrong_initial_state(km.NTM),
     ValueError, ["initial_state[3]", "[batch, 3]", "(2, 4)"]),
    ("DNC initial_state sizes", memory_layer_with_a_wrong_initial_state(km.DNC),
     ValueError, ["initial_state[3]", "[batch, 3]", "(2, 4)"]),
    ("DNCCell initial state unbuilt",
     lambda: km.DNCCell(memory_size=4, memory_dim=3, controller_size=5).get_initial_state(2),
     ValueError, ["get_initial_state", "output", "built"]),
    ("NTMCell initial state unbuilt",
     lambda: km.NTMCell(memory_size=4, memory_dim=3, controller_size=5).get_initial_state(2),
     ValueError, ["built"]),
    ("masked_softmax mask shape",
     lambda: addressing.masked_softmax(f32(2, 3), np.ones((2, 4), bool)), ValueError,
     ["mask", "(2, 3)", "(2, 4)"]),
    ("sentence encoding mask shape",
     lambda: km.SentenceEncoding("position")(f32(2, 3, 4), mask=np.ones((2, 5), bool)),
     ValueError, ["mask", "(2, 3)", "(2, 5)"]),
    ("trace of length-0 sequences",
     lambda: km.trace(km.ntm(3, memory_size=4, memory_dim=3, controller_size=5),
                      f32(1, 0, 3)), ValueError, ["sequences", "(1, 0, 3)"]),
    ("copy seed -1", lambda: tasks.copy_sequences(2, seed=-1), ValueError, ["seed=-1"]),
    ("copy seed text", lambda: tasks.copy_sequences(2, seed="abc"), TypeError,
     ["seed='abc'"]),
]

# Memory-layer arguments, each refused by the cell and by its sequence layer.
NTM_ARGUMENTS = [
    ({"memory_size": 0}, "memory_size=0"),
    ({"memory_dim": -1}, "memory_dim=-1"),
    ({"controller_size": 0}, "controller_size=0"),
    ({"num_heads": 0}, "num_heads=0"),
    ({"output_size": 0}, "output_size=0"),
    ({"num_read_heads": 0}, "num_read_heads=0"),
    ({"shift_range": -1}, "shift_range=-1"),
    ({"memory_size": 4, "shift_range": 2}, "shift_range=2 with memory_size=4"),
    ({"controller": "gru"}, "controller='gru'"),
    ({"memory_init": "zeros"}, "memory_init='zeros'"),
    ({"key_activation": "relu"}, "key_activation='relu'"),
]
DNC_ARGUMENTS = [
    ({"memory_size": 0}, "memory_size=0"),
    ({"memory_dim": 0}, "memory_dim=0"),
    ({"num_read_heads": 0}, "num_read_heads=0"),
    ({"num_write_heads": 0}, "num_write_heads=0"),
    ({"controller_size": -1}, "controller_size=-1"),
    ({"controller": "gru"}, "controller='gru'"),
    ({"remat": "sometimes"}, "remat='sometimes'"),
]
CASES += [
    (f"{layer.__name__} {kwargs}", functools.partial(layer, **kwargs), ValueError, [fragment])
    for layers, arguments in (((km.NTMCell, km.NTM), NTM_ARGUMENTS),
                              ((km.DNCCell, km.DNC), DNC_ARGUMENTS))
    for layer in layers
    for kwargs, fragment in arguments
]


def built_layer(layer_class, features=4):
    layer = layer_class(memory_size=6, memory_dim=3, controller_size=5)
    layer(np.zeros((2, 3, features), "float32"))
    return layer


def built_cell(cell_class, features=4):
    cell = cell_class(memory_size=6, memory_dim=3, controller_size=5)
    cell.build((None, features))
    return cell


CASES += [
    ("NTMCell memory_size float", lambda: km.NTMCell(memory_size=12.5), TypeError,
     ["memory_size=12.5"]),
] + [
    (f"{layer.__name__} sequences of rank {len(shape)}",
     functools.partial(lambda layer, shape: layer(memory_size=6, memory_dim=3,
                                                  controller_size=5)(f32(*shape)),
                       layer, shape),
     ValueError, ["`sequences` must have rank 3"])
    for layer in (km.NTM, km.DNC) for shape in ((2, 4), (2, 3, 4, 1))
] + [
    (f"{layer.__name__} other input size after build",
     functools.partial(lambda layer: built_layer(layer)(f32(2, 3, 5)), layer),
     ValueError, ["sequences", "input_size 4"])
    for layer in (km.NTM, km.DNC)
] + [
    (f"{cell.__name__} inputs of another size",
     functools.partial(lambda cell: (lambda c: c(f32(2, 5), c.get_initial_state(2)))(
         built_cell(cell)), cell),
     ValueError, ["`inputs` must have input_size 4"])
    for cell in (km.NTMCell, km.DNCCell)
]


def memory_layer_call(layer_class, sequences, **call_kwargs):
    def call():
        return layer_class(memory_size=6, memory_dim=3, controller_size=5)(
            sequences, **call_kwargs)

    return call


def memory_model_predict(builder, sequences):
    def predict():
        return builder(4, memory_size=6, memory_dim=3, controller_size=5).predict(
            sequences, verbose=0)

    return predict


# What a second hostile user broke (reliability issue), NTM and DNC alike.
CASES += [
    case
    for layer, builder in ((km.NTM, km.ntm), (km.DNC, km.dnc))
    for case in [
        (f"{layer.__name__} length-0 sequences", memory_layer_call(layer, f32(2, 0, 4)),
         ValueError, ["sequences", "at least one time step", "(2, 0, 4)"]),
        (f"{builder.__name__} predict of length-0 sequences",
         memory_model_predict(builder, f32(2, 0, 4)), ValueError,
         ["sequences", "at least one time step"]),
        (f"{layer.__name__} mask of another length",
         memory_layer_call(layer, f32(2, 3, 4), mask=np.ones((2, 5), bool)), ValueError,
         ["mask", "(2, 3)", "(2, 5)", "3 time steps"]),
        (f"{builder.__name__} mask_value NaN",
         lambda builder=builder: builder(4, mask_value=float("nan")), ValueError,
         ["mask_value", "NaN"]),
        (f"{builder.__name__} mask_value text",
         lambda builder=builder: builder(4, mask_value="pad"), TypeError,
         ["mask_value='pad'"]),
        (f"{layer.__name__} integer dtype", lambda layer=layer: layer(dtype="int32"),
         ValueError, ["dtype", "int32"]),
    ]
] + [
    ("product keys memory_size not square", lambda: km.ProductKeyMemory(1000), ValueError,
     ["memory_size", "perfect square", "1000", "961", "1024"]),
    ("product keys top_k past sqrt(N)", lambda: km.ProductKeyMemory(64, top_k=9),
     ValueError, ["top_k", "sqrt(memory_size) = 8", "top_k=9"]),
    ("product keys odd key_dim", lambda: km.ProductKeyMemory(64, top_k=4, key_dim=7),
     ValueError, ["key_dim", "even", "key_dim=7"]),
    ("product keys num_heads 0", lambda: km.ProductKeyMemory(64, num_heads=0), ValueError,
     ["num_heads=0"]),
    ("product keys value_dim 0", lambda: km.ProductKeyMemory(64, value_dim=0), ValueError,
     ["value_dim=0"]),
    ("product keys memory_size 0", lambda: km.ProductKeyMemory(0), ValueError,
     ["memory_size=0"]),
    ("product keys integer dtype", lambda: km.ProductKeyMemory(64, top_k=4, dtype="int32"),
     ValueError, ["dtype", "int32"]),
    ("product keys other features after build",
     lambda: (lambda layer: (layer(f32(2, 6)), layer(f32(2, 5))))(
         km.ProductKeyMemory(16, top_k=2, key_dim=4)),
     ValueError, ["inputs", "features 6", "(2, 5)"]),
    ("product keys sparse without max_tokens",
     lambda: km.ProductKeyMemory(64, top_k=4, value_learning_rate=0.1), ValueError,
     ["max_tokens", "value_learning_rate"]),
    ("product keys negative value_learning_rate",
     lambda: km.ProductKeyMemory(64, top_k=4, value_learning_rate=-1.0, max_tokens=8),
     ValueError, ["value_learning_rate=-1.0"]),
    ("product keys max_tokens 0",
     lambda: km.ProductKeyMemory(64, top_k=4, value_learning_rate=0.1, max_tokens=0),
     ValueError, ["max_tokens=0"]),
    ("hashed memory buckets not a power of two",
     lambda: km.HashedMemoryCell(num_buckets=12, value_dim=4), ValueError,
     ["num_buckets", "power of two", "num_buckets=12"]),
    ("hashed memory decay 1", lambda: km.HashedMemoryCell(8, 4, decay=1.0), ValueError,
     ["decay"]),
    ("hashed memory layer buckets not a power of two",
     lambda: km.HashedMemory(num_buckets=100), ValueError,
     ["num_buckets", "power of two", "num_buckets=100"]),
    ("hashed memory layer num_tables 0", lambda: km.HashedMemory(8, num_tables=0),
     ValueError, ["num_tables=0"]),
    ("hashed memory layer decay negative", lambda: km.HashedMemory(8, decay=-0.5),
     ValueError, ["decay"]),
    ("hashed memory layer integer dtype", lambda: km.HashedMemory(8, dtype="int32"),
     ValueError, ["dtype", "int32"]),
    ("hashed memory layer other features after build",
     lambda: (lambda layer: (layer(f32(2, 6)), layer(f32(2, 5))))(km.HashedMemory(8)),
     ValueError, ["inputs", "features 6", "(2, 5)"]),
    ("ema_write weights of another batch",
     lambda: addressing.ema_write(f32(2, 4, 3), np.zeros((5, 2), "int32"), f32(5, 3), 0.5,
                                  weights=f32(4)),
     ValueError, ["weights", "batch"]),
    ("memory_transformer unknown memory",
     lambda: km.memory_transformer(10, 4, memory="lstm"), ValueError,
     ["memory", "lstm", "product_key"]),
    ("memory_transformer heads do not divide hidden_dim",
     lambda: km.memory_transformer(10, 4, hidden_dim=10, num_heads=4), ValueError,
     ["num_heads", "hidden_dim=10"]),
    ("memory_transformer memory block past the last",
     lambda: km.memory_transformer(10, 4, num_layers=2, memory_blocks=[2]), ValueError,
     ["memory_blocks", "[0, 2)"]),
    ("memory_transformer shared memory with sparse updates",
     lambda: km.memory_transformer(10, 4, memory_size=64, top_k=4, key_dim=8,
                                   shared_memory=True, value_learning_rate=0.1,
                                   max_tokens=8),
     ValueError, ["shared_memory", "value_learning_rate"]),
    ("memory_transformer vocab_size 1", lambda: km.memory_transformer(1, 4), ValueError,
     ["vocab_size=1"]),
    ("position embedding longer than max_length",
     lambda: km.PositionEmbedding(3)(f32(2, 4, 5)), ValueError,
     ["max_length=3", "4"]),
    ("fact_sequences one object",
     lambda: km.tasks.fact_sequences(4, num_objects=1), ValueError, ["num_objects=1"]),
    ("fact_sequences no subjects",
     lambda: km.tasks.fact_sequences(0), ValueError, ["num_subjects=0"]),
    ("sam more reads per head than rows",
     lambda: km.SAMCell(memory_size=8, num_reads_per_head=9), ValueError,
     ["num_reads_per_head=9", "memory_size=8"]),
    ("sam reads per head 0", lambda: km.SAM(num_reads_per_head=0), ValueError,
     ["num_reads_per_head=0"]),
    ("sam half precision", lambda: km.SAMCell(dtype="mixed_bfloat16"), ValueError,
     ["dtype", "float32", "mixed_bfloat16"]),
    ("sam builder input_size 0", lambda: km.sam(0), ValueError, ["input_size=0"]),
    ("sdnc more links than rows", lambda: km.SDNC(memory_size=8, num_links=9), ValueError,
     ["num_links=9", "memory_size=8"]),
    ("sdnc builder input_size 0", lambda: km.sdnc(0), ValueError, ["input_size=0"]),
    ("sparse read more rows than memory",
     lambda: addressing.sparse_content_read(f32(2, 3), f32(2, 4, 3), f32(2, 1), 5),
     ValueError, ["num_reads", "N = 4", "num_reads=5"]),
    ("touch last_access of rank 3",
     lambda: addressing.touch(f32(2, 4, 1), addressing.SparseWeights(f32(2, 1), f32(2, 1)),
                              1.0),
     ValueError, ["last_access"]),
    ("hashed_lookup bits past 30",
     lambda: addressing.hashed_lookup(f32(2, 3), f32(1, 31, 3)), ValueError,
     ["projections", "1 to 30 bits"]),
    ("ema_write tables differ",
     lambda: addressing.ema_write(f32(2, 4, 3), np.zeros((5, 3), "int32"), f32(5, 3), 0.5),
     ValueError, ["buckets", "tables"]),
    ("product_key_search top_k past n",
     lambda: addressing.product_key_search(f32(2, 1, 4), f32(1, 2, 3, 2), 4),
     ValueError, ["top_k", "n = 3"]),
] + [
    (f"{generator.__name__} padding_value text",
     lambda generator=generator: generator(2, padding_value="x"), TypeError,
     ["padding_value='x'"])
    for generator in (tasks.copy_sequences, tasks.repeat_copy_sequences,
                      tasks.associative_recall_sequences, tasks.priority_sort_sequences)
]


@pytest.mark.parametrize("make, error, fragments", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_call_raises_a_clear_error_from_our_checks(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    innermost = info.traceback[-1].path
    assert "keras_memory" in str(innermost), (
        f"raised from {innermost}, not from keras_memory's checks"
    )


@pytest.mark.parametrize("text, fragment", [
    ("1 Mary went home.\n3 John went home.\n", "line 2"),
    ("Mary went home.\n", "line 1"),
    ("1 Mary went home.\n2 Where is Mary?\n", "line 2"),
])
def test_malformed_babi_file_names_file_and_line(tmp_path, text, fragment):
    with pytest.raises(ValueError) as info:
        bad_babi_file(tmp_path, text)()
    assert "qa1_bad_train.txt" in str(info.value) and fragment in str(info.value)


def test_babi_file_not_in_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "qa1_latin_train.txt"
    path.write_bytes("1 Mary went home.\n2 Zo\u00eb went home.\n".encode("latin-1"))
    with pytest.raises(ValueError) as info:
        babi.parse_file(path)
    assert "qa1_latin_train.txt, line 2" in str(info.value)
    assert "UTF-8" in str(info.value)


def test_babi_file_with_a_byte_order_mark_parses(tmp_path):
    path = tmp_path / "qa1_bom_train.txt"
    text = "1 Mary went home.\n2 Where is Mary?\thome\t1\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (example,) = babi.parse_file(path)
    assert example.answer == "home" and example.supporting_line_ids == (1,)


@pytest.mark.parametrize("content", ['["<pad>", "<unk>"]', "tokens: mary", "\xff\xfe"])
def test_vocabulary_load_of_a_foreign_file_names_the_path(tmp_path, content):
    path = tmp_path / "vocabulary.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ValueError) as info:
        babi.Vocabulary.load(path)
    assert "vocabulary.json" in str(info.value)


def test_the_table_is_at_least_thirty_calls():
    assert len(CASES) >= 30
