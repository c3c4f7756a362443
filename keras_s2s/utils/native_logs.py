"""Keeps the native libraries' log chatter off the user's terminal.

TensorFlow, XLA and LiteRT log from C++ straight to file descriptor 2, through Abseil
before anything configured it: `TF_CPP_MIN_LOG_LEVEL` does not reach those lines, and
every Keras command printed about eight of them (`failed call to cuInit`, `oneDNN
custom operations are on`, ...), every LiteRT interpreter one more (`INFO: Created
TensorFlow Lite XNNPACK delegate for CPU.`). Python cannot turn them off, so they are
filtered where they are written:

- `filtered_stderr()` (the `keras-s2s` command, for its whole run) passes fd 2 through
  a pipe and a small filter process that forwards every line except `is_noise` ones,
  as they come. A process, not a thread: when the command dies of a native crash, the
  last words it wrote (glibc's `malloc(): ...`, a TensorFlow `Check failed` line) are
  still in the pipe, and only a reader outside the dying process gets them out. For
  the same reason a fatal signal's Python traceback (`faulthandler`, all threads) goes
  straight to the real stderr;
- `quiet_stderr()` (around one native call, e.g. making a LiteRT interpreter in a
  user's program) sends fd 2 to a temporary file and replays what is not noise.

Noise is an INFO or WARNING line in the C++ loggers' formats, the Abseil and XNNPACK
start-up notices, the TFLite calibrator's settings line, and two known harmless ERROR
lines (no CUDA driver; oneDNN's DT_BOOL fallback). Any other ERROR line, and everything Python writes, gets through. Set
`KERAS_S2S_NATIVE_LOGS=1` (or `TF_CPP_MIN_LOG_LEVEL=0`) to see everything.
No TensorFlow here: the runtime uses this module.
"""

import contextlib
import faulthandler
import os
import re
import signal
import subprocess
import sys
import tempfile

_NOISE = re.compile(
    r"(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    r"|INFO: Initialized TensorFlow Lite runtime\."
    # The second line of TensorFlow's CPU-instructions notice
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate "
    r"compiler flags\."
    # The TFLite calibrator's settings (int8 export)
    r"|fully_quantize: \d+, inference_type: \d+, input_inference_type: \w+, "
    r"output_inference_type: \w+"
    # Abseil / TensorFlow C++: I1201 12:00:00.123456  4242 file.cc:12] message
    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] .*"
    r"|E\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] "
    r"(failed call to cuInit|oneDNN supports DT_BOOL only).*"
    # TensorFlow's older format: 2026-12-01 12:00:00.123456: I tensorflow/...] message
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] .*"
    r")\r?\n?"
)
# A line that starts like this may turn out to be noise: wait for its end.
_MAYBE_NOISE = re.compile(r"([IWE]\d|WARNING: All|INFO: |\d{4}-)")


def is_noise(line):
    """Whether one line (with or without its newline) is native log chatter."""
    return _NOISE.fullmatch(line) is not None


def enabled():
    """False when the user asked to see the native logs."""
    return not (os.environ.get("KERAS_S2S_NATIVE_LOGS", "") not in ("", "0")
                or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0")


def _forward(read_fd, write_fd):
    """Copies what arrives on `read_fd` to `write_fd`, dropping noise lines, until EOF."""
    pending = b""
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        out = [line + b"\n" for line in lines
               if not is_noise(line.decode("utf-8", "replace"))]
        # A partial line (a prompt, a progress bar) goes out now unless it may be noise.
        if pending and not _MAYBE_NOISE.match(pending.decode("utf-8", "replace")):
            out.append(pending)
            pending = b""
        if out:
            _write_all(write_fd, b"".join(out))
    if pending and not is_noise(pending.decode("utf-8", "replace")):
        _write_all(write_fd, pending)
    os.close(read_fd)


def _write_all(fd, data):
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:  # the reader of our stderr went away: nothing to tell
        pass


@contextlib.contextmanager
def filtered_stderr():
    """Within the block, fd 2 goes through a filter process that drops noise lines (as
    they come; for a whole command), and a fatal signal's traceback to the real stderr."""
    if not enabled():
        yield
        return
    _flush()
    saved = os.dup(2)
    read_fd, write_fd = os.pipe()
    # This very file as a script, isolated (-I) and without site (-S): no import of
    # keras_s2s, let alone TensorFlow, and a start in a few milliseconds.
    forwarder = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__)],
                                 stdin=read_fd, stdout=saved, close_fds=True)
    os.close(read_fd)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    handled_faults = faulthandler.is_enabled()
    faulthandler.enable(file=saved, all_threads=True)
    try:
        yield
    finally:
        _flush()
        if handled_faults:
            faulthandler.enable(file=sys.stderr, all_threads=True)
        else:
            faulthandler.disable()
        os.dup2(saved, 2)  # closes the pipe's write end: the filter reads EOF and ends
        try:
            forwarder.wait(timeout=5)  # (a child process still holding it cannot stall us)
        except subprocess.TimeoutExpired:
            pass
        os.close(saved)


@contextlib.contextmanager
def quiet_stderr():
    """Within the block, fd 2 goes to a temporary file; afterwards, what is not noise
    is written to the real stderr (for short native calls)."""
    if not enabled():
        yield
        return
    _flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True)
                    if not is_noise(line.decode("utf-8", "replace"))]
            if kept:
                _write_all(2, b"".join(kept))


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass


if __name__ == "__main__":
    # The filter process of `filtered_stderr()`: stdin to stdout, noise dropped, until
    # every writer has closed the pipe. Ctrl-C is for the command: the filter must live
    # on to pass its last words (a KeyboardInterrupt traceback) through.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _forward(0, 1)
