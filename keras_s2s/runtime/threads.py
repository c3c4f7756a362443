"""How many CPU threads the runtimes get.

ONNX Runtime sizes its thread pool by the machine's cores and LiteRT by its own rule;
neither asks which cores this process may run on (its CPU affinity: `taskset`, a
container's cpuset, a batch scheduler's allocation), and a pool larger than that makes
its threads wait for each other. So the default here is the cores the process may use,
at most `MAX_DEFAULT_THREADS`; `num_threads=` (or `keras-s2s translate --threads N`) sets
it, and 0 leaves the choice to the runtime. ONNX Runtime's pool threads also stop
spin-waiting when there are several (`OnnxBackend(spinning=...)`) in the graphs that the
Python decoding loop calls, which runs on the same cores between two calls; in the graphs
that decode a whole batch in one call they spin. `benchmarks/threads.py`
measures these choices at batch 1 and 64 on both runtimes, on all cores and pinned to one
(`benchmarks/results/threads.md`).

>>> from keras_s2s.runtime.threads import default_threads, usable_cores
>>> 1 <= default_threads() <= min(usable_cores(), MAX_DEFAULT_THREADS)
True
"""

import os

# A decoder step is a few small matrix products: beyond a few threads, splitting them
# costs more in synchronisation than it saves (a guess for machines larger than this
# project's 2 cores, where it is not measured; `num_threads=` overrides it).
MAX_DEFAULT_THREADS = 4


def usable_cores():
    """The number of CPU cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity API (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def default_threads():
    """The runtimes' thread count when none is given: the usable cores, at most
    `MAX_DEFAULT_THREADS`."""
    return min(usable_cores(), MAX_DEFAULT_THREADS)


def check_threads(num_threads):
    """`num_threads` as an int: `None` gives `default_threads()`; 0 stands for the
    runtime's own default (what it does when it is not told; for benchmarks). A clear
    error for anything else."""
    if num_threads is None:
        return default_threads()
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
        raise ValueError(f"num_threads must be a positive integer, 0 (the runtime's own "
                         f"default) or None (the usable cores, at most {MAX_DEFAULT_THREADS}: "
                         f"here {default_threads()}), got {num_threads!r}.")
    return num_threads
