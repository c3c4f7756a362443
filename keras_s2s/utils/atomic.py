"""Write files and directories so that readers never see them half-written."""

import contextlib
import json
import os
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_mode(path):
    """Gives a file or directory made by `tempfile` (private, 0600 / 0700) the
    permissions an ordinary `open()` or `mkdir()` would have given it."""
    base = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, base & ~_umask())


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary directory beside `path` that replaces `path` on success.

    On an exception the temporary directory is removed and `path` is left as it was.
    An existing `path` is swapped out with two renames, so at every moment either the
    old or the new complete directory is in place (the old one may remain as
    `<path>.old-*` if the process dies between the renames).
    """
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    name = os.path.basename(path)
    tmp = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish_mode(tmp)
    if os.path.exists(path):
        old = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
        os.rmdir(old)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def write_text(path, text):
    """Writes `text` (UTF-8) to a temporary file beside `path`, then renames it."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp"
    ) as f:
        f.write(text)
    publish_mode(f.name)
    os.replace(f.name, path)


def write_json(path, data):
    """Writes `data` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
