"""What a new user meets in the first hour with the `keras-s2s` command: how to call it,
one output line per input line, errors that say what is wrong, a terminal without
TensorFlow's log chatter, and the small things (--version, what export wrote, tables in
order, one way of printing a rate).

Most tests run the installed console script in a child process, as a user does, with
the environment a user has (no TF_CPP_MIN_LOG_LEVEL), on the committed zoo model.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from keras_s2s.cli import format_rate, main, split_lines

from conftest import REPO

SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-s2s")
ZOO = "dates_bahdanau"
# Every character `str.splitlines` takes for a line end, "\n" aside.
LINE_BREAKS_INSIDE = ["\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def user_env(**extra):
    """The environment of a user's shell: none of the test suite's logging settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_S2S_NATIVE_LOGS")}
    return {**env, **extra}


def keras_s2s(*args, stdin=None, env=None, cwd=REPO):
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, timeout=600,
                          env=env or user_env(), cwd=cwd)


# === 1. Reaching the installed command ===


def test_command_name_is_the_scripts_path_when_it_is_not_on_path(tmp_path):
    code = "from keras_s2s.cli import command_name; print(command_name())"
    bare = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=user_env(PATH="/usr/bin:/bin"), cwd=tmp_path, check=True)
    shown = bare.stdout.strip()
    assert shown != "keras-s2s" and shown.endswith("keras-s2s")
    # What it prints runs from a shell where the virtual environment is not active.
    version = subprocess.run([shown, "--version"], capture_output=True, text=True,
                             env=user_env(PATH="/usr/bin:/bin"), cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("keras-s2s ")
    activated = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env=user_env(PATH=os.path.dirname(SCRIPT) + os.pathsep + "/usr/bin:/bin"))
    assert activated.stdout.strip() == "keras-s2s"


def test_readme_says_how_to_call_the_installed_command():
    readme = (REPO / "README.md").read_text()
    assert "source .venv/bin/activate" in readme
    assert ".venv/bin/keras-s2s" in readme


def test_version(capsys):
    from keras_s2s import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"keras-s2s {__version__}\n"


# === 4. One output line per input line ===


@pytest.mark.parametrize("separator", LINE_BREAKS_INSIDE)
def test_split_lines_ends_lines_at_newline_only(separator):
    text = f"a{separator}b\nc\r\n\nd"
    assert split_lines(text) == [f"a{separator}b", "c", "", "d"]
    assert split_lines(text + "\n") == split_lines(text)
    assert split_lines("") == []


def test_translate_prints_one_line_per_stdin_line_whatever_the_line_holds():
    lines = [f"12/25/99{separator}x" for separator in LINE_BREAKS_INSIDE]
    lines += ["Nov. 23rd, 2026", "", "\r"]  # a CRLF line, an empty line, a lone \r
    data = ("\r\n".join(lines[:3]) + "\n" + "\n".join(lines[3:]) + "\n").encode()
    result = keras_s2s("translate", ZOO, "--backend", "tflite", stdin=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().count("\n") == len(lines)
    assert result.stdout.decode().split("\n")[len(lines) - 3] == "2026-11-23"


def test_random_bytes_in_18_lines_give_18_output_lines():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 4000).astype(np.uint8).tobytes().replace(b"\n", b"")
    data = b"\n".join(noise[i::18] for i in range(18)) + b"\n"
    result = keras_s2s("translate", ZOO, "--backend", "onnx", stdin=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b"\n") == 18


# === 5. Errors that say what is wrong ===


def test_a_path_that_does_not_exist_is_named_as_such(tmp_path):
    for backend in (["--backend", "onnx"], []):
        result = keras_s2s("translate", "runs/nope", *backend, "x")
        err = result.stderr.decode()
        assert result.returncode == 2
        assert "runs/nope does not exist" in err and "model directory, which" not in err


def test_a_file_or_directory_that_is_not_a_model_is_named_without_importing_tensorflow():
    code = ("import sys; from keras_s2s.cli import main; "
            "status = main(['translate', sys.argv[1], 'x']); "
            "print(status, 'tensorflow' in sys.modules)")
    for path, kind in (("README.md", "a file"), ("keras_s2s", "a directory")):
        result = subprocess.run([sys.executable, "-c", code, path], capture_output=True,
                                text=True, cwd=REPO, env=user_env(), timeout=120)
        assert result.stdout.split() == ["2", "False"], result.stderr
        assert f"{path} is {kind}, but not a model" in result.stderr
        assert "does not exist" not in result.stderr


# === 6. No noise ===


@pytest.mark.parametrize("backend", ["keras", "savedmodel", "tflite", "onnx"])
def test_translate_prints_the_translation_and_nothing_on_stderr(backend):
    result = keras_s2s("translate", ZOO, "--backend", backend, "Nov. 23rd, 2026")
    assert result.returncode == 0
    assert result.stdout == b"2026-11-23\n"
    assert result.stderr == b"", result.stderr.decode()[:2000]


def test_training_into_a_file_writes_a_line_per_epoch_and_no_progress_bars(tmp_path):
    result = keras_s2s("train", "--task", "reverse", "--out", str(tmp_path / "m"), "--units",
                       "8", "--embedding-dim", "8", "--epochs", "2", "--train-size", "200",
                       "--dev-size", "20", "--test-size", "20", "--no-tensorboard")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "\r" not in out and "\x1b" not in out  # no bars, no terminal control codes
    assert len(re.findall(r"^\d+/\d+ - .*loss", out, re.M)) == 2, out
    assert not [line for line in err.splitlines() if re.match(r"[IWE]\d{4} ", line)], err
    # The rate as every command prints it: thousands separated, no decimals.
    rate = re.search(r"([\d,.]+) target tokens/s", err).group(1)
    assert rate == format_rate(float(rate.replace(",", "")))


def test_format_rate():
    assert format_rate(18456.04) == "18,456"
    assert format_rate(999.6) == "1,000"
    assert format_rate(None) == "-"


# === 7. Small things ===


def test_export_lists_bundle_json_with_the_files_it_wrote(tmp_path):
    result = keras_s2s("export", ZOO, "--out", str(tmp_path / "b"), "--formats", "onnx",
                       "--check", "5")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    listed = re.findall(r"KiB  (\S+)$", result.stdout.decode(), re.M)
    assert sorted(listed) == sorted(os.listdir(tmp_path / "b"))
    assert "bundle.json" in listed and "model.keras" not in listed
    assert result.stderr == b"", result.stderr.decode()[:2000]


def test_int8_export_prints_no_converter_internals(tmp_path):
    result = keras_s2s("export", ZOO, "--out", str(tmp_path / "q"), "--formats", "tflite",
                       "--quantize", "int8", "--check", "5")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stderr == b"", result.stderr.decode()[:2000]  # no deprecation, no settings
    assert b"fully_quantize" not in result.stdout


def test_zoo_show_lists_length_ranges_shortest_first(capsys):
    assert main(["zoo", "show", "dates_dot"]) == 0
    ranges = re.findall(r"^\| (\d+)-(\d+) \|", capsys.readouterr().out, re.M)
    assert len(ranges) >= 3
    starts = [int(lo) for lo, _ in ranges]
    assert starts == sorted(starts)
    card = json.loads((REPO / "saved_models" / "dates_dot" / "card.json").read_text())
    assert len(ranges) == len(card["metrics"]["by_source_length"])


def test_the_supported_pythons_are_declared():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    assert "tensorflow" not in " ".join(project["dependencies"])  # the runtime stays light
