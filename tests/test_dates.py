"""The `dates` task: surface forms, round trips through an independent parser, splits.

The parser here shares nothing with the generator: it normalizes with regexes and reads
dates with `datetime.strptime`, so a wrong table in `keras_s2s.tasks.dates` shows up.
"""

import ast
import datetime
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from keras_s2s.tasks import dates as dates_module
from keras_s2s.tasks.dates import FAMILIES, DateTask

# === An independent parser ===

# Tried in order; the two-digit-year forms first (`%Y` needs exactly four digits, `%y` two).
# Slash and dash numeric dates are month first; day-first dates only with dots.
STRPTIME_FORMATS = (
    "%m/%d/%y", "%m/%d/%Y", "%m-%d-%Y",
    "%d.%m.%y", "%d.%m.%Y",
    "%Y-%m-%d", "%Y/%m/%d",
    "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y",
    "%d-%b-%Y", "%d-%b-%y",
)
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def normalize(source):
    """Lower case, one space between words, no spaces around numeric separators."""
    text = source.lower()
    text = re.sub(r"(?<=\d)\s*([./-])\s*(?=\d)", r"\1", text)
    text = re.sub(r",(?=\S)", ", ", text)
    return " ".join(text.split())


def expected_suffix(n):
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def parse(source):
    """`(date, weekday_word_or_None)` read back from a source, or `(None, None)`."""
    text = normalize(source).replace(",", " ")
    text = re.sub(r"(?<=[a-z])\.", " ", text)  # Nov. Mon.
    tokens = text.split()
    weekday = None
    if tokens and len(tokens[0]) >= 3 and any(w.startswith(tokens[0]) for w in WEEKDAY_NAMES):
        weekday = tokens.pop(0)
    words = []
    for token in tokens:
        if token in ("the", "of"):
            continue
        match = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)", token)
        if match:
            assert match.group(2) == expected_suffix(int(match.group(1))), source
            token = match.group(1)
        words.append("sep" if token == "sept" else token)
    cleaned = " ".join(words)
    for fmt in STRPTIME_FORMATS:
        try:
            return datetime.datetime.strptime(cleaned, fmt).date(), weekday
        except ValueError:
            continue
    return None, weekday


# What each family must look like after `normalize` (any case).
FAMILY_SHAPES = {
    "us_slash": r"\d{1,2}/\d{1,2}/\d{4}",
    "us_slash_yy": r"\d{1,2}/\d{1,2}/\d{2}",
    "us_dash": r"\d{1,2}-\d{1,2}-\d{4}",
    "dot": r"\d{1,2}\.\d{1,2}\.\d{4}",
    "dot_yy": r"\d{1,2}\.\d{1,2}\.\d{2}",
    "iso": r"\d{4}-\d{2}-\d{2}",
    "iso_slash": r"\d{4}/\d{1,2}/\d{1,2}",
    "month_day_year": r"[a-z]{3,9}\.? \d{1,2}(st|nd|rd|th)?,? \d{4}",
    "weekday_month_day_year": r"[a-z]{3,9}\.?,? [a-z]{3,9}\.? \d{1,2}(st|nd|rd|th)?,? \d{4}",
    "day_month_year": r"\d{1,2}(st|nd|rd|th)? [a-z]{3,9}\.? \d{4}",
    "weekday_day_month_year": r"[a-z]{3,9}\.?,? \d{1,2}(st|nd|rd|th)? [a-z]{3,9}\.? \d{4}",
    "day_of_month_year": r"([a-z]{3,9}\.?, )?(the )?\d{1,2}(st|nd|rd|th) of [a-z]{3,9}\.?,? \d{4}",
    "rfc2822": r"[a-z]{3}, \d{1,2} [a-z]{3} \d{4}",
    "day_mon_dash": r"\d{1,2}-[a-z]{3}-\d{4}",
}
WEEKDAY_FAMILIES = ("weekday_month_day_year", "weekday_day_month_year", "rfc2822")
TWO_DIGIT_YEAR = re.compile(r"\d{1,2}[/.]\d{1,2}[/.](\d{2})")


@pytest.fixture(scope="module")
def samples():
    """3000 `(source, date, family)` triples over the default years 1900-2099."""
    task, rng = DateTask(), random.Random("test-dates")
    out = []
    for _ in range(3000):
        date = task.sample_date(rng)
        source, family = task.render_with_family(date, rng)
        out.append((source, date, family))
    return out


# === Surface forms ===


def test_every_family_appears_and_round_trips(samples):
    counts = Counter(family for _, _, family in samples)
    assert set(counts) == set(FAMILIES) == set(FAMILY_SHAPES)
    assert min(counts.values()) >= 20, counts
    for source, date, family in samples:
        assert isinstance(source, str) and source == source.strip() and "\t" not in source
        assert re.fullmatch(FAMILY_SHAPES[family], normalize(source)), (family, source)
        parsed, weekday = parse(source)
        assert parsed == date, (source, date)
        if family in WEEKDAY_FAMILIES:
            assert weekday is not None, source
        if weekday is not None:
            assert WEEKDAY_NAMES[date.weekday()].startswith(weekday), (source, date)


def test_named_forms_vary(samples):
    lowered = [normalize(source) for source, _, _ in samples]
    for pattern in (r"\bsept\b", r"\bsep\b", r"\bnov\.", r"\bnovember\b", r"\bthe ", r" of ",
                    r"\b1st\b", r"\b2nd\b", r"\b3rd\b", r"\b11th\b", r"\b0\d\b"):
        assert any(re.search(pattern, s) for s in lowered), pattern
    weekdays = {parse(source)[1] for source, _, _ in samples} - {None}
    assert {"monday", "mon"} <= weekdays
    # Weekday forms with and without commas, month-day forms with and without commas.
    assert any(re.match(r"[a-z]+, [a-z]", s) for s in lowered)
    assert any(re.match(r"[a-z]+ [a-z]+\.? \d", s) for s in lowered)


def test_ordinals_are_correct():
    task, rng = DateTask(), random.Random(0)
    expected = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th",
                21: "21st", 22: "22nd", 23: "23rd", 24: "24th", 30: "30th", 31: "31st"}
    for day, word in expected.items():
        source, _ = task.render_with_family(datetime.date(2026, 1, day), rng, "day_of_month_year")
        assert re.search(rf"(?<!\d){word}\b", source.lower()), (day, source)


def test_weekdays_are_true_weekdays():
    task, rng = DateTask(), random.Random(1)
    # 2026-11-23 is a Monday; 2000-02-29 a Tuesday; 1900-01-01 a Monday.
    for date, name in ((datetime.date(2026, 11, 23), "mon"), (datetime.date(2000, 2, 29), "tue"),
                       (datetime.date(1900, 1, 1), "mon")):
        for _ in range(20):
            source, _ = task.render_with_family(date, rng, "rfc2822")
            assert source.lower().startswith(name + ","), source


def test_two_digit_years_follow_the_posix_pivot(samples):
    short = 0
    for source, date, family in samples:
        match = TWO_DIGIT_YEAR.fullmatch(normalize(source))
        if match:
            short += 1
            assert datetime.datetime.strptime(match.group(1), "%y").year == date.year, source
        elif family in ("us_slash_yy", "dot_yy"):
            pytest.fail(f"{family} without a two-digit year: {source!r}")
    assert short >= 100
    # Years the pivot cannot reach are never written with two digits.
    for low, high in ((1900, 1968), (2069, 2099)):
        task, rng = DateTask(low, high), random.Random(low)
        for _ in range(500):
            source, family = task.render_with_family(task.sample_date(rng), rng)
            assert not TWO_DIGIT_YEAR.fullmatch(normalize(source)), source
            assert family not in ("us_slash_yy", "dot_yy")
    with pytest.raises(ValueError, match="two-digit year"):
        DateTask().render_with_family(datetime.date(1950, 6, 1), random.Random(0), "us_slash_yy")


def test_slash_dates_are_month_first(samples):
    day_over_12 = 0
    for source, date, _ in samples:
        text = normalize(source)
        if "/" not in text or re.match(r"\d{4}/", text):
            continue
        fmt = "%m/%d/%y" if TWO_DIGIT_YEAR.fullmatch(text) else "%m/%d/%Y"
        assert datetime.datetime.strptime(text, fmt).date() == date, source
        day_over_12 += date.day > 12
    assert day_over_12 >= 50


def test_letter_case_and_spacing_vary(samples):
    worded = [source for source, _, _ in samples if re.search(r"[a-zA-Z]{3}", source)]
    lower = sum(s == s.lower() for s in worded)
    upper = sum(s == s.upper() for s in worded)
    assert lower >= 0.08 * len(worded) and upper >= 0.05 * len(worded), (lower, upper)
    mixed = [s for s in worded if s not in (s.lower(), s.upper())]
    assert len(mixed) >= 0.4 * len(worded)
    assert any("  " in s for s, _, _ in samples)  # irregular spacing
    assert any(re.search(r"\d [/.-] ?\d", s) for s, _, _ in samples)


def test_render_is_deterministic_for_a_seeded_rng():
    task, date = DateTask(), datetime.date(2026, 11, 23)
    first = [task.render(date, random.Random(7)) for _ in range(3)]
    assert len(set(first)) == 1
    assert [task.render(date, random.Random(s)) for s in range(30)] != first * 10
    with pytest.raises(ValueError, match="Unknown date family"):
        task.render_with_family(date, random.Random(0), "roman")


# === Splits ===


def test_splits_are_deterministic_and_held_out():
    task = DateTask(1990, 1995)
    first = task.splits(2000, 150, 250, seed=3)
    assert first == task.splits(2000, 150, 250, seed=3)
    other = task.splits(2000, 150, 250, seed=4)
    assert all(a != b for a, b in zip(first, other))  # train, dev and test all differ
    train, dev, test = first
    assert (len(train), len(dev), len(test)) == (2000, 150, 250)
    heldout = [source for source, _ in dev + test]
    assert len(set(heldout)) == len(heldout)
    assert not {source for source, _ in train} & set(heldout)
    for source, target in train + dev + test:
        assert isinstance(source, str) and isinstance(target, str)
        date = datetime.date.fromisoformat(target)
        assert date.isoformat() == target and 1990 <= date.year <= 1995
        assert parse(source)[0] == date, source


def test_dates_cover_the_year_range_uniformly():
    train, _, _ = DateTask().splits(3000, 0, 0, seed=0)
    years = [int(target[:4]) for _, target in train]
    assert min(years) <= 1903 and max(years) >= 2096
    first_century = sum(year < 2000 for year in years) / len(years)
    assert 0.45 < first_century < 0.55
    months = Counter(int(target[5:7]) for _, target in train)
    assert len(months) == 12 and min(months.values()) > 180


def test_impossible_or_bad_requests_are_refused():
    with pytest.raises(ValueError, match="hold out"):
        DateTask(2000, 2000).splits(10, 500_000, 500_000)
    with pytest.raises(ValueError, match="non-negative"):
        DateTask().splits(-1, 10, 10)
    for low, high in ((0, 2000), (2000, 1999), (1900, 10_000)):
        with pytest.raises(ValueError, match="min_year <= max_year"):
            DateTask(low, high)
    with pytest.raises(ValueError, match="integer year"):
        DateTask("1900", 2000)


def test_small_ranges_and_extreme_years_work():
    # One year, many held-out sources: the same string is drawn again and again.
    train, dev, test = DateTask(2000, 2000).splits(1500, 1000, 1000, seed=1)
    assert {target[:4] for _, target in train + dev + test} == {"2000"}
    heldout = [source for source, _ in dev + test]
    assert len(set(heldout)) == len(heldout) == 2000
    assert not {source for source, _ in train} & set(heldout)
    for low, high in ((1, 1), (9999, 9999)):
        train, _, _ = DateTask(low, high).splits(50, 5, 5)
        for source, target in train:
            assert target[:4] == f"{low:04d}" and parse(source)[0].isoformat() == target


def test_config_round_trip():
    task = DateTask(min_year=1950, max_year=2050)
    config = task.get_config()
    assert config == {"name": "dates", "min_year": 1950, "max_year": 2050}
    assert json.loads(json.dumps(config)) == config
    rebuilt = DateTask(**{k: v for k, v in config.items() if k != "name"})
    assert rebuilt.get_config() == config and rebuilt.name == "dates"
    assert rebuilt.splits(50, 10, 10, seed=2) == task.splits(50, 10, 10, seed=2)


def test_module_uses_only_the_standard_library():
    tree = ast.parse(Path(dates_module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported and imported <= set(sys.stdlib_module_names), imported
