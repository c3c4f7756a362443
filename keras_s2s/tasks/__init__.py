"""Built-in tasks generated in code: the default data, so everything runs offline.

A task makes `(source_text, target_text)` pairs with `splits(train_size, dev_size,
test_size, seed)`, names the tokenizer `level` it is meant for, and round-trips through
`get_config()` / `get_task(**config)`.
"""

from keras_s2s.tasks.dates import DateTask
from keras_s2s.tasks.symbols import SymbolTask

TASKS = ("copy", "dates", "reverse")


def get_task(name, **options):
    """A task from its name and options (the dict `task.get_config()` returns)."""
    if name in ("copy", "reverse"):
        return SymbolTask(name, **options)
    if name == "dates":
        return DateTask(**options)
    raise ValueError(f"Unknown task {name!r}: choose one of {', '.join(TASKS)}.")


def task_description(task, train_size, dev_size, test_size, seed=0):
    """The plain-data record of a task's splits, as stored in a model directory."""
    return {"task": task.get_config(), "train_size": train_size, "dev_size": dev_size,
            "test_size": test_size, "seed": seed}


# Options a task record written before the option existed implies: such a record
# regenerates the data it was trained on.
_RECORDED_DEFAULTS = {"dates": {"day_first": False}}


def recorded_task(config):
    """The task a recorded `task.get_config()` describes (older records included)."""
    return get_task(**{**_RECORDED_DEFAULTS.get(config["name"], {}), **config})


def task_splits(description):
    """Regenerates `(train, dev, test)` from a `task_description()` record."""
    task = recorded_task(description["task"])
    return task.splits(description["train_size"], description["dev_size"],
                       description["test_size"], seed=description["seed"])


def test_families(description, pairs):
    """The family of each test pair of a dates task record (see `DateTask`), or `None`
    when `pairs` are not that record's test split (or the task has no families)."""
    task = recorded_task(description["task"])
    if not isinstance(task, DateTask):
        return None
    *_, test = task.splits_with_families(description["train_size"], description["dev_size"],
                                         description["test_size"], seed=description["seed"])
    if [(s, t) for s, t, _ in test] != [tuple(pair) for pair in pairs]:
        return None
    return [family for *_, family in test]


__all__ = ["TASKS", "DateTask", "SymbolTask", "get_task", "recorded_task", "task_description",
           "task_splits"]
