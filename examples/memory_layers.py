"""Memorise random facts with a small transformer: a product-key memory, a
hashed memory and a dense feed-forward layer of the same compute a token.

    KERAS_BACKEND=jax python examples/memory_layers.py
    python examples/memory_layers.py --subjects 512 --epochs 20 --output-dir runs/facts

Every model is `keras_memory.memory_transformer` with one memory block:
`product_key` (`ProductKeyMemory`, with and without query normalisation),
`hashed` (`HashedMemory`, learned slots) and `dense` (a feed-forward layer
whose hidden width gives it the product-key memory's multiply-adds a
token). Each trains on the facts of `keras_memory.tasks.fact_sequences`
(subject, relation -> a random object) and is scored on how many it
answers. Prints, side by side: facts answered, parameters, multiply-adds a
token in the memory block, training time, and for the product-key
memories the share of slots read and the KL of their usage from uniform;
writes results.json and (with matplotlib) slot_usage.png.
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
    parser.add_argument("--subjects", type=int, default=4096, help="subjects of the facts")
    parser.add_argument("--relations", type=int, default=8, help="relations per subject")
    parser.add_argument("--objects", type=int, default=256, help="objects to draw from")
    parser.add_argument("--memory-size", type=int, default=65536,
                        help="slots: product keys (a square), hashed (over 4 tables)")
    parser.add_argument("--hidden-dim", type=int, default=64, help="transformer width")
    parser.add_argument("--top-k", type=int, default=16, help="product-key slots per head")
    parser.add_argument("--epochs", type=int, default=30, help="passes over the facts")
    parser.add_argument("--batch-size", type=int, default=256, help="facts per batch")
    parser.add_argument("--models", default="product_key,product_key_no_norm,hashed,dense",
                        help="which models to train, comma-separated")
    parser.add_argument("--seed", type=int, default=0, help="seed of the facts and weights")
    parser.add_argument("--output-dir", default="runs/memory_layers",
                        help="where results.json and the picture go")
    return parser


MEMORY_HEADS, KEY_DIM, TABLES = 4, 32, 4


def product_key_macs(args):
    """Multiply-adds a token in a product-key memory: query projection,
    sub-key scores, the top-k candidates' sums, the value rows."""
    side = int(round(args.memory_size ** 0.5))
    return (args.hidden_dim * MEMORY_HEADS * KEY_DIM + MEMORY_HEADS * side * KEY_DIM
            + MEMORY_HEADS * args.top_k ** 2 + MEMORY_HEADS * args.top_k * args.hidden_dim)


def memory_settings(name, args):
    """`(memory_transformer arguments, multiply-adds a token)` of one model."""
    product_key = dict(memory="product_key", memory_size=args.memory_size,
                       memory_heads=MEMORY_HEADS, top_k=args.top_k, key_dim=KEY_DIM)
    if name == "product_key":
        return product_key, product_key_macs(args)
    if name == "product_key_no_norm":
        return dict(product_key, query_norm=False), product_key_macs(args)
    if name == "hashed":  # as many slots as the product-key memory, over the tables
        buckets = args.memory_size // TABLES
        bits = buckets.bit_length() - 1
        return (dict(memory="hashed", memory_size=buckets, num_tables=TABLES,
                     seed=args.seed),
                TABLES * bits * args.hidden_dim + TABLES * args.hidden_dim)
    if name == "dense":
        units = max(1, round(product_key_macs(args) / (2 * args.hidden_dim)))
        return dict(memory="dense", memory_size=units), 2 * args.hidden_dim * units
    raise ValueError(f"unknown model {name!r}")


def main(argv=None):
    args = make_parser().parse_args(argv)
    # The backend is fixed when keras is first imported.
    os.environ["KERAS_BACKEND"] = args.backend or os.environ.get("KERAS_BACKEND", "jax")
    import keras
    import numpy as np

    import keras_memory as km
    from keras_memory.layers.product_key_memory import usage_statistics

    args.backend = keras.backend.backend()
    os.makedirs(args.output_dir, exist_ok=True)
    facts = km.tasks.fact_sequences(args.subjects, args.relations, args.objects,
                                    seed=args.seed)
    print(f"backend: {args.backend}; {len(facts.inputs):,} facts, "
          f"{args.objects} objects (chance {1 / args.objects:.3f})")
    results, usages = {}, {}
    for name in args.models.split(","):
        settings, macs = memory_settings(name, args)
        keras.utils.set_random_seed(args.seed)
        model = km.memory_transformer(facts.vocab_size, 2, hidden_dim=args.hidden_dim,
                                      num_heads=4, num_layers=2, name=name, **settings)
        model.compile(keras.optimizers.Adam(2e-3),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        start = time.perf_counter()
        model.fit(facts.inputs, facts.targets, sample_weight=facts.weights,
                  batch_size=args.batch_size, epochs=args.epochs,
                  verbose=1 if sys.stdout.isatty() else 2)
        seconds = time.perf_counter() - start
        logits = model.predict(facts.inputs, batch_size=1024, verbose=0)[:, 1]
        accuracy = float(np.mean(np.argmax(logits, -1) == facts.targets[:, 1]))
        results[name] = dict(facts_answered=accuracy, parameters=model.count_params(),
                             memory_macs_per_token=macs, train_seconds=seconds)
        if settings["memory"] == "product_key":
            memory = model.get_layer("memory_1")
            block_inputs = keras.Model(model.inputs,
                                       model.get_layer("feed_forward_norm_1").output)
            hidden = block_inputs.predict(facts.inputs, batch_size=1024, verbose=0)
            usages[name] = keras.ops.convert_to_numpy(memory.slot_usage(hidden[:, 1]))
            results[name].update(usage_statistics(usages[name]))
        print(f"{name}: {accuracy:.3f} of facts answered in {seconds:.0f} s", flush=True)

    print(f"\n{'model':<20} {'answered':>8} {'params':>10} {'MACs/token':>10} "
          f"{'train s':>8} {'slots read':>10} {'KL':>6}")
    for name, row in results.items():
        usage = (f"{row['fraction_read']:>10.3f} {row['kl_from_uniform']:>6.2f}"
                 if "fraction_read" in row else f"{'-':>10} {'-':>6}")
        print(f"{name:<20} {row['facts_answered']:>8.3f} {row['parameters']:>10,} "
              f"{row['memory_macs_per_token']:>10,} {row['train_seconds']:>8.0f} {usage}")
    with open(os.path.join(args.output_dir, "results.json"), "w") as handle:
        json.dump({"results": results, "settings": vars(args)}, handle, indent=1)
    if usages:
        try:
            from keras_memory import plotting

            plotting.plot_slot_usage(
                np.stack(list(usages.values())), list(usages),
                title="slot usage on the facts (the answer's position)",
                path=os.path.join(args.output_dir, "slot_usage.png"))
        except ImportError:
            print("matplotlib not installed: no picture")
    return results


if __name__ == "__main__":
    main()
