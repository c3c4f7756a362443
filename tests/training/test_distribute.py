"""Distributed training with tf.distribute: mirrored replicas and two worker processes.

TensorFlow fixes its devices and its cluster when it starts, so each run is a fresh
process (`tests/training/distributed_worker.py`): the single-device reference, MirroredStrategy
over 2 logical CPUs, and two MultiWorkerMirroredStrategy workers on 127.0.0.1. All of
them train the same tiny model with the same seed and global batch, so the distributed
runs must end with the single-device weights, up to float rounding.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")
TIMEOUT = 300  # seconds any one process may take
# Float32 rounding of a different summation order; a wrong batch split, loss or
# clipping moves weights by 1e-3 or more after these steps.
ATOL = 2e-5


def _environment(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _run(args, **env):
    """Runs one worker process to the end; fails the test with its output if it fails."""
    result = subprocess.run([sys.executable, WORKER, *args], env=_environment(**env),
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _weights(path):
    data = np.load(path)
    return [data[f"w{i}"] for i in range(len(data.files) - 1)], data["loss"]


def _max_difference(a, b):
    assert len(a) == len(b)
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _run_workers(out, weights_prefix, *extra, per_worker=((), ())):
    """Two multi-worker processes on free local ports; both are stopped at the end.
    `extra` goes to both, `per_worker[i]` to worker i only."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    processes = []
    try:
        for index in range(2):
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            processes.append(subprocess.Popen(
                [sys.executable, WORKER, str(out), f"{weights_prefix}{index}.npz",
                 "--strategy", "multiworker", *extra, *per_worker[index]],
                env=_environment(TF_CONFIG=tf_config),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ))
        outputs = [process.communicate(timeout=TIMEOUT)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for index, (process, output) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, f"worker {index} failed:\n{output}"
    return outputs


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    """The reference: one device, 1 epoch, then resumed to 2 epochs."""
    root = tmp_path_factory.mktemp("single")
    _run([str(root / "model"), str(root / "epoch1.npz")])
    _run([str(root / "model"), str(root / "epoch2.npz"), "--resume", "--epochs", "2"])
    return {epoch: _weights(root / f"epoch{epoch}.npz") for epoch in (1, 2)}


@pytest.fixture(scope="module")
def multiworker(tmp_path_factory):
    """Two workers train 1 epoch into a shared directory."""
    root = tmp_path_factory.mktemp("multiworker")
    outputs = _run_workers(root / "model", root / "epoch1-worker")
    return root, outputs


def test_mirrored_on_two_cpus_matches_one_device(tmp_path, single_device):
    _run([str(tmp_path / "model"), str(tmp_path / "mirrored.npz"),
          "--strategy", "mirrored", "--logical-cpus", "2"])
    weights, loss = _weights(tmp_path / "mirrored.npz")
    reference, reference_loss = single_device[1]
    np.testing.assert_allclose(loss, reference_loss, rtol=1e-5)
    assert _max_difference(weights, reference) < ATOL
    with open(tmp_path / "model" / "history.json", encoding="utf-8") as f:
        assert len(json.load(f)["loss"]) == 1


def test_gradient_clipping_is_that_of_the_global_batch():
    result = _run(["--clipping"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["keras_s2s"] < ATOL, report
    # Why keras_s2s has its own Adam: Keras clips each replica's part of the gradient.
    # If this starts to fail, Keras clips the global gradient and the subclass can go.
    assert report["keras"] > 1e-3, report


def test_two_workers_train_the_single_device_model(multiworker, single_device):
    root, outputs = multiworker
    chief, chief_loss = _weights(root / "epoch1-worker0.npz")
    other, _ = _weights(root / "epoch1-worker1.npz")
    # Both workers end with the same weights, and they are the single-device ones:
    # each global batch was split between the workers, not trained twice.
    assert _max_difference(chief, other) == 0.0
    reference, reference_loss = single_device[1]
    assert _max_difference(chief, reference) < ATOL
    np.testing.assert_allclose(chief_loss, reference_loss, rtol=1e-5)
    assert "2 replicas on 2 workers (multiworker)" in outputs[0]
    assert "this worker does not write the model directory" in outputs[1]


def test_the_chief_writes_a_loadable_model_and_checkpoint(multiworker):
    from keras_s2s.trained_model import TrainedModel
    from keras_s2s.training import list_checkpoints

    root, _ = multiworker
    chief, _ = _weights(root / "epoch1-worker0.npz")
    loaded = TrainedModel.load(str(root / "model"))
    assert _max_difference(loaded.model.get_weights(), chief) == 0.0
    assert loaded.meta["status"] == "trained"
    checkpoints = list_checkpoints(str(root / "model"))
    assert sorted(checkpoints) == [1]
    from_checkpoint = TrainedModel.load(str(root / "model"),
                                        os.path.join(checkpoints[1], "model.keras"))
    assert _max_difference(from_checkpoint.model.get_weights(), chief) == 0.0


@pytest.mark.slow
def test_two_workers_resume_after_a_restart(multiworker, single_device):
    root, _ = multiworker
    _run_workers(root / "model", root / "epoch2-worker", "--resume", "--epochs", "2")
    chief, _ = _weights(root / "epoch2-worker0.npz")
    other, _ = _weights(root / "epoch2-worker1.npz")
    assert _max_difference(chief, other) == 0.0
    assert _max_difference(chief, single_device[2][0]) < ATOL
    with open(root / "model" / "history.json", encoding="utf-8") as f:
        assert len(json.load(f)["loss"]) == 2


@pytest.mark.slow
def test_a_time_budget_stops_both_workers_at_the_same_step(tmp_path):
    # Worker 0's budget (0.06 s) is over after its first batch, worker 1's (100 min)
    # is not: both must stop there. Had worker 0 stopped alone, worker 1 would wait in
    # its next all-reduce until the timeout.
    _run_workers(tmp_path / "model", tmp_path / "worker", "--epochs", "3",
                 per_worker=(("--max-minutes", "0.001"), ("--max-minutes", "100")))
    chief, _ = _weights(tmp_path / "worker0.npz")
    other, _ = _weights(tmp_path / "worker1.npz")
    assert _max_difference(chief, other) == 0.0
    with open(tmp_path / "model" / "s2s.json", encoding="utf-8") as f:
        training = json.load(f)["training"]
    assert training["stopped_by_time_budget"] and training["epochs_completed"] == 1


def test_multiworker_without_tf_config_is_refused(monkeypatch):
    from keras_s2s.distribute import get_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        get_strategy("multiworker")
    for bad, message in [("{", "not valid JSON"), ('{"task": {}}', "cluster"),
                         ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
                          "not in its cluster")]:
        monkeypatch.setenv("TF_CONFIG", bad)
        with pytest.raises(ValueError, match=message):
            get_strategy("multiworker")


def test_unknown_strategy_names_the_choices():
    from keras_s2s.distribute import get_strategy

    with pytest.raises(ValueError, match="none, mirrored, multiworker"):
        get_strategy("tpu")


def test_chief_is_worker_zero_or_the_chief_task():
    import tensorflow as tf

    from keras_s2s.distribute import is_chief

    def strategy_at(cluster, task_type, task_id):
        resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id)
        return type("Strategy", (), {"cluster_resolver": resolver})()

    workers = {"worker": ["a:1", "b:1"]}
    assert is_chief(strategy_at(workers, "worker", 0))
    assert not is_chief(strategy_at(workers, "worker", 1))
    with_chief = {"chief": ["c:1"], "worker": ["a:1"]}
    assert is_chief(strategy_at(with_chief, "chief", 0))
    assert not is_chief(strategy_at(with_chief, "worker", 0))
    assert is_chief(tf.distribute.get_strategy())
