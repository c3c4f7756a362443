"""Write files and directories so that readers never see them half-written.

Everything is first written under a hidden temporary name beside its destination,
`.<name>.tmp-<pid>-<random>`, and renamed into place when complete. A process killed
on the way (SIGKILL, out of memory, power cut of the process) leaves only such
temporaries behind, never a half-written file under the real name; the next write into
the same directory removes the temporaries of processes that no longer run.

These guarantees hold against a dying process, not against the machine losing power
(nothing is fsync'ed).
"""

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import tempfile

# `.<name>.tmp-<pid>-<random>[.suffix]` and `.<name>.old-<pid>-<random>`, as
# `tempfile` names them below (8 random characters): specific enough never to take
# someone else's file for one of ours.
_TEMPORARY = re.compile(r"^\..+\.(?:tmp|old)-(\d+)-[a-z0-9_]{8}(?:\.[a-z]+)?$")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_mode(path):
    """Gives a file or directory made by `tempfile` (private, 0600 / 0700) the
    permissions an ordinary `open()` or `mkdir()` would have given it."""
    base = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, base & ~_umask())


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_stale_temporaries(directory):
    """Removes the temporaries that processes no longer running left in `directory`.

    Returns the names removed.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.match(name)
        if match and int(match.group(1)) != os.getpid() and not _running(int(match.group(1))):
            path = os.path.join(directory, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(path)
            removed.append(name)
    return removed


def temporary_name(path, kind="tmp"):
    """The prefix of a temporary beside `path`: `.<name>.<kind>-<pid>-`."""
    return f".{os.path.basename(path)}.{kind}-{os.getpid()}-"


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    """Swaps two paths in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`).
    Returns False where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary directory beside `path` that replaces `path` on success.

    On an exception the temporary directory is removed and `path` is left as it was.
    An existing `path` is swapped with the new directory in one atomic exchange where
    the system allows it (Linux), else with two renames; either way the old or the new
    complete directory is in place at every moment, but for the instant between the two
    renames in the fallback (the old one then remains as `.<name>.old-*`).
    """
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(parent)
    tmp = tempfile.mkdtemp(prefix=temporary_name(path), dir=parent)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish_mode(tmp)
    if not os.path.exists(path):
        os.replace(tmp, path)
    elif _exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)  # now holds the old directory
    else:
        old = tempfile.mkdtemp(prefix=temporary_name(path, "old"), dir=parent)
        os.rmdir(old)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path, suffix=""):
    """Yields a temporary file name beside `path` (ending with `suffix`, for writers
    that insist on an extension) that is renamed to `path` when the block succeeds."""
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(directory)
    fd, tmp = tempfile.mkstemp(prefix=temporary_name(path), suffix=suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        publish_mode(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    """Writes `text` (UTF-8) to a temporary file beside `path`, then renames it."""
    with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def write_bytes(path, data):
    """Writes `data` to a temporary file beside `path`, then renames it."""
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_json(path, data):
    """Writes `data` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
