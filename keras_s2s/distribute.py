"""Training on several devices or machines with `tf.distribute`.

`train(..., strategy=...)` and `keras-s2s train --strategy` take one of `STRATEGIES`
or a `tf.distribute.Strategy`:

- `"none"`: TensorFlow's default strategy (one device).
- `"mirrored"`: `tf.distribute.MirroredStrategy` over the local GPUs (or the CPU).
- `"multiworker"`: `tf.distribute.MultiWorkerMirroredStrategy`, the cluster and this
  process's place in it read from the `TF_CONFIG` environment variable.

In every case `batch_size` is the global batch: each step, every replica gets an equal
share of it (see `keras_s2s.data.pipeline.BatchPlan`), and the loss and the gradient
clipping are those of the whole batch, so a distributed run follows the single-device
one (see `keras_s2s.models.losses` and `keras_s2s.models.optimizers`).
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("none", "mirrored", "multiworker")

TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


def _check_tf_config():
    """Raises a `ValueError` that says what is wrong with `TF_CONFIG`, if anything."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError(
            "--strategy multiworker needs the TF_CONFIG environment variable: the cluster "
            f"and this worker's place in it, for example TF_CONFIG='{TF_CONFIG_EXAMPLE}' "
            "(the same cluster on every worker, its own index on each)."
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}): {text!r}") from None
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError(f"TF_CONFIG has no \"cluster\" of workers: {text!r}")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError(f"TF_CONFIG has no \"task\" with a \"type\" and an \"index\": {text!r}")
    addresses = cluster.get(task["type"])
    if not isinstance(addresses, list) or not 0 <= task["index"] < len(addresses):
        raise ValueError(
            f"TF_CONFIG's task {task} is not in its cluster {cluster}: give a task type "
            "the cluster lists and an index below the number of its addresses."
        )


def get_strategy(strategy=None):
    """The `tf.distribute.Strategy` that `strategy` (a name or a strategy) stands for.

    Create it before any other TensorFlow work in the process: a multi-worker strategy
    must configure the TensorFlow runtime first.
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy is None or strategy == "none":
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multiworker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(
        f"Unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)} or give a "
        "tf.distribute.Strategy."
    )


def describe(strategy):
    """A short description for logs: `"2 replicas on 2 workers (multiworker)"`."""
    place = _cluster(strategy)
    workers = sum(len(tasks) for tasks in place[2].values()) if place else 1
    kind = ("multiworker" if place else "mirrored"
            if isinstance(strategy, tf.distribute.MirroredStrategy) else type(strategy).__name__)
    where = f" on {workers} workers" if workers > 1 else ""
    return f"{strategy.num_replicas_in_sync} replicas{where} ({kind})"


def _cluster(strategy):
    """`(task_type, task_id, cluster dict)` of a multi-worker strategy, else None."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return None
    cluster = resolver.cluster_spec().as_dict()
    if not cluster:
        return None
    return resolver.task_type, resolver.task_id, cluster


def is_chief(strategy):
    """Whether this process writes the model directory: the `chief` task, or worker 0
    of a cluster without one (the usual `TF_CONFIG` convention); always on one machine."""
    place = _cluster(strategy)
    if place is None:
        return True
    task_type, task_id, cluster = place
    if task_type in (None, "chief"):
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


def is_multi_worker(strategy):
    """Whether training spans several processes (their decisions must then agree)."""
    place = _cluster(strategy)
    return place is not None and sum(len(tasks) for tasks in place[2].values()) > 1


def agree_any(strategy, flag):
    """Whether `flag` is true on any worker; call it on every worker at the same point.

    Decisions taken from a local clock (a time budget) differ between workers; a worker
    that stopped alone would leave the others waiting in the next all-reduce.
    """
    if not is_multi_worker(strategy):
        return bool(flag)
    value = strategy.run(lambda: tf.constant(1.0 if flag else 0.0))
    return bool(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) > 0)

