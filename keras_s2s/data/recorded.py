"""The data a model was trained with, found again from the record in its `s2s.json`."""

from keras_s2s.data.corpora import read_parallel, read_tsv


def file_split(description, split):
    """The pairs of one split (`train`, `dev` or `test`) of a file description, or `None`."""
    if description.get(split):
        pairs = read_tsv(description[split], description["source_column"],
                         description["target_column"])
        where = description[split]
    elif description.get(f"{split}_source") or description.get(f"{split}_target"):
        if not (description.get(f"{split}_source") and description.get(f"{split}_target")):
            raise ValueError(f"Give both --{split}-source and --{split}-target.")
        pairs = read_parallel(description[f"{split}_source"], description[f"{split}_target"])
        where = description[f"{split}_source"]
    else:
        return None
    if not pairs:
        raise ValueError(f"{where} holds no {split} pairs: the file is empty.")
    return pairs


def recorded_split(description, split):
    """The pairs of a split of a built-in task, a named corpus or files, as recorded;
    `None` if the record has no such split (a dev set held out of `--train` counts as
    none)."""
    if "corpus" in description:
        from keras_s2s.data.named import corpus_files

        return file_split(corpus_files(description["corpus"]), split)
    if "task" in description:
        from keras_s2s.tasks import task_splits

        return task_splits(description)[("train", "dev", "test").index(split)]
    return file_split(description, split)
