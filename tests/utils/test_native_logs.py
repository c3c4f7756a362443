"""The filter that keeps native libraries' log chatter off stderr
(`keras_s2s.utils.native_logs`): what it drops, what it must let through."""

import os
import subprocess
import sys

import pytest

from keras_s2s.utils.native_logs import is_noise

# Lines TensorFlow 2.21, XLA and LiteRT 2.3 printed on this machine.
NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796171433.562473    2356 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1796171433.562857    2356 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "E0000 00:00:1796171437.186490    2356 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "E0000 00:00:1796171438.365472    2356 util.cc:131] oneDNN supports DT_BOOL only on "
    "platforms with AVX-512. Falling back to the default Eigen-based implementation if present.",
    "W1202 10:11:12.123456   42 some/dir/file.cc:9] a warning\n",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32, "
    "output_inference_type: FLOAT32",
    "2026-12-02 10:11:12.123456: I tensorflow/core/platform/cpu_feature_guard.cc:210] old style",
]
# What a user must see.
KEPT = [
    "E0000 00:00:1796171438.365472    2356 bfc_allocator.cc:12] Allocator ran out of memory",
    "keras-s2s translate: error: runs/nope does not exist",
    "keras-s2s: warning: stdin is not valid UTF-8",
    "Traceback (most recent call last):",
    "INFO: something else",
    "I am a translation",
    "F0000 00:00:1796171438.365472    2356 check.cc:1] Check failed: x",
    "",
]


@pytest.mark.parametrize("line", NOISE)
def test_noise(line):
    assert is_noise(line)


@pytest.mark.parametrize("line", KEPT)
def test_kept(line):
    assert not is_noise(line)


CHILD = """
import os, sys
from keras_s2s.utils.native_logs import {context}
lines = [l.encode() + b"\\n" for l in {lines!r}]
with {context}():
    for line in lines:
        os.write(2, line)          # as C++ code writes
    print("from python", file=sys.stderr)
    os.write(2, b"partial line without end")
print("after", file=sys.stderr)
"""


@pytest.mark.parametrize("context", ["filtered_stderr", "quiet_stderr"])
def test_the_filter_drops_noise_and_keeps_the_rest_in_order(context):
    mixed = [line.rstrip("\n") for pair in zip(NOISE, KEPT) for line in pair]
    code = CHILD.format(context=context, lines=mixed)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_S2S_NATIVE_LOGS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    kept = [line for line in KEPT[: len(NOISE)]]
    assert result.stderr == "\n".join(kept) + "\nfrom python\npartial line without endafter\n"


def test_the_filter_steps_aside_when_asked():
    code = CHILD.format(context="filtered_stderr", lines=NOISE[:2])
    env = {**os.environ, "KERAS_S2S_NATIVE_LOGS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.stderr.startswith(NOISE[0] + "\n" + NOISE[1] + "\n")


CRASH = """
import os
from keras_s2s.utils.native_logs import filtered_stderr
with filtered_stderr():
    os.write(2, b"F0000 00:00:1796171438.365472    2356 check.cc:1] Check failed: x\\n")
    os.abort()                 # as a failed CHECK or glibc's heap check ends a process
"""


def test_a_native_crash_keeps_its_last_words_and_shows_where_python_was():
    """What a dying process wrote just before the end still gets out (the filter is a
    process of its own, not a thread that dies with the command), and faulthandler
    writes the Python stack straight to the real stderr."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_S2S_NATIVE_LOGS", "PYTHONFAULTHANDLER")}
    result = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == -6
    assert "Check failed: x" in result.stderr
    assert "Fatal Python error: Aborted" in result.stderr
    assert 'File "<string>", line 6 in <module>' in result.stderr
