"""How a Sparse Access Memory's training sequence grows with its memory, beside
the dense NTM (and the sparse DNC's beside the dense DNC).

    python bench/sparse_memory.py --backends jax,torch \
        --sizes 1024,16384,65536,1048576 --batch-sizes 1,32

Every cell (backend x side x batch size x memory size) trains in its own
process: the copy task with the NTM's settings (8-bit sequences of length
`--length`, so `2 * length + 1` steps; M = 20, an LSTM controller of 100,
one read head), Adam 1e-4, on one fixed batch. It prints the median time
of `--steps` training steps after two untimed ones (compilation there) and
the process's peak resident memory. The sides:

- `sam`: `km.sam(num_reads_per_head=4)`: top-4 reads, a write to the rows
  just read or the least recently used row;
- `ntm`: `km.ntm`, the dense NTM (every row read and written each step);
- `sdnc`: `km.sdnc(num_reads_per_head=4, num_links=8)`: the SAM's reads and
  writes, with temporal links, 8 a row each way;
- `dnc`: `km.dnc`, the dense DNC (an `N x N` link matrix);
- `peer` (torch only): the PyTorch `dnc` package's `SAM` (`pip install
  --no-deps dnc==1.1.0 faiss-cpu`), one read head of K = 4, its memory of
  N rows of M = 20, an LSTM of 100, trained on the same batch (its output
  has the input's 9 channels: the first 8 are scored). Its index is a GPU
  FAISS IVF index; here a bench-only shim gives it faiss-cpu's exact
  `IndexFlatL2` (behind an `IndexIDMap` for its ids), so its reads are
  exact top-K, as ours are; `torch.cuda.synchronize` does nothing, and
  faiss' `cast_integer_to_long_ptr` is its new `cast_integer_to_idx_t_ptr`;
- `peer_sdnc` (torch only): the same package's `SDNC`, K = 4 and 8
  temporal reads, on the same shim.

Past `--memory-limit` GB or `--time-limit` seconds a cell stops, and the
larger sizes of its row are not run. The table gives, per side and batch,
the seconds a training sequence takes at each size, its ratio to the
smallest size's, and each sparse side's speed-up over its dense one (SAM
over NTM, SDNC over DNC) at each size.
"""

import argparse
import os
import statistics
import time

import harness

MEMORY_DIM, CONTROLLER, READS, LINKS = 20, 100, 4, 8
SIDES = ("sam", "ntm", "sdnc", "dnc", "peer", "peer_sdnc")
DENSE = {"sam": "ntm", "sdnc": "dnc"}  # each sparse side's dense counterpart
PEER = {"sam": "peer", "sdnc": "peer_sdnc"}


def peer_worker(args):
    """The `dnc` package's SAM on faiss-cpu (see the module docstring)."""
    import faiss
    import numpy as np
    import torch

    import keras_memory as km

    class Resources:  # faiss.StandardGpuResources, on the CPU: nothing to hold
        def setTempMemoryFraction(self, fraction):
            pass

        def initializeForDevice(self, device):
            pass

    held = []  # the flat indexes an IndexIDMap points to must outlive it

    class FlatIndex(faiss.IndexIDMap):  # faiss.GpuIndexIVFFlat's calls, exact
        def __init__(self, resources, width, lists, metric):
            held.append(faiss.IndexFlatL2(width))
            super().__init__(held[-1])

        def setNumProbes(self, probes):
            pass

        def add_c(self, count, vectors):  # rows in order: ids are row + 1, as its own
            ids = np.arange(self.ntotal + 1, self.ntotal + count + 1, dtype="int64")
            self.add_with_ids_c(count, vectors, faiss.swig_ptr(ids))

    faiss.StandardGpuResources, faiss.GpuIndexIVFFlat = Resources, FlatIndex
    faiss.cast_integer_to_long_ptr = faiss.cast_integer_to_idx_t_ptr  # renamed since
    torch.cuda.synchronize = lambda *args: None
    from dnc import SAM, SDNC

    torch.manual_seed(0)
    inputs, targets, weights = km.tasks.copy_sequences(
        args.cell_batch, args.length, args.length, seed=0)
    inputs, targets, weights = (torch.tensor(a) for a in (inputs, targets, weights))
    options = dict(input_size=inputs.shape[-1], hidden_size=CONTROLLER, nr_cells=args.cell_size,
                   cell_size=MEMORY_DIM, read_heads=1, sparse_reads=READS, gpu_id=-1)
    if args.side == "peer_sdnc":
        model = SDNC(temporal_reads=LINKS, **options)
    else:
        model = SAM(**options)
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")

    def run(train):
        optimizer.zero_grad()
        output, _ = model(inputs, (None, None, None), reset_experience=True,
                          pass_through_memory=True)
        loss = (loss_fn(output[..., :targets.shape[-1]], targets).mean(-1) * weights).mean()
        if train:
            loss.backward()
            optimizer.step()
        return float(loss)

    try:
        run(train=True)
        result = {}
    except RuntimeError as error:  # its backward, on torch 2: reported, then forward only
        result = {"note": "training fails: " + str(error).split(". Hint")[0]}
    times = []
    for step in range(2 + args.steps):
        start = time.perf_counter()
        with torch.set_grad_enabled("note" not in result):
            loss = run(train="note" not in result)
        if step >= 2:
            times.append(time.perf_counter() - start)
    key = "forward_s" if "note" in result else "step_s"
    harness.report({key: statistics.median(times), "peak_gb": harness.peak_gb(),
                    "finite": bool(np.isfinite(loss)), **result})


def worker(args):
    """One cell in this process: prints its result."""
    if args.side.startswith("peer"):
        return peer_worker(args)
    import keras
    import numpy as np

    import keras_memory as km

    keras.utils.set_random_seed(0)
    inputs, targets, weights = km.tasks.copy_sequences(
        args.cell_batch, args.length, args.length, seed=0)
    build = {"sam": km.sam, "ntm": km.ntm, "sdnc": km.sdnc, "dnc": km.dnc}[args.side]
    options = {"sam": dict(num_reads_per_head=READS),
               "sdnc": dict(num_reads_per_head=READS, num_links=LINKS)}.get(args.side, {})
    model = build(inputs.shape[-1], memory_size=args.cell_size, memory_dim=MEMORY_DIM,
                  controller_size=CONTROLLER, output_size=targets.shape[-1], **options)
    model.compile(keras.optimizers.Adam(1e-4),
                  keras.losses.BinaryCrossentropy(from_logits=True))
    times = []
    for step in range(2 + args.steps):
        start = time.perf_counter()
        loss = model.train_on_batch(inputs, targets, sample_weight=weights)
        float(loss)  # wait for the step
        if step >= 2:
            times.append(time.perf_counter() - start)
    harness.report({"step_s": statistics.median(times), "peak_gb": harness.peak_gb(),
                    "finite": bool(np.isfinite(float(loss)))})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backends", default="jax,torch,tensorflow")
    parser.add_argument("--sides", default="sam,ntm", help=f"of {', '.join(SIDES)}")
    parser.add_argument("--sizes", default="1024,16384,65536,1048576",
                        help="memory sizes (rows)")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--length", type=int, default=20, help="copy sequence length")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps")
    parser.add_argument("--memory-limit", type=float, default=20.0,
                        help="GB of resident memory past which a cell stops")
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="seconds past which a cell stops")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--cell-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cell-batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    sizes = [int(n) for n in args.sizes.split(",")]
    limits = dict(memory_gb=args.memory_limit, seconds=args.time_limit)
    print(f"copy task training sequence (length {args.length}), {args.steps} timed steps, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}", flush=True)
    rows = [(backend, side, int(batch)) for backend in args.backends.split(",")
            for side in args.sides.split(",") for batch in args.batch_sizes.split(",")
            if not side.startswith("peer") or backend == "torch"]
    results = harness.sweep(__file__, rows, sizes, lambda key, size: [
        "--side", key[0], "--cell-size", str(size), "--cell-batch", str(key[1]),
        "--length", str(args.length), "--steps", str(args.steps)], **limits)
    print(f"\n{'backend':<11} {'side':<9} {'batch':>5} {'N':>8} {'seq s':>8} "
          f"{'vs first N':>10} {'speed-up':>9} {'peak GB':>8}")
    def seconds(result):  # a training step's, or (a peer that cannot train) a forward's
        return result.get("step_s", result.get("forward_s"))

    for (backend, side, batch, size), result in results.items():
        step = seconds(result)
        first = next((seconds(r) for (b, s, n, _), r in results.items()
                      if (b, s, n) == (backend, side, batch) and seconds(r)), None)
        dense = results.get((backend, DENSE.get(side), batch, size), {}).get("step_s")
        peer = seconds(results.get((backend, PEER.get(side), batch, size), {}))
        speedup = f"{dense / step:>9.1f}" if step and dense else f"{'':>9}"
        print(f"{backend:<11} {side:<9} {batch:>5} {size:>8} "
              + (f"{step:>8.3f} {step / first:>10.2f}" if step else f"{'-':>8} {'':>10}")
              + f" {speedup} {result.get('peak_gb', float('nan')):>8.2f}  "
              + (f"peer over ours {peer / step:.1f}  " if step and peer else "")
              + ("(forward only) " if "forward_s" in result else "")
              + result.get("note", ""))
    print("seq s: median seconds a training step on the batch (one sequence each); "
          "vs first N: over the smallest size that ran; speed-up: the dense side's time "
          "(NTM, DNC) over the sparse one's (SAM, SDNC) at the same size; peak GB: the "
          "worker's peak resident memory; peer over ours: the peer's time (a forward "
          "pass alone where it cannot train) over our training step")


if __name__ == "__main__":
    main()
