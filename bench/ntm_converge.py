"""How long the copy NTM takes to learn: sequences and wall time until an
epoch averages under `--target` bit errors per sequence, per seed.

    python bench/ntm_converge.py --seeds 0,1,2

Trains with the jax backend (default: batch 1, the first `--variants`,
i.e. `buckets`, Adam 1e-3) until an epoch of `--epoch-sequences` (800)
sequences averages under `--target` bit errors per sequence, for each seed,
printing the learning curve as it goes, then sequences and wall time to get
there (median over seeds; compilation included), the NaN count and the
errors on 64 fresh sequences of length 20 and of length 40.
"""

import argparse
import json
import statistics

import ntm_workers
from ntm_workers import run_child

def converge(args):
    runs = []
    for seed in args.seeds:
        extra = ["--mode", "converge", "--seed", str(seed), "--batch-size",
                 str(args.batch_size), "--target", str(args.target),
                 "--learning-rate", str(args.learning_rate),
                 "--optimizer", args.optimizer, "--decay-steps", str(args.decay_steps),
                 "--max-epochs", str(args.max_epochs),
                 "--epoch-sequences", str(args.epoch_sequences), "--variants", args.variants[0]]
        run = run_child(args, "jax", extra, show_progress=True)
        runs.append(run)
        print(json.dumps(run), flush=True)
    done = [r for r in runs if r["seconds"] is not None]
    print(f"\nconverged {len(done)}/{len(runs)} seeds to < {args.target} bits/sequence")
    if done:
        print(f"median sequences {statistics.median(r['sequences'] for r in done):.0f}, "
              f"median wall {statistics.median(r['seconds'] for r in done):.0f} s, "
              f"NaN epochs {sum(r['nan'] for r in runs)}, "
              f"median errors at length 20 "
              f"{statistics.median(r['errors_at_20'] for r in runs):.3f}, at length 40 "
              f"{statistics.median(r['errors_at_40'] for r in runs):.3f}")


def main(argv=None):
    parser = ntm_workers.add_options(
        argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    converge(ntm_workers.parse(parser, argv))


if __name__ == "__main__":
    main()
