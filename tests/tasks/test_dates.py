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
from keras_s2s.tasks.dates import DAY_FIRST_FAMILIES, FAMILIES, DateTask

# === An independent parser ===

# Tried in order; the two-digit-year forms first (`%Y` needs exactly four digits, `%y` two).
# Slash and dash numeric dates are month first (the day-first ones are picked out before:
# see `parse`); dotted ones day first.
STRPTIME_FORMATS = (
    "%m/%d/%y", "%m/%d/%Y", "%m-%d-%Y",
    "%d.%m.%y", "%d.%m.%Y",
    "%Y-%m-%d", "%Y/%m/%d",
    "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y",
    "%d-%b-%Y", "%d-%b-%y",
)
DAY_FIRST_FORMATS = ("%d/%m/%y", "%d/%m/%Y", "%d-%m-%Y")
TAG = "[dmy] "
NUMERIC_SLASH_OR_DASH = re.compile(r"(\d{1,2})[/-]\d{1,2}[/-]\d{2,4}")
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
    """`(date, weekday_word_or_None)` read back from a source, or `(None, None)`.

    The reading policy: a numeric slash or dash date is day first when the tag starts
    the source or its first field is more than 12, else month first."""
    tagged = source.startswith(TAG)
    if tagged:
        source = source[len(TAG):]
    text = normalize(source)
    numeric = NUMERIC_SLASH_OR_DASH.fullmatch(text)
    if numeric and (tagged or int(numeric.group(1)) > 12):
        for fmt in DAY_FIRST_FORMATS:
            try:
                return datetime.datetime.strptime(text, fmt).date(), None
            except ValueError:
                continue
        return None, None
    text = text.replace(",", " ")
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
    "uk_slash": r"\d{1,2}/\d{1,2}/\d{4}",
    "uk_slash_yy": r"\d{1,2}/\d{1,2}/\d{2}",
    "uk_dash": r"\d{1,2}-\d{1,2}-\d{4}",
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
    assert set(counts) == set(FAMILIES + DAY_FIRST_FAMILIES) == set(FAMILY_SHAPES)
    assert min(counts.values()) >= 20, counts
    for source, date, family in samples:
        assert isinstance(source, str) and source == source.strip() and "\t" not in source
        untagged = source[len(TAG):] if source.startswith(TAG) else source
        assert re.fullmatch(FAMILY_SHAPES[family], normalize(untagged)), (family, source)
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
            assert source.lower().removeprefix(TAG).startswith(name + ","), source


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


def test_slash_dates_are_month_first_unless_they_cannot_be_or_are_tagged(samples):
    day_over_12 = 0
    for source, date, _ in samples:
        if source.startswith(TAG):
            continue
        text = normalize(source)
        if "/" not in text or re.match(r"\d{4}/", text):
            continue
        two = TWO_DIGIT_YEAR.fullmatch(text)
        if int(text.split("/")[0]) > 12:  # can only be day first
            fmt = "%d/%m/%y" if two else "%d/%m/%Y"
        else:
            fmt = "%m/%d/%y" if two else "%m/%d/%Y"
        assert datetime.datetime.strptime(text, fmt).date() == date, source
        day_over_12 += date.day > 12
    assert day_over_12 >= 50


def test_day_first_dates_that_could_be_swapped_carry_the_tag(samples):
    seen = Counter()
    for source, date, family in samples:
        tagged = source.startswith(TAG)
        if family in DAY_FIRST_FAMILIES:
            ambiguous = date.day <= 12 and date.day != date.month
            assert tagged or not ambiguous, source
            seen["day_first_untagged" if not tagged else "day_first_tagged"] += 1
        elif family in ("us_slash", "us_slash_yy", "us_dash"):
            assert not tagged, source  # the tag would contradict a month-first date
        else:
            seen["other_tagged"] += tagged
    # Day-first dates come tagged and untagged; the tag shows up on other forms too, so
    # that it means nothing but the reading of numeric dates.
    assert seen["day_first_untagged"] >= 20 and seen["day_first_tagged"] >= 20, seen
    assert seen["other_tagged"] >= 20, seen


def test_the_locales_day_first_examples_read_as_they_are_meant():
    # The sources a user in the UK, India or Australia writes (issue 15).
    for source, iso in (("20/11/1950", "1950-11-20"), ("22/3/76", "1976-03-22"),
                        ("14/08/1905", "1905-08-14"), ("[dmy] 5/11/2026", "2026-11-05"),
                        ("5/11/2026", "2026-05-11"), ("20-11-1950", "1950-11-20")):
        assert parse(source)[0].isoformat() == iso, source
    assert dates_module.tag_day_first("5/11/2026") == "[dmy] 5/11/2026"
    assert dates_module.tag_day_first("[dmy] 5/11/2026") == "[dmy] 5/11/2026"


def test_the_task_before_day_first_dates_is_reproduced():
    # Models recorded before day_first existed regenerate their data: the old families
    # only, no tag, the same strings.
    from keras_s2s.tasks import task_splits

    # The zoo's dates models as first built: their test split started so.
    record = {"task": {"name": "dates", "min_year": 1900, "max_year": 2099},
              "train_size": 200, "dev_size": 500, "test_size": 2, "seed": 0}
    old = task_splits(record)
    assert old == DateTask(day_first=False).splits(200, 500, 2, seed=0)
    assert old[2] == [("06.02.1965", "1965-02-06"), ("Tuesday, 10 October 2023", "2023-10-10")]
    assert not any(source.startswith(TAG) for split in old for source, _ in split)
    assert task_splits({**record, "task": {**record["task"], "day_first": True}}) != old


def test_the_dates_report_counts_valid_dates_and_families():
    assert dates_module.is_valid_date("2024-02-29") and not dates_module.is_valid_date("2023-02-29")
    assert not dates_module.is_valid_date("1950-20-11") and not dates_module.is_valid_date("1950-1-2")
    found = dates_module.report(["1950-11-20", "1950-20-11", "2026-11-05"],
                                ["1950-11-20", "1950-11-20", "2026-05-11"],
                                ["uk_slash", "uk_slash", "us_slash"])
    assert found["valid_dates"] == pytest.approx(2 / 3, abs=1e-4)
    assert found["by_family"]["uk_slash"] == {"n": 2, "exact_match": 0.5, "valid_dates": 0.5}
    assert found["by_family"]["us_slash"] == {"n": 1, "exact_match": 0.0, "valid_dates": 1.0}


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
    assert config == {"name": "dates", "min_year": 1950, "max_year": 2050, "day_first": True}
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
