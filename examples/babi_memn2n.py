"""Train the End-to-End Memory Network on the bAbI tasks and compare with the paper.

    python examples/babi_memn2n.py                       # all 20 tasks, one model each
    python examples/babi_memn2n.py --tasks 1 2 3 --runs 3
    python examples/babi_memn2n.py --joint               # one model for all 20 tasks
    python examples/babi_memn2n.py --tasks 2 --plot      # attention picture
    python examples/babi_memn2n.py --data-dir path/to/tasks_1-20_v1-2/en

The data: the bAbI archive, downloaded once into ~/.keras/datasets and
checked (`keras_memory.datasets.babi.load_task`); `--size 10k` trains on the
10k sets. `--data-dir` (or $KERAS_MEMORY_BABI_DIR) reads a folder of
qaN_*_train.txt / qaN_*_test.txt files instead, with no download.

Defaults follow Sukhbaatar et al. (2015) and their released code for the 1k
training sets: 3 hops, adjacent weight tying, position encoding (PE,
centred to average 1 like the paper's code), temporal encoding, random
noise (RN), embedding 20 (50 when joint), a memory of the most recent
sentences (as many as the longest training story has, at most 50) whose
empty slots are null memories attention can land on (`--empty-slots
masked` leaves them out), linear start (LS: 20 epochs without the hops'
softmax at learning rate 0.005; 30 when joint), then 100 epochs (60 when
joint) of SGD at 0.005 halved every 25 epochs (15 when joint), batch 32,
gradients clipped to norm 40 per weight, loss summed over the batch. With
`--runs R` each task is trained R times and the run with the lowest
training error is kept, as in the paper (which keeps the best of 10); ties
go to the lower training loss. The paper held 10% of each training set out
for validation, to choose its hyperparameters; we take those from the paper
and train on all 1,000 examples. `--validation 0.1` holds 10% out as the
paper did and keeps the run with the lowest validation error instead.

Prints a table of test error per task next to the paper's (Table 1, PE LS RN
columns), writes it to `results.json`, saves the last trained model as a
`.keras` file with its vocabulary, and with `--plot` draws the attention of
every hop over the story for one test question.
"""

import argparse
import json
import os
import sys
import time

# Sukhbaatar et al. (2015), Table 1, 1k training examples, test error (%),
# 3 hops, adjacent tying, PE LS RN: trained per task / jointly on all tasks.
PAPER_ERROR = {
    "separate": [0.0, 8.3, 40.3, 2.8, 13.1, 7.6, 17.3, 10.0, 13.2, 15.1,
                 0.9, 0.2, 0.4, 1.7, 0.0, 1.3, 51.0, 11.1, 82.8, 0.0],
    "joint": [0.0, 11.4, 21.9, 13.4, 14.4, 2.8, 18.3, 9.3, 1.9, 6.5,
              0.3, 0.1, 0.2, 6.9, 0.0, 2.7, 40.4, 9.4, 88.0, 0.0],
}


def make_parser():
    """The command line, with each option's help and default."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backend", choices=["jax", "torch", "tensorflow"],
                        help="Keras backend (default: $KERAS_BACKEND or jax)")
    parser.add_argument("--data-dir",
                        help="folder with qaN_*_train.txt / qaN_*_test.txt (default: "
                             "$KERAS_MEMORY_BABI_DIR, else the bAbI archive, downloaded "
                             "once into ~/.keras/datasets)")
    parser.add_argument("--size", choices=["1k", "10k"], default="1k",
                        help="training examples per task, from the downloaded archive")
    parser.add_argument("--tasks", nargs="+", type=int, default=list(range(1, 21)),
                        help="bAbI task numbers")
    parser.add_argument("--joint", action="store_true",
                        help="train one model on all the tasks at once")
    parser.add_argument("--runs", type=int, default=1,
                        help="trainings per task; the one with the lowest training "
                             "(or, with --validation, validation) error is kept")
    parser.add_argument("--validation", type=float, default=0.0,
                        help="fraction of each training set held out to choose "
                             "between runs (default 0: train on all of it)")
    parser.add_argument("--epochs", type=int,
                        help="epochs after the linear start; default 100 (60 when joint)")
    parser.add_argument("--anneal-every", type=int, help="default 25 (15 when joint)")
    parser.add_argument("--learning-rate", type=float, default=0.005,
                        help="SGD's, after linear start")
    parser.add_argument("--linear-learning-rate", type=float, default=0.005,
                        help="SGD's during linear start")
    parser.add_argument("--batch-size", type=int, default=32, help="questions per batch")
    parser.add_argument("--hops", type=int, default=3, help="memory hops")
    parser.add_argument("--memory-dim", type=int,
                        help="embedding width d; default 20 (50 when joint)")
    parser.add_argument("--memory-size", type=int,
                        help="default: the longest training story, at most 50")
    parser.add_argument("--encoding", default="position_centered",
                        choices=["position_centered", "position_padded", "position",
                                 "bag_of_words"], help="sentence encoding")
    parser.add_argument("--tying", choices=["adjacent", "layerwise", "none"], default="adjacent",
                        help="weight tying between hops")
    parser.add_argument("--empty-slots", choices=["null", "masked"], default="null",
                        help="empty memory slots: null memories attention can land "
                             "on (the paper's code) or masked out of the softmax")
    parser.add_argument("--no-linear-start", action="store_true",
                        help="train with the hops' softmax from the start")
    parser.add_argument("--linear-epochs", type=int,
                        help="epochs of linear start; default 20 (30 when joint)")
    parser.add_argument("--linear-patience", type=int,
                        help="end the linear start once the loss (the validation loss "
                             "with --validation) has not fallen for this many epochs "
                             "(default: after --linear-epochs); "
                             "the linear epochs left over are trained with the softmax")
    parser.add_argument("--random-noise", type=float, default=0.1,
                        help="fraction of empty memories inserted while training (RN)")
    parser.add_argument("--no-temporal", action="store_true",
                        help="leave out the temporal encoding")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and noise")
    parser.add_argument("--verbose", type=int, default=None,
                        help="Keras fit verbosity (default: for a single training a "
                             "progress bar on a terminal, one line per epoch otherwise; "
                             "0 for many trainings)")
    parser.add_argument("--plot", action="store_true",
                        help="draw the attention for the first test question")
    parser.add_argument("--output-dir", default="runs/babi",
                        help="where the model, vocabulary, results.json and pictures go")
    return parser


def parse_args(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if not 0.0 <= args.validation < 1.0:
        parser.error(f"--validation must be in [0, 1), received {args.validation}")
    args.epochs = args.epochs or (60 if args.joint else 100)
    args.linear_epochs = args.linear_epochs or (30 if args.joint else 20)
    args.anneal_every = args.anneal_every or (15 if args.joint else 25)
    args.memory_dim = args.memory_dim or (50 if args.joint else 20)
    if args.verbose is None:
        one_training = args.runs == 1 and (args.joint or len(args.tasks) == 1)
        args.verbose = (1 if sys.stdout.isatty() else 2) if one_training else 0
    return args


def load(args, babi):
    """Parsed examples: {task: (train, test)}."""
    return {
        task: (babi.load_task(task, "train", size=args.size, data_dir=args.data_dir),
               babi.load_task(task, "test", size=args.size, data_dir=args.data_dir))
        for task in args.tasks
    }


def arrays(examples, vocabulary, args, sentence_len, babi):
    """`(inputs, answers)` for the model, or `None` for no examples."""
    if not examples:
        return None
    data = babi.vectorize(examples, vocabulary, args.memory_size, sentence_len)
    return {"query": data["queries"], "stories": data["stories"]}, data["answers"]


def with_memory_size(args, train_examples):
    """`args` with `memory_size` set: as given, else the longest training
    story (at most 50 sentences), as in the paper's code."""
    longest = max(len(example.story) for example in train_examples)
    return argparse.Namespace(**{**vars(args),
                                 "memory_size": args.memory_size or min(50, longest)})


def split_validation(examples, fraction, seed, np):
    """`(fit, held_out)`: `fraction` of `examples` (a seeded choice, at least
    one when `fraction > 0`) held out for validation."""
    if fraction == 0:
        return examples, []
    order = np.random.default_rng(seed).permutation(len(examples))
    held = max(1, int(fraction * len(examples)))
    return [examples[i] for i in order[held:]], [examples[i] for i in order[:held]]


def train(args, train_set, valid_set, vocabulary, sentence_len, seed, km, keras):
    """One training run (`valid_set` may be `None`); returns the model."""
    keras.utils.set_random_seed(seed)
    model = km.memn2n(
        len(vocabulary), sentence_len, memory_size=args.memory_size,
        memory_dim=args.memory_dim, num_hops=args.hops,
        weight_tying=None if args.tying == "none" else args.tying,
        encoding=args.encoding, temporal_encoding=not args.no_temporal,
        linear_start=not args.no_linear_start, random_noise=args.random_noise,
        empty_slots=args.empty_slots,
        seed=seed,
    )
    model.compile(
        # Clipped per weight: a global norm cost us 12 points on task 11.
        optimizer=keras.optimizers.SGD(args.learning_rate, clipnorm=40.0),
        # Summed over the batch, as in the paper's code: the learning rates
        # above are for a summed loss.
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
        metrics=["accuracy"],
        # Several small steps per call into the backend: a quarter faster on
        # jax (Keras allows only 1 on torch).
        steps_per_execution=1 if keras.backend.backend() == "torch" else 32,
    )
    callbacks = []
    linear = None
    epochs = args.epochs
    if not args.no_linear_start:
        linear = km.LinearStart(monitor="val_loss" if valid_set else "loss",
                                patience=args.linear_patience,
                                max_epochs=args.linear_epochs)
        callbacks.append(linear)
        epochs += args.linear_epochs

    def learning_rate(epoch, _):
        """Constant while linear; then halved every `anneal_every` epochs
        counted from the switch, the first halving after `anneal_every - 1`
        epochs (as the paper's code does)."""
        if linear and linear.linear:
            return args.linear_learning_rate
        since = epoch - (linear.switched_at if linear else 0)
        return args.learning_rate * 0.5 ** ((since + 1) // args.anneal_every)

    callbacks.append(keras.callbacks.LearningRateScheduler(learning_rate))
    model.fit(*train_set, validation_data=valid_set, epochs=epochs,
              batch_size=args.batch_size, callbacks=callbacks, verbose=args.verbose)
    return model


def test_error(model, test_set, np):
    logits = model.predict(test_set[0], batch_size=256, verbose=0)
    return 100.0 * float(np.mean(np.argmax(logits, -1) != test_set[1]))


def best_of_runs(args, train_set, valid_set, vocabulary, sentence_len, km, keras, progress):
    """Trains `args.runs` times; keeps the run with the lowest error, then
    loss, on the held-out set (`valid_set`), else on the training set."""
    chosen_by = valid_set or train_set
    best = None
    for run in range(args.runs):
        model = train(args, train_set, valid_set, vocabulary, sentence_len,
                      args.seed + 1000 * run, km, keras)
        progress()
        if args.runs == 1:
            return model
        loss, accuracy = model.evaluate(*chosen_by, batch_size=256, verbose=0)
        if best is None or (1.0 - accuracy, loss) < best[1]:
            best = (model, (1.0 - accuracy, loss))
    return best[0]


def main(argv=None):
    args = parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend or os.environ.get("KERAS_BACKEND", "jax")
    import keras

    args.backend = keras.backend.backend()  # what runs (keras may be imported already)
    import numpy as np

    import keras_memory as km
    from keras_memory.datasets import babi

    os.makedirs(args.output_dir, exist_ok=True)
    started = time.time()
    data = load(args, babi)
    mode = "joint" if args.joint else "separate"
    linear = "" if args.no_linear_start else f"{args.linear_epochs} linear + "
    print(f"backend: {keras.backend.backend()}; tasks {args.tasks}, {mode}, "
          f"{args.runs} run(s) each, {linear}{args.epochs} epochs")
    bar = keras.utils.Progbar((1 if args.joint else len(args.tasks)) * args.runs,
                              unit_name="training", stateful_metrics=["minutes"])
    done = [0]

    def progress():
        done[0] += 1
        bar.update(done[0], [("minutes", (time.time() - started) / 60)])

    errors = {}
    if args.joint:
        run = with_memory_size(args, [e for train_, _ in data.values() for e in train_])
        every = [e for train_, test_ in data.values() for e in train_ + test_]
        vocabulary = babi.Vocabulary.build(every)
        sentence_len = babi.sentence_length(every, run.memory_size)
        parts = [split_validation(data[t][0], args.validation, args.seed + t, np)
                 for t in args.tasks]
        fit_examples = [e for part, _ in parts for e in part]
        order = np.random.default_rng(args.seed).permutation(len(fit_examples))
        fit_examples = [fit_examples[i] for i in order]
        valid_examples = [e for _, part in parts for e in part]
        model = best_of_runs(
            run, arrays(fit_examples, vocabulary, run, sentence_len, babi),
            arrays(valid_examples, vocabulary, run, sentence_len, babi),
            vocabulary, sentence_len, km, keras, progress)
        for task in args.tasks:
            errors[task] = test_error(
                model, arrays(data[task][1], vocabulary, run, sentence_len, babi), np)
    else:
        for task in args.tasks:
            train_examples, test_examples = data[task]
            run = with_memory_size(args, train_examples)
            vocabulary = babi.Vocabulary.build(train_examples + test_examples)
            sentence_len = babi.sentence_length(train_examples + test_examples,
                                                run.memory_size)
            fit_examples, valid_examples = split_validation(train_examples, args.validation,
                                                            args.seed, np)
            model = best_of_runs(
                run, arrays(fit_examples, vocabulary, run, sentence_len, babi),
                arrays(valid_examples, vocabulary, run, sentence_len, babi),
                vocabulary, sentence_len, km, keras, progress)
            errors[task] = test_error(
                model, arrays(test_examples, vocabulary, run, sentence_len, babi), np)
    minutes = (time.time() - started) / 60
    report(args, errors, minutes, mode)
    save(run, model, vocabulary, data, sentence_len, km, keras, babi, np)
    return errors


def report(args, errors, minutes, mode):
    paper = PAPER_ERROR[mode]
    print(f"\n| task | test error % | paper ({mode}, PE LS RN) |")
    print("|---|---|---|")
    for task, error in errors.items():
        print(f"| {task} {babi_name(task)} | {error:.1f} | {paper[task - 1]:.1f} |")
    ours = sum(errors.values()) / len(errors)
    theirs = sum(paper[t - 1] for t in errors) / len(errors)
    print(f"| mean | {ours:.1f} | {theirs:.1f} |")
    failed = sum(e > 5.0 for e in errors.values())
    print(f"failed tasks (error > 5%): {failed}; wall time {minutes:.1f} min")
    with open(os.path.join(args.output_dir, "results.json"), "w") as handle:
        json.dump({"backend": args.backend, "mode": mode, "test_error": errors, "mean": ours,
                   "paper_mean": theirs, "minutes": minutes,
                   "settings": {k: v for k, v in vars(args).items() if k != "tasks"}},
                  handle, indent=1)


def babi_name(task):
    from keras_memory.datasets.babi import TASK_NAMES

    return TASK_NAMES[task]


def save(args, model, vocabulary, data, sentence_len, km, keras, babi, np):
    """Saves the last model and vocabulary; reloads it; optionally plots."""
    path = os.path.join(args.output_dir, "memn2n.keras")
    model.save(path)
    vocabulary.save(os.path.join(args.output_dir, "vocabulary.json"))
    reloaded = keras.saving.load_model(path, safe_mode=True)
    example = data[args.tasks[-1]][1][0]
    inputs, _ = arrays([example], vocabulary, args, sentence_len, babi)
    difference = np.max(np.abs(reloaded.predict(inputs, verbose=0)
                               - model.predict(inputs, verbose=0)))
    print(f"saved {path}; reloaded model differs by {difference:.1e}")
    if args.plot:
        plot_attention(args, model, example, inputs, vocabulary, km, keras, babi, np)


def plot_attention(args, model, example, inputs, vocabulary, km, keras, babi, np):
    from keras_memory import plotting

    layer = model.get_layer("memn2n_layer")
    config = dict(layer.get_config(), return_attention=True, name="inspect")
    inspector = km.MemN2N.from_config(config)
    inspector([inputs["query"], inputs["stories"]])
    inspector.set_weights(layer.get_weights())
    logits, attention = inspector([inputs["query"], inputs["stories"]])
    sentences = babi.story_sentences(example, args.memory_size)
    attention = keras.ops.convert_to_numpy(attention)[0][:, : len(sentences)]
    answer = vocabulary.decode([int(np.argmax(keras.ops.convert_to_numpy(logits)[0]))])[0]
    picture = os.path.join(args.output_dir, "attention.png")
    plotting.plot_memory_attention(
        attention, memory_labels=sentences, path=picture,
        title=f"{' '.join(example.question)}? -> {answer} (true: {example.answer})",
    )
    print(f"wrote {picture}")


if __name__ == "__main__":
    main()
    sys.exit(0)
