"""Where a training batch of the copy NTM goes, backend by backend: the
profiles behind "What stands in the way of each target" in
bench/README.md.

    python bench/profile_step.py --backend torch --batch-size 1 \
        --peer-ntm PATH/pytorch-ntm
    python bench/profile_step.py --backend tensorflow --batch-size 1
    python bench/profile_step.py --backend tensorflow --xla --batch-size 32
    python bench/profile_step.py --backend jax --batch-size 1 \
        --baseline PATH/ref_jax_ntm.py

The model, task and optimizer are `ntm_workers.py`'s (N=128, M=20, LSTM 100,
one read and one write head; Adam, clipnorm 10), every batch one length
(`--length`, default 20: 41 time steps). Each run prints milliseconds per
batch and per time step, then what the backend lets one see of a step:

- torch: the autograd graph's nodes per time step (walked from the loss);
  `torch.profiler` over `--batches` calls of `train_on_batch`: op calls
  per time step, the time inside ops against the wall time (the rest is
  Python and dispatch), and the op kinds that take the most time. With
  `--peer-ntm PATH`, the same for pytorch-ntm's own training step.
- tensorflow: the graph ops of the time loop's body and of its gradient
  (what tensorflow's executor runs at every time step, one op after the
  other at batch 1), and, with `--trace`, `tf.profiler`'s time by op
  kind. With `--xla`, the step is compiled (`jit_compile=True`).
- jax: the same training step four ways, side by side: `model.fit`,
  `train_on_batch`, Keras' compiled step called alone (what is left when
  Keras' per-batch Python is taken away), and the raw-JAX baseline's
  step (`--baseline`); then the two compiled programs' XLA cost analysis.
"""

import argparse
import collections
import os
import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("jax", "torch", "tensorflow"),
                        required=True)
    parser.add_argument("--xla", action="store_true",
                        help="tensorflow: compile(jit_compile=True)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--length", type=int, default=20,
                        help="copy length L (2L + 1 time steps)")
    parser.add_argument("--batches", type=int, default=30,
                        help="timed (and profiled) batches")
    parser.add_argument("--top", type=int, default=12, help="op kinds listed")
    parser.add_argument("--peer-ntm", default=None,
                        help="torch: path to pytorch-ntm, profiled beside ours")
    parser.add_argument("--baseline", default=None, metavar="PATH",
                        help="jax: the raw-JAX baseline script, timed beside ours")
    parser.add_argument("--trace", action="store_true",
                        help="tensorflow: also time ops with tf.profiler")
    return parser.parse_args(argv)


def batch(km, args, seed=0):
    return km.tasks.copy_sequences(args.batch_size, args.length, args.length, seed=seed)


def trained_model(args):
    """`(keras_memory, the copy NTM after one training batch, that batch,
    time steps a batch)`, as `ntm_workers.py` builds it."""
    import keras

    import keras_memory as km
    import ntm_workers

    keras.utils.set_random_seed(0)
    model = ntm_workers.build_model(keras, km, 1e-4, None)
    data = batch(km, args)
    model.fit(*data[:2], sample_weight=data[2], batch_size=args.batch_size, verbose=0)
    return km, model, data, 2 * args.length + 1


def timed(function, repeats):
    """Median seconds of `function()` over `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report_time(who, seconds, steps):
    print(f"{who}: {seconds * 1e3:.2f} ms a batch, "
          f"{seconds * 1e6 / steps:.0f} us a time step")


def top_table(rows, top, unit="us"):
    """Rows of (kind, calls, total time in us) -> the `top` largest, printed."""
    total = sum(row[2] for row in rows) or 1.0
    print(f"  {'op':<44} {'calls':>8} {unit:>10} {'share':>6}")
    for name, calls, spent in sorted(rows, key=lambda row: -row[2])[:top]:
        print(f"  {name[:44]:<44} {calls:>8.1f} {spent:>10.0f} {spent / total:>6.1%}")


# -- torch ----------------------------------------------------------------------


def autograd_nodes(loss):
    """Kinds and count of the nodes of `loss`'s autograd graph."""
    seen, kinds, stack = set(), collections.Counter(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        kinds[type(node).__name__] += 1
        stack.extend(next_node for next_node, _ in node.next_functions)
    return kinds


def torch_profile(who, run_batch, loss_of, args, steps):
    import torch

    run_batch()  # warm-up
    report_time(who, timed(run_batch, args.batches), steps)
    kinds = autograd_nodes(loss_of())
    common = ", ".join(f"{name} {count / steps:.1f}" for name, count in kinds.most_common(6))
    print(f"  autograd nodes a time step: {sum(kinds.values()) / steps:.1f} ({common})")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(args.batches):
            run_batch()
    averages = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    calls = sum(e.count for e in averages) / args.batches / steps
    inside = sum(e.self_cpu_time_total for e in averages) / args.batches
    wall = timed(run_batch, 3) * 1e6
    print(f"  aten op calls a time step (nested ones included): {calls:.0f}; time inside "
          f"aten ops {inside / 1e3:.1f} ms a batch under the profiler "
          f"(the batch alone: {wall / 1e3:.1f} ms)")
    top_table([(e.key, e.count / args.batches, e.self_cpu_time_total / args.batches)
               for e in averages], args.top, unit="us/batch")


def profile_torch(args):
    import keras
    import torch

    import keras_memory as km
    import ntm_workers

    steps = 2 * args.length + 1
    keras.utils.set_random_seed(0)
    model = ntm_workers.build_model(keras, km, 1e-4, None)
    x, y, w = batch(km, args)

    def ours():
        model.train_on_batch(x, y, sample_weight=w)

    def our_loss():
        outputs = model(torch.from_numpy(x), training=True)
        return model.compute_loss(x, torch.from_numpy(y), outputs,
                                  torch.from_numpy(w), training=True)

    torch_profile("keras-memory (torch)", ours, our_loss, args, steps)
    if not args.peer_ntm:
        return
    sys.path.insert(0, args.peer_ntm)
    from ntm.aio import EncapsulatedNTM

    torch.manual_seed(0)
    model = ntm_workers.MODEL
    net = EncapsulatedNTM(9, 8, model["controller_size"], 1, model["num_heads"],
                          model["memory_size"], model["memory_dim"])
    optimizer = torch.optim.RMSprop(net.parameters(), momentum=0.9, alpha=0.95, lr=1e-4)
    peer = (net, optimizer, torch.nn.BCELoss())

    def theirs():
        ntm_workers.peer_train_batch(peer, args.batch_size, args.length, seed=0)

    def their_loss():
        inputs = torch.from_numpy(x[:, : args.length + 1].transpose(1, 0, 2).copy())
        net.init_sequence(args.batch_size)
        for step in range(args.length + 1):
            net(inputs[step])
        outputs = torch.stack([net()[0] for _ in range(args.length)])
        return outputs.sum()

    torch_profile("pytorch-ntm", theirs, their_loss, args, steps)


# -- tensorflow -----------------------------------------------------------------


def loop_functions(graph_def):
    """`{name: [op types]}` of the time loop's bodies that training runs: the
    forward body as rewritten to keep what the gradient needs, and the
    gradient's body; constants (`Const`) left out."""
    names = [function.signature.name for function in graph_def.library.function]
    return {
        function.signature.name: [node.op for node in function.node_def
                                  if node.op != "Const"]
        for function in graph_def.library.function
        if "while_body" in function.signature.name
        and f"{function.signature.name}_rewritten" not in names
    }


def profile_tensorflow(args):
    import tensorflow as tf

    km, model, (x, y, w), steps = trained_model(args)
    data = tf.data.Dataset.from_tensors((x, y, w)).repeat(args.batches)
    seconds = timed(lambda: model.fit(data, verbose=0), 3) / args.batches
    report_time("keras-memory (tensorflow" + (", XLA)" if args.xla else ")"),
                seconds, steps)
    if args.xla:
        return
    # The training step traced as `fit` traces it (one batch, one graph).
    concrete = tf.function(model.train_step).get_concrete_function(
        tuple(tf.constant(part) for part in (x, y, w)))
    bodies = loop_functions(concrete.graph.as_graph_def())
    for name, kinds in sorted(bodies.items(), key=lambda item: -len(item[1])):
        counts = collections.Counter(kinds)
        common = ", ".join(f"{kind} {n}" for kind, n in counts.most_common(10))
        print(f"  {name[:50]}: {len(kinds)} ops ({common})")
    total = sum(len(kinds) for kinds in bodies.values())
    print(f"  ops a time step (constants aside), forward and gradient: {total}; "
          f"{seconds * 1e6 / steps / max(total, 1):.1f} us an op at this batch size")
    if not args.trace:
        return
    import glob
    import tempfile

    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    logdir = tempfile.mkdtemp()
    tf.profiler.experimental.start(logdir)
    model.fit(data, verbose=0)
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    space.ParseFromString(open(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0],
                               "rb").read())
    rows = collections.defaultdict(lambda: [0, 0.0])
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if line.name != "TensorFlow Ops" and "tf_Compute" not in line.name:
                continue
            for event in line.events:
                kind = names[event.metadata_id].rsplit(":", 1)[-1]
                rows[kind][0] += 1
                rows[kind][1] += event.duration_ps / 1e6
    top_table([(kind, calls / args.batches, spent / args.batches)
               for kind, (calls, spent) in rows.items()], args.top, unit="us/batch")


# -- jax ------------------------------------------------------------------------


def baseline_step(path, batch_size, length):
    """The baseline's jitted `train_step` and its arguments, from its source
    with the timing loop cut off (it runs at import)."""
    source = pathlib.Path(path).read_text()
    source = source[: source.index("\nms = jax.tree.map")]
    sys.argv = [path, "1", str(batch_size), "0", str(length)]
    namespace = {"__name__": "ref_jax_ntm"}
    exec(compile(source, path, "exec"), namespace)  # noqa: S102
    jax = namespace["jax"]
    params = namespace["params"]
    zeros = jax.tree.map(namespace["jnp"].zeros_like, params)
    x, y = namespace["make"](length)
    return namespace["train_step"], (params, zeros, zeros, x, y)


def loop_bodies(hlo):
    """`{body name: Counter of instruction kinds}` of the compiled HLO
    module's while loops' bodies: on CPU, each fusion, dot or copy there
    is a kernel call at every time step."""
    import re

    computations, name = {}, None
    for line in hlo.splitlines():
        header = re.match(r"^(?:ENTRY )?%?([\w.\-]+) .*\{$", line)
        if header:
            name = header.group(1)
            computations[name] = collections.Counter()
        elif name and " = " in line:
            kind = re.search(r" = [^ ]+ ([\w\-]+)\(", line)
            if kind and kind.group(1) not in ("parameter", "get-tuple-element",
                                               "tuple", "constant", "bitcast"):
                computations[name][kind.group(1)] += 1
    bodies = re.findall(r"body=%?([\w.\-]+)", hlo)
    return {body: computations[body] for body in dict.fromkeys(bodies)}


def profile_jax(args):
    import jax
    import numpy as np

    km, model, (x, y, w), steps = trained_model(args)
    batches = [batch(km, args, seed) for seed in range(args.batches)]
    inputs = np.concatenate([b[0] for b in batches])
    targets = np.concatenate([b[1] for b in batches])
    weights = np.concatenate([b[2] for b in batches])

    def fit():
        model.fit(inputs, targets, sample_weight=weights, batch_size=args.batch_size,
                  verbose=0, shuffle=False)

    report_time("model.fit", timed(fit, 3) / args.batches, steps)
    report_time("train_on_batch", timed(lambda: model.train_on_batch(x, y, w), args.batches),
                steps)
    state = model._get_jax_state(trainable_variables=True, non_trainable_variables=True,
                                 optimizer_variables=True, metrics_variables=True,
                                 purge_model_variables=False)
    step = jax.jit(model.train_step, donate_argnums=0)
    data = tuple(jax.numpy.asarray(part) for part in (x, y, w))
    state = step(state, data)[1]
    holder = [state]

    def compiled():
        holder[0] = jax.block_until_ready(step(holder[0], data)[1])

    report_time("Keras' compiled step alone", timed(compiled, args.batches), steps)
    ours = step.lower(holder[0], data).compile()
    if not args.baseline:
        return
    train_step, arguments = baseline_step(args.baseline, args.batch_size, args.length)
    arguments = jax.block_until_ready(train_step(*arguments))[:3] + arguments[3:]
    report_time("raw-JAX baseline step",
                timed(lambda: jax.block_until_ready(train_step(*arguments)), args.batches),
                steps)
    theirs = train_step.lower(*arguments).compile()
    for who, program in (("keras-memory", ours), ("raw-JAX", theirs)):
        cost = program.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        print(f"  {who}: XLA flops {cost.get('flops', 0):.3g}, bytes accessed "
              f"{cost.get('bytes accessed', 0):.3g}")
        for body, kinds in loop_bodies(program.as_text()).items():
            common = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common(8))
            print(f"    loop body {body[:40]}: {sum(kinds.values())} instructions ({common})")


def main():
    args = parse_args()
    os.environ["KERAS_BACKEND"] = args.backend
    if args.xla:
        os.environ["BENCH_XLA"] = "1"
    sys.path.insert(0, str(HERE))
    {"torch": profile_torch, "tensorflow": profile_tensorflow, "jax": profile_jax}[
        args.backend](args)


if __name__ == "__main__":
    main()
