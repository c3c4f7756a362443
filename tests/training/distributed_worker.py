"""Processes for tests/training/test_distribute.py (run as a script, not collected).

    python tests/training/distributed_worker.py OUT WEIGHTS.npz --strategy S [--epochs N]
        [--resume] [--logical-cpus K] [--max-minutes M]
    python tests/training/distributed_worker.py --clipping

Trains the tiny reverse-task model of the tests with `keras_s2s.training.train_task`
and saves the weights this process ends with (every worker has its own copy) to
WEIGHTS.npz, with the loss history under the key `loss`. A multi-worker process reads
its place in the cluster from TF_CONFIG.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The settings every run of the distributed tests shares: ~8 steps an epoch.
TASK = "reverse"
CONFIG = {"units": 8, "embedding_dim": 8, "attention": "bahdanau"}
OPTIONS = {"train_size": 256, "dev_size": 32, "test_size": 8, "batch_size": 32,
           "learning_rate": 0.01, "seed": 3}


def clipping():
    """Prints, as JSON, how far the weights after a few clipped steps on 2 logical CPUs
    (MirroredStrategy) are from one device, with keras_s2s' Adam and with Keras' own."""
    import json

    import keras
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from keras_s2s.data.pipeline import BatchPlan
    from keras_s2s.models import Adam, Seq2Seq

    rng = np.random.default_rng(0)
    sources = [list(rng.integers(3, 20, rng.integers(2, 9))) for _ in range(128)]
    targets = [list(rng.integers(3, 20, rng.integers(1, 9))) for _ in range(128)]
    plan = BatchPlan(sources, targets, 32, seed=0)

    def weights_after(strategy, optimizer_class):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = Seq2Seq(20, 20, units=8, embedding_dim=8, attention="bahdanau")
            # A norm this small clips every step.
            model.compile(optimizer=optimizer_class(0.01, clipnorm=1e-3))
        model.fit(plan.dataset(0, endless=True), epochs=1, steps_per_epoch=4, verbose=0)
        return model.get_weights()

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    report = {}
    for name, optimizer_class in [("keras_s2s", Adam), ("keras", keras.optimizers.Adam)]:
        one = weights_after(tf.distribute.get_strategy(), optimizer_class)
        two = weights_after(mirrored, optimizer_class)
        report[name] = max(float(np.abs(a - b).max()) for a, b in zip(one, two))
    print(json.dumps(report))


def main():
    if sys.argv[1:] == ["--clipping"]:
        return clipping()
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("weights")
    parser.add_argument("--strategy", default="none")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--logical-cpus", type=int, default=0)
    parser.add_argument("--max-minutes", type=float)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    strategy = args.strategy
    if args.logical_cpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
        if strategy == "mirrored":
            devices = [f"/cpu:{i}" for i in range(args.logical_cpus)]
            strategy = tf.distribute.MirroredStrategy(devices)

    from keras_s2s.training import train_task

    trained = train_task(TASK, args.out, CONFIG, epochs=args.epochs, resume=args.resume,
                         strategy=strategy, max_minutes=args.max_minutes, tensorboard=False, verbose=0, **OPTIONS)
    history = trained.model.history.history if trained.model.history else {}
    np.savez(args.weights, loss=np.array(history.get("loss", [])),
             **{f"w{i}": w for i, w in enumerate(trained.model.get_weights())})

if __name__ == "__main__":
    main()
