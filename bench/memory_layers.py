"""How a product-key memory's training step grows with its memory size.

    python bench/memory_layers.py --backends jax,torch,tensorflow \
        --sizes 16384,65536,262144,1048576 --tokens 8x64,32x128 --peer

Every cell (backend x side x memory size x batch of tokens) trains a
one-layer model in its own process: `Input([seq, 256]) -> memory ->
output`, mean squared error, Adam 1e-3, on one fixed random batch; it
prints the median time of `--steps` training steps after two untimed ones
(compilation included there), the process's peak resident memory and its
resident memory after the steps. The sides:

- `sparse`: `ProductKeyMemory(value_learning_rate=...)`: the rows read
  get SGD in the layer, the optimizer keeps no state for the table;
- `dense`: `ProductKeyMemory()`: the table is an ordinary weight (a dense
  gradient; Adam updates every row and keeps two moments for each);
- `full`: attention over all N keys (`softmax(q K^T) V`, one head), the
  brute force a product-key search avoids;
- `peer` (`--peer`, torch only): lucidrains' `product_key_memory.PKM`
  (`pip install product-key-memory`, bench-only) with the same sizes,
  trained by its own loop (Adam over every parameter, dense table
  gradient).

Memory layer settings: 4 heads, top_k 32, key_dim 128 (64 per half),
value_dim 256, query normalisation. The table prints, per side and batch,
the time at each size and its ratio to the smallest size's, in one run.
"""

import argparse
import os
import statistics
import time

import harness

VALUE_DIM, HEADS, TOP_K, KEY_DIM = 256, 4, 32, 128
SIDES = ("sparse", "dense", "full", "peer")


def full_attention_layer(keras, ops, memory_size):
    """Attention of each token over all `memory_size` learned keys."""

    class FullAttention(keras.layers.Layer):
        def build(self, input_shape):
            self.query = keras.layers.Dense(KEY_DIM)
            self.query.build(input_shape)
            self.keys = self.add_weight(shape=(memory_size, KEY_DIM), name="keys")
            self.values = self.add_weight(shape=(memory_size, VALUE_DIM), name="values")

        def call(self, inputs):
            scores = ops.matmul(self.query(inputs), ops.transpose(self.keys))
            return ops.matmul(ops.softmax(scores, axis=-1), self.values)

    return FullAttention()


def worker(args):
    """One cell in this process: prints its result."""
    import numpy as np

    batch, length = args.cell_tokens
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, length, VALUE_DIM)).astype("float32")
    y = rng.normal(size=(batch, length, VALUE_DIM)).astype("float32")
    if args.side == "peer":
        return harness.report(peer_worker(args, x, y))
    import keras
    from keras import ops

    import keras_memory as km

    keras.utils.set_random_seed(0)
    if args.side == "full":
        memory = full_attention_layer(keras, ops, args.cell_size)
    else:
        sparse = dict(value_learning_rate=1e-3, max_tokens=batch * length)
        memory = km.ProductKeyMemory(args.cell_size, value_dim=VALUE_DIM, num_heads=HEADS,
                                     top_k=TOP_K, key_dim=KEY_DIM,
                                     **(sparse if args.side == "sparse" else {}))
    inputs = keras.Input((length, VALUE_DIM))
    model = keras.Model(inputs, memory(inputs))
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    times = []
    for step in range(2 + args.steps):
        start = time.perf_counter()
        loss = model.train_on_batch(x, y)
        float(loss)  # wait for the step
        if step >= 2:
            times.append(time.perf_counter() - start)
    harness.report({"step_s": statistics.median(times), "peak_gb": harness.peak_gb(),
                    "resident_gb": harness.resident_gb(os.getpid()),
                    "finite": bool(np.isfinite(float(loss)))})


def peer_worker(args, x, y):
    import torch
    from product_key_memory import PKM

    torch.manual_seed(0)
    memory = PKM(VALUE_DIM, heads=HEADS, num_keys=int(round(args.cell_size ** 0.5)),
                 topk=TOP_K, dim_head=KEY_DIM // 2)  # per half
    optimizer = torch.optim.Adam(memory.parameters(), lr=1e-3)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    for step in range(2 + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(memory(x), y)
        loss.backward()
        optimizer.step()
        if step >= 2:
            times.append(time.perf_counter() - start)
    return {"step_s": statistics.median(times), "peak_gb": harness.peak_gb(),
            "resident_gb": harness.resident_gb(os.getpid()),
            "finite": bool(torch.isfinite(loss))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backends", default="jax,torch,tensorflow")
    parser.add_argument("--sides", default="sparse,dense,full",
                        help=f"comma-separated, of {', '.join(SIDES)}")
    parser.add_argument("--peer", action="store_true",
                        help="also lucidrains' PKM on torch (pip install product-key-memory)")
    parser.add_argument("--sizes", default="16384,65536,262144,1048576",
                        help="memory sizes, perfect squares")
    parser.add_argument("--tokens", default="8x64,32x128", help="batch x sequence length")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--memory-limit", type=float, default=20.0,
                        help="GB of resident memory past which a cell stops")
    parser.add_argument("--time-limit", type=float, default=900.0,
                        help="seconds past which a cell stops")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--cell-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cell-tokens", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.cell_tokens = tuple(int(n) for n in args.cell_tokens.split("x"))
        return worker(args)
    sizes = [int(n) for n in args.sizes.split(",")]
    sides = args.sides.split(",") + (["peer"] if args.peer else [])
    limits = dict(memory_gb=args.memory_limit, seconds=args.time_limit)
    print(f"product-key memory training step, {args.steps} timed steps, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}", flush=True)
    cells = [(backend, side, tokens) for backend in args.backends.split(",")
             for side in sides if side != "peer" or backend == "torch"
             for tokens in args.tokens.split(",")]
    results = harness.sweep(__file__, cells, sizes, lambda key, size: [
        "--side", key[0], "--cell-size", str(size), "--cell-tokens", key[1],
        "--steps", str(args.steps)], **limits)
    rows = [(backend, side, tokens, size, result)
            for (backend, side, tokens, size), result in results.items()]
    print(f"\n{'backend':<11} {'side':<7} {'tokens':>7} {'N':>8} {'step s':>8} "
          f"{'vs first N':>10} {'peak GB':>8} {'end GB':>7} {'table GB':>8}")
    first = {}
    for backend, side, tokens, size, result in rows:
        step = result.get("step_s")
        key = (backend, side, tokens)
        if step and key not in first:
            first[key] = step
        ratio = f"{step / first[key]:>10.2f}" if step and key in first else f"{'':>10}"
        print(f"{backend:<11} {side:<7} {tokens:>7} {size:>8} "
              + (f"{step:>8.3f} " if step else f"{'-':>8} ") + ratio
              + f" {result.get('peak_gb', float('nan')):>8.2f}"
              + f" {result.get('resident_gb', float('nan')):>7.2f}"
              + f" {size * VALUE_DIM * 4 / 2**30:>8.2f}"
              + f"  {result.get('note', '')}")
    print("step s: median seconds a training step; vs first N: over the smallest size "
          "that ran; peak GB: the worker process's peak resident memory (initialisation "
          "included); end GB: its resident memory after the timed steps; table GB: the "
          "float32 value table alone")


if __name__ == "__main__":
    main()
