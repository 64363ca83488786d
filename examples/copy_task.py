"""Train a Neural Turing Machine (or a DNC) on Graves' copy task or another of his tasks.

    python examples/copy_task.py                     # jax, sane defaults
    python examples/copy_task.py --backend torch --steps 2000
    python examples/copy_task.py --task repeat_copy  # or associative_recall,
                                                     # priority_sort
    XLA_FLAGS=--xla_force_host_platform_device_count=2 \
        python examples/copy_task.py --data-parallel # keras.distribution

The standard copy NTM (N=128 rows of M=20, LSTM controller of 100 units,
one read and one write head) trains with `model.fit` on 8-bit sequences of
length 1..20, then reports bit errors per sequence at lengths 20, 40 and
80, saves the model as a `.keras` file, checks that the saved file gives
the same outputs, and draws input, target, output and the head weights
over time for one sequence. `--model dnc` trains a Differentiable Neural
Computer instead (`examples/dnc_tasks.py` sets its defaults), `--model sam`
a Sparse Access Memory and `--model sdnc` a sparse DNC.
"""

import argparse
import json
import os
import sys
import time


def make_parser():
    """The command line, with each option's help and default."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backend", choices=["jax", "torch", "tensorflow"],
                        help="Keras backend (default: $KERAS_BACKEND or jax)")
    parser.add_argument("--model", choices=["ntm", "dnc", "sam", "sdnc"], default="ntm",
                        help="Neural Turing Machine, Differentiable Neural Computer, "
                             "Sparse Access Memory or sparse DNC")
    parser.add_argument("--read-heads", type=int, default=1, help="read heads")
    parser.add_argument("--reads-per-head", type=int, default=4,
                        help="sam, sdnc: rows each read head reads (K)")
    parser.add_argument("--links", type=int, default=8,
                        help="sdnc: links each row keeps each way (K_L)")
    parser.add_argument("--task", default="copy",
                        choices=["copy", "repeat_copy", "associative_recall",
                                 "priority_sort"], help="Graves' algorithmic task")
    parser.add_argument("--buckets", type=int, default=4,
                        help="padded lengths (compiled graphs, default 4); each batch is "
                             "padded to the shortest that fits it")
    parser.add_argument("--mask-padding", action="store_true",
                        help="pad with -1 steps that the model masks and skips "
                             "(use with --buckets 1: one graph)")
    parser.add_argument("--data-parallel", action="store_true",
                        help="split each batch over all devices (jax backend)")
    parser.add_argument("--steps", type=int, default=50000,
                        help="training batches at most; training stops earlier once "
                             "an epoch averages under --target (default 50000)")
    parser.add_argument("--batch-size", type=int,
                        help="default 1 (the copy NTM converges in the fewest sequences "
                             "and the least time at batch 1: bench/README.md), or one "
                             "sequence per device with --data-parallel")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and weights")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's")
    parser.add_argument("--min-length", type=int, default=1,
                        help="copy task: shortest training sequence")
    parser.add_argument("--max-length", type=int, default=20,
                        help="copy task: longest training sequence")
    parser.add_argument("--target", type=float, default=0.1,
                        help="stop once an epoch's bit errors/sequence fall below this")
    parser.add_argument("--steps-per-epoch", type=int,
                        help="default: 800 sequences' worth of batches")
    parser.add_argument("--eval-lengths", default="20,40,80",
                        help="copy task: lengths to test after training")
    parser.add_argument("--memory-size", type=int, default=128, help="memory rows N")
    parser.add_argument("--memory-dim", type=int, default=20, help="row width M")
    parser.add_argument("--controller-size", type=int, default=100, help="LSTM units")
    parser.add_argument("--output-dir", default="runs/copy",
                        help="where the model, curve.json and the picture go")
    return parser


def parse_args(argv):
    return make_parser().parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend or os.environ.get("KERAS_BACKEND", "jax")
    import keras

    args.backend = keras.backend.backend()  # what runs (keras may be imported already)
    import numpy as np

    import keras_memory as km
    from keras_memory.tasks import AlgorithmicTask, BitErrorsPerSequence, copy_sequences

    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    rows = 1  # sequences checked after saving and drawn (one per device)
    if args.data_parallel:
        if keras.backend.backend() != "jax":
            raise SystemExit("--data-parallel uses keras.distribution (jax backend)")
        devices = keras.distribution.list_devices()
        if args.batch_size is None:
            args.batch_size = len(devices)
        if args.batch_size % len(devices):
            raise SystemExit(f"--batch-size {args.batch_size} does not split evenly over "
                             f"{len(devices)} devices")
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        print(f"data parallel over {len(devices)} devices")
        rows = len(devices)
    if args.batch_size is None:
        args.batch_size = 1
    if args.steps_per_epoch is None:
        args.steps_per_epoch = max(1, 800 // args.batch_size)
    options = {}
    if args.task == "copy":
        options = dict(min_length=args.min_length, max_length=args.max_length)
    padding = -1.0 if args.mask_padding else 0.0
    data = AlgorithmicTask(args.task, args.batch_size, args.steps_per_epoch,
                           buckets=args.buckets, seed=args.seed, padding_value=padding,
                           **options)
    input_size, output_size = km.tasks.task_channels(args.task, **options)
    builder = {"ntm": km.ntm, "dnc": km.dnc, "sam": km.sam, "sdnc": km.sdnc}[args.model]
    sparse = {"sam": dict(num_reads_per_head=args.reads_per_head),
              "sdnc": dict(num_reads_per_head=args.reads_per_head, num_links=args.links),
              }.get(args.model, {})
    model = builder(
        input_size, memory_size=args.memory_size, memory_dim=args.memory_dim,
        controller_size=args.controller_size, num_read_heads=args.read_heads,
        output_size=output_size, mask_value=padding if args.mask_padding else None,
        **sparse,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=10.0),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[BitErrorsPerSequence(from_logits=True)],  # output phase only
        # Keras leaves XLA off for tensorflow on CPU-only machines; for the
        # NTM it trains about 2x faster (README: Performance).
        jit_compile=True if keras.backend.backend() == "tensorflow" else "auto",
    )
    curve = []
    # Batches after which the epoch's running loss is NaN or Inf (from the
    # first bad batch to the end of its epoch): 0 means no batch went NaN.
    nan_batches = []

    class Curve(keras.callbacks.Callback):
        async_safe = True  # the batch hook only appends: training need not wait for it

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if not np.isfinite(float(logs["loss"])):
                nan_batches.append(batch)

        def on_epoch_end(self, epoch, logs=None):
            errors = float(logs["bit_errors_per_sequence"])
            curve.append({
                "sequences": (epoch + 1) * args.steps_per_epoch * args.batch_size,
                "seconds": round(time.perf_counter() - self.start, 1),
                "loss": round(float(logs["loss"]), 4),
                "bit_errors_per_sequence": round(errors, 3),
            })
            if errors < args.target:
                print(f"reached {errors:.3f} < {args.target} bit errors/sequence")
                self.model.stop_training = True

    print(f"backend: {keras.backend.backend()}, model: {args.model}, task: {args.task}, "
          f"padded lengths: {data.padded_lengths}")
    epochs = max(1, args.steps // args.steps_per_epoch)
    # A progress bar on a terminal; one line per epoch in a log file.
    model.fit(data, epochs=epochs, callbacks=[Curve()],
              verbose=1 if sys.stdout.isatty() else 2)

    results = {}
    if args.task == "copy":
        tests = [(length, copy_sequences(64, length, length, seed=args.seed + 1000 + length))
                 for length in (int(n) for n in args.eval_lengths.split(","))]
    else:
        tests = [("test", AlgorithmicTask(args.task, 64, 1, buckets=1,
                                          seed=args.seed + 1000)[0])]
    for name, (x, y, w) in tests:
        metric = BitErrorsPerSequence(from_logits=True)
        metric.update_state(y, model.predict(x, batch_size=64, verbose=0), w)
        results[name] = float(metric.result())
        print(f"{args.task} {name}: {results[name]:.3f} bit errors/sequence")

    path = os.path.join(args.output_dir, f"{args.task}_{args.model}.keras")
    model.save(path)
    x, y, w = (part[:rows] for part in tests[0][1])  # the first is drawn
    reloaded = keras.saving.load_model(path, safe_mode=True)
    difference = float(np.max(np.abs(reloaded.predict(x, verbose=0) - model.predict(x, verbose=0))))
    print(f"saved {path}; reloaded model differs by {difference:.1e}")
    with open(os.path.join(args.output_dir, "curve.json"), "w") as handle:
        json.dump({"backend": args.backend, "curve": curve, "eval": results,
                   "nan_batches": len(nan_batches), "settings": vars(args)},
                  handle, indent=1)

    record = km.trace(model, x)
    try:
        from keras_memory import plotting

        picture = os.path.join(args.output_dir, f"{args.task}_trace.png")
        probabilities = 1 / (1 + np.exp(-record["outputs"][0]))
        metric = BitErrorsPerSequence(from_logits=True)
        metric.update_state(y[:1], record["outputs"][:1], w[:1])
        scored = int(np.sum(w[0] > 0))
        title = (f"{args.model.upper()} {args.task} ({args.backend}): "
                 f"{scored} scored steps of {x.shape[1]}, "
                 f"{float(metric.result()):.1f} bit errors")
        if args.model == "dnc":
            plotting.plot_dnc_trace(
                x[0], y[0], probabilities, record["write_weights"][0],
                record["read_weights"][0], record["usage"][0], record["read_modes"][0],
                title=title, path=picture,
            )
        elif args.model in ("sam", "sdnc"):
            plotting.plot_trace(record, inputs=x, targets=y, title=title, path=picture)
        else:
            plotting.plot_ntm_trace(
                x[0], y[0], probabilities, record["read_weights"][0],
                record["write_weights"][0], title=title, path=picture,
            )
        print(f"wrote {picture}")
    except ImportError as error:
        print(f"no picture: {error}")
    return results


if __name__ == "__main__":
    main()
