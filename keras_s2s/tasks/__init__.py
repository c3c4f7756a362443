"""Built-in tasks generated in code: the default data, so everything runs offline."""

from keras_s2s.tasks.symbols import SymbolTask

TASKS = {"copy": SymbolTask, "reverse": SymbolTask}


def get_task(name, **options):
    """A task from its name and options (the dict `task.get_config()` returns)."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}: choose one of {', '.join(sorted(TASKS))}.")
    if TASKS[name] is SymbolTask:
        return SymbolTask(name, **options)
    return TASKS[name](**options)


__all__ = ["TASKS", "SymbolTask", "get_task"]
