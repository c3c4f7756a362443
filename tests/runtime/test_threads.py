"""Threads of the runtimes (`keras_s2s.runtime.threads`): never more than the cores the
process may use, settable from Python and the CLI, and without effect on the tokens."""

import json
import os
import subprocess
import sys

import pytest

from keras_s2s import runtime
from keras_s2s.cli import main
from keras_s2s.runtime import threads

from conftest import REPO

BUNDLE = str(REPO / "export" / "dates_bahdanau")
MODEL = str(REPO / "saved_models" / "dates_bahdanau")
DATES = ["March 3, 1999", "14/08/1905", "the 2nd of July 2011", "12.1.76", "1 jan 2000"]
needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"),
                                    reason="CPU affinity is a Linux API")


def test_the_default_is_the_usable_cores_at_most_four(monkeypatch):
    for cores, expected in ((1, 1), (2, 2), (4, 4), (64, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)),
                            raising=False)
        assert threads.usable_cores() == cores
        assert threads.default_threads() == expected
        assert threads.check_threads(None) == expected
    assert threads.check_threads(3) == 3
    assert threads.check_threads(0) == 0  # the runtime's own default


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_a_thread_count_that_is_no_count_is_refused(bad):
    with pytest.raises(ValueError, match="num_threads must be a positive integer"):
        runtime.load(BUNDLE, backend="onnx", num_threads=bad)


@needs_affinity
def test_pinned_to_one_core_each_runtime_gets_one_thread():
    """A process that may use one core (as under `taskset -c 0`) gets one thread, where
    ONNX Runtime left alone sizes its pool by the machine's cores."""
    code = (
        "import json, os\n"
        "os.sched_setaffinity(0, [sorted(os.sched_getaffinity(0))[0]])\n"
        "from keras_s2s import runtime\n"
        f"onnx = runtime.load({BUNDLE!r}, backend='onnx').backend\n"
        f"tflite = runtime.load({BUNDLE!r}, backend='tflite').backend\n"
        "print(json.dumps({'onnx': onnx.num_threads, 'tflite': tflite.num_threads,\n"
        "                  'intra_op': onnx.session_options('decoder_step').intra_op_num_threads,\n"
        "                  'cores': len(os.sched_getaffinity(0))}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"onnx": 1, "tflite": 1, "intra_op": 1, "cores": 1}


def test_onnx_pool_threads_spin_only_inside_the_whole_loop_graphs_unless_asked():
    """Several ONNX Runtime threads wait without spinning between the calls of the
    Python decoding loop (the loop needs the cores then) and spin in the graphs that
    decode a whole batch in one call; `spinning=True` or `False` sets every graph, and
    ONNX Runtime's own default (0 threads) is left as it is."""
    def spinning(role, **options):
        backend = runtime.load(BUNDLE, backend="onnx", **options).backend
        return backend.session_options(role).get_session_config_entry(
            "session.intra_op.allow_spinning")

    for role in ("encoder", "decoder_step"):
        assert spinning(role, num_threads=2) == "0"
        assert spinning(role, num_threads=2, spinning=True) == "1"
    for role in ("translate", "beam"):
        assert spinning(role, num_threads=2) == "1"
        assert spinning(role, num_threads=2, spinning=False) == "0"
    assert spinning("decoder_step", num_threads=1, spinning=False) == "0"
    with pytest.raises(Exception):  # not set: ONNX Runtime's own default applies
        spinning("translate", num_threads=0)


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_the_thread_count_leaves_the_tokens_alone(backend):
    outputs = {}
    for num_threads in (1, 2, 0, None):
        translator = runtime.load(BUNDLE, backend=backend, num_threads=num_threads)
        outputs[num_threads] = (translator.translate(DATES),
                                translator.translate(DATES, beam_size=3))
    assert len({repr(v) for v in outputs.values()}) == 1, outputs


def test_the_cli_takes_threads_for_the_runtimes(capsys):
    assert main(["translate", BUNDLE, "--backend", "onnx", *DATES]) == 0
    default = capsys.readouterr().out
    assert main(["translate", BUNDLE, "--backend", "onnx", "--threads", "1", *DATES]) == 0
    assert capsys.readouterr().out == default
    assert len(default.splitlines()) == len(DATES)


def test_the_cli_says_where_threads_do_not_apply(capsys):
    with pytest.raises(SystemExit):
        main(["translate", BUNDLE, "--threads", "0", "x"])
    assert "must be a positive integer" in capsys.readouterr().err
    for argv, named in ((["translate", BUNDLE, "--backend", "keras"], "not keras's"),
                        (["translate", MODEL], "is a model directory")):
        assert main([*argv, "--threads", "2", "x"]) == 2
        error = capsys.readouterr().err
        assert "--threads sets the threads of the tflite and onnx runtimes" in error
        assert named in error
