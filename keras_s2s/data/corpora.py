"""Read parallel text: a TSV file with source and target columns, or two aligned files."""

import os


def _read_lines(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist.")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory, not a text file.")
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        line = text_line_of(path, e.start)
        raise ValueError(
            f"{path} is not valid UTF-8 (line {line}, byte {e.start}): convert it, e.g. "
            "with `iconv -f LATIN1 -t UTF-8`."
        ) from None
    return split_lines(text)


def split_lines(text):
    """The lines of a text as a file has them: each ends at "\n" (a "\r" before it,
    from a Windows file, goes too), and nothing else ends a line. `str.splitlines`
    would also split at \r, \v, \f, \x1c-\x1e, \x85, U+2028 and U+2029, and lines of
    parallel text (or of stdin and the translations printed for them) would no longer
    match up."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def text_line_of(path, byte_offset):
    """The 1-based line number of a byte offset in a file."""
    with open(path, "rb") as f:
        return f.read(byte_offset).count(b"\n") + 1


def read_tsv(path, source_column=1, target_column=0):
    """`(source, target)` pairs from the columns of a tab-separated file.

    The default columns fit the manythings.org / Tatoeba files (`English<TAB>Spanish
    <TAB>attribution`), where Spanish (column 1) is usually the source.

    Args:
        path: the TSV file (UTF-8, no header).
        source_column: 0-based column of the source text.
        target_column: 0-based column of the target text.
    """
    if source_column == target_column:
        raise ValueError(f"Source and target are both column {source_column}.")
    needed = max(source_column, target_column) + 1
    pairs = []
    for number, line in enumerate(_read_lines(path), start=1):
        columns = line.split("\t")
        if len(columns) < needed:
            raise ValueError(
                f"{path}, line {number}: {len(columns)} tab-separated column(s), but column "
                f"{needed - 1} is needed (columns count from 0; choose them with "
                "--source-column and --target-column)."
            )
        pairs.append((columns[source_column], columns[target_column]))
    return pairs


def read_parallel(source_path, target_path):
    """`(source, target)` pairs from two files whose line N translate each other."""
    sources, targets = _read_lines(source_path), _read_lines(target_path)
    if len(sources) != len(targets):
        raise ValueError(
            f"{source_path} has {len(sources)} lines but {target_path} has {len(targets)}: "
            "line-aligned files must have the same number of lines."
        )
    return list(zip(sources, targets))
