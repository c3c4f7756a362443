"""Dates as people and software write them in English, to ISO 8601: generated in code.

Pure Python standard library (no numpy, no TensorFlow), so it imports on a device.
"""

import datetime
import random
import re

# The format families `DateTask.render_with_family` chooses from, with examples for
# Monday 23 November 2026. Case (natural, lower, UPPER, Title, rarely mIxEd) and, rarely,
# irregular spacing are applied on top of every family.
FAMILIES = (
    "us_slash",  # 11/23/2026, 1/5/2026, 01/05/2026 (month first)
    "us_slash_yy",  # 11/23/26 (month first, two-digit year)
    "us_dash",  # 11-23-2026, 01-05-2026 (month first)
    "dot",  # 23.11.2026, 5.1.2026 (day first)
    "dot_yy",  # 23.11.26 (day first, two-digit year)
    "iso",  # 2026-11-23
    "iso_slash",  # 2026/11/23
    "month_day_year",  # November 23, 2026 / Nov 23 2026 / Nov. 23rd, 2026 / Sept 5 2026
    "weekday_month_day_year",  # Monday, November 23, 2026 / Mon Nov 23 2026
    "day_month_year",  # 23 November 2026 / 23rd Nov 2026
    "weekday_day_month_year",  # Monday 23 November 2026 / Mon 23 Nov 2026
    "day_of_month_year",  # 23rd of November 2026 / the 23rd of November, 2026
    "rfc2822",  # Mon, 23 Nov 2026 (RFC 2822 / 5322 date, without the time)
    "day_mon_dash",  # 23-Nov-2026 / 23-NOV-26
)
# Day-first numeric forms, as the UK, Ireland, Australia, New Zealand, India and South
# Africa write them (with `day_first=True` only; see `DateTask` for the ambiguity policy).
DAY_FIRST_FAMILIES = (
    "uk_slash",  # 23/11/2026, 5/1/2026, 05/01/2026
    "uk_slash_yy",  # 23/11/26
    "uk_dash",  # 23-11-2026, 05-01-2026
)
MONTH_FIRST_FAMILIES = ("us_slash", "us_slash_yy", "us_dash")
# The tag that tells a `day_first` model the text writes numeric dates day first; it
# starts the source (`tag_day_first`, `keras-s2s translate --day-first`).
DAY_FIRST_TAG = "[dmy] "
# How often a source gets the tag: an ambiguous day-first date always, an unambiguous
# one (day > 12) now and then, a month-first numeric date never, every other family
# rarely, so that the tag changes nothing but the reading of ambiguous numeric dates.
_TAG_PROBABILITY_UNAMBIGUOUS = 0.3
_TAG_PROBABILITY_OTHER = 0.05

# Families that write the year with two digits; they follow POSIX strptime `%y`
# (69-99 -> 19xx, 00-68 -> 20xx), so they are only used for years it can reach.
TWO_DIGIT_YEAR_FAMILIES = ("us_slash_yy", "dot_yy", "uk_slash_yy")
TWO_DIGIT_YEAR_RANGE = (1969, 2068)

# How often each family is chosen (renormalized over the families a date allows).
_FAMILY_WEIGHTS = {
    "us_slash": 12,
    "us_slash_yy": 6,
    "us_dash": 4,
    "dot": 6,
    "dot_yy": 3,
    "iso": 8,
    "iso_slash": 3,
    "month_day_year": 14,
    "weekday_month_day_year": 8,
    "day_month_year": 10,
    "weekday_day_month_year": 6,
    "day_of_month_year": 7,
    "rfc2822": 5,
    "day_mon_dash": 4,
    "uk_slash": 12,
    "uk_slash_yy": 5,
    "uk_dash": 4,
}

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Less common but real weekday abbreviations, used now and then instead of the 3-letter one.
_LONGER_WEEKDAY_ABBREVIATIONS = {"Tuesday": "Tues", "Thursday": "Thurs"}

# Letter-case styles and their weights; "natural" is the form as written above.
_CASES = (("natural", 56), ("lower", 20), ("upper", 14), ("title", 5), ("mixed", 5))
# Probability that a source gets irregular spacing.
_IRREGULAR_SPACE_PROBABILITY = 0.05

# At most this many held-out sources per day of the year range: beyond that the held-out
# sets would be mostly case and spacing variants of the same dates.
MAX_HELDOUT_PER_DAY = 50


def ordinal(day):
    """`1` -> `"1st"`, `2` -> `"2nd"`, `11` -> `"11th"`, `23` -> `"23rd"`."""
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def _weighted(rng, options):
    """One value from `((value, weight), ...)`."""
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights)[0]


class DateTask:
    """Map an English date, written in one of many common ways, to ISO 8601 `YYYY-MM-DD`.

    Sources are strings such as `11/23/26`, `23.11.2026`, `Nov. 23rd, 2026`,
    `MONDAY, NOVEMBER 23, 2026`, `the 23rd of November, 2026` or `Mon, 23 Nov 2026`
    (see `FAMILIES`); the target is always `date.isoformat()`. A classic attention task:
    the model must find the day, month and year wherever the format puts them.

    Conventions that make every source unambiguous:
    - a dotted date `23.11.2026` is day first; a year-first date (`2026-11-23`,
      `2026/11/23`) is year, month, day;
    - a slash or dash date `a/b/yyyy` (or `a-b-yyyy`, or a two-digit year) is month first
      (US) unless `a` is more than 12, when it can only be day first (`20/11/1950`). With
      `day_first=True` (the default), the task also writes day-first slash and dash dates
      (`DAY_FIRST_FAMILIES`); one whose day and month could be swapped (`5/11/2026`, both
      fields 12 or less) is written with `DAY_FIRST_TAG` in front (`[dmy] 5/11/2026` ->
      `2026-11-05`), which tells the model that the text writes day first. Without the
      tag such a date reads month first. So: day first where it cannot be otherwise,
      or where the user says so (`keras-s2s translate --day-first`, `tag_day_first()`);
    - a two-digit year follows POSIX `%y` (69-99 -> 19xx, 00-68 -> 20xx) and is only
      written for years 1969-2068;
    - a weekday, when written, is the true weekday of the date.

    Args:
        min_year: first year of the dates (at least 1).
        max_year: last year of the dates (at most 9999).
        day_first: also write day-first slash and dash dates, and the tag (see above).
            `False` gives the task as it was before day-first dates existed (models
            recorded then regenerate their data with it).

    Example:
    >>> task = DateTask(min_year=1990, max_year=2030)
    >>> train, dev, test = task.splits(1000, 100, 100, seed=0)
    >>> train[0]
    ('[dmy] 11-10-2001', '2001-10-11')
    >>> import datetime, random
    >>> [task.render(datetime.date(2026, 11, 23), random.Random(s)) for s in (1, 2, 3)]
    ['11/23/26', '23/11/26', '23.11.2026']
    """

    name = "dates"
    level = "char"  # the tokenizer level the task is meant for

    def __init__(self, min_year=1900, max_year=2099, day_first=True):
        for arg, value in (("min_year", min_year), ("max_year", max_year)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{arg} must be an integer year, got {value!r}.")
        if not isinstance(day_first, bool):
            raise ValueError(f"day_first must be True or False, got {day_first!r}.")
        self.day_first = day_first
        if not 1 <= min_year <= max_year <= 9999:
            raise ValueError(
                f"Need 1 <= min_year <= max_year <= 9999, got {min_year} and {max_year}."
            )
        self.min_year = min_year
        self.max_year = max_year
        self._first_day = datetime.date(min_year, 1, 1).toordinal()
        self._last_day = datetime.date(max_year, 12, 31).toordinal()

    @property
    def num_days(self):
        """Number of distinct dates in the year range."""
        return self._last_day - self._first_day + 1

    def sample_date(self, rng):
        """A date drawn uniformly over the year range."""
        return datetime.date.fromordinal(rng.randint(self._first_day, self._last_day))

    def render(self, date, rng):
        """One random surface form of `date` (a `datetime.date`), drawn with `rng`."""
        return self.render_with_family(date, rng)[0]

    def render_with_family(self, date, rng, family=None):
        """`(source_text, family)`: a random surface form of `date` and its family name.

        Args:
            date: a `datetime.date`.
            rng: a `random.Random`.
            family: one of `FAMILIES` to force it; by default a random family allowed for
                the date (two-digit years only for 1969-2068).
        """
        if not isinstance(date, datetime.date) or isinstance(date, datetime.datetime):
            raise ValueError(f"Expected a datetime.date, got {date!r}.")
        allowed = self.families_for(date)
        if family is None:
            family = rng.choices(allowed, weights=[_FAMILY_WEIGHTS[f] for f in allowed])[0]
        elif family not in self.families:
            raise ValueError(f"Unknown date family {family!r}: choose one of {', '.join(self.families)}.")
        elif family not in allowed:
            low, high = TWO_DIGIT_YEAR_RANGE
            raise ValueError(
                f"Family {family!r} writes a two-digit year, which only reaches years "
                f"{low}-{high} (POSIX %y); {date.isoformat()} is outside."
            )
        text = getattr(self, f"_render_{family}")(date, rng)
        if rng.random() < _IRREGULAR_SPACE_PROBABILITY:
            text = _irregular_spacing(text, rng)
        text = _apply_case(text, _weighted(rng, _CASES), rng)
        if self.day_first and self._tagged(family, date, rng):
            text = DAY_FIRST_TAG + text
        return text, family

    @staticmethod
    def _tagged(family, date, rng):
        if family in DAY_FIRST_FAMILIES:
            if is_ambiguous(date):
                return True
            return rng.random() < _TAG_PROBABILITY_UNAMBIGUOUS
        if family in MONTH_FIRST_FAMILIES:  # the tag would contradict them
            return False
        return rng.random() < _TAG_PROBABILITY_OTHER

    @property
    def families(self):
        """The families this task writes."""
        return FAMILIES + DAY_FIRST_FAMILIES if self.day_first else FAMILIES

    def families_for(self, date):
        """The families that can write `date` (all but the two-digit-year ones outside 1969-2068)."""
        low, high = TWO_DIGIT_YEAR_RANGE
        if low <= date.year <= high:
            return self.families
        return tuple(f for f in self.families if f not in TWO_DIGIT_YEAR_FAMILIES)

    def sample(self, rng):
        """One `(source_text, target_text)` pair."""
        return self.sample_with_family(rng)[:2]

    def sample_with_family(self, rng):
        """One `(source_text, target_text, family)`."""
        date = self.sample_date(rng)
        text, family = self.render_with_family(date, rng)
        return text, date.isoformat(), family

    def splits(self, train_size, dev_size, test_size, seed=0):
        """Train, dev and test lists of `(source_text, target_text)` string pairs.

        Dates are drawn uniformly over the year range. Dev and test sources are distinct
        and never occur as a train source, so evaluation is on unseen strings (the same
        date may still appear in train written another way). The same arguments give the
        same splits on any machine.
        """
        train, dev, test = self.splits_with_families(train_size, dev_size, test_size, seed)
        return ([pair[:2] for pair in train], [pair[:2] for pair in dev],
                [pair[:2] for pair in test])

    def splits_with_families(self, train_size, dev_size, test_size, seed=0):
        """`splits()` with the family of each source: `(source, target, family)` triples."""
        for arg, value in (("train_size", train_size), ("dev_size", dev_size), ("test_size", test_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{arg} must be a non-negative integer, got {value!r}.")
        heldout_size = dev_size + test_size
        if heldout_size > MAX_HELDOUT_PER_DAY * self.num_days:
            raise ValueError(
                f"Cannot hold out {heldout_size} dates: years {self.min_year}-{self.max_year} "
                f"have only {self.num_days} days and at most {MAX_HELDOUT_PER_DAY} held-out "
                "sources per day are allowed (more would be case and spacing variants of the "
                "same dates). Widen the year range or ask for a smaller dev and test."
            )
        heldout_rng = random.Random(f"dates-{seed}-heldout")
        heldout, seen = [], set()
        attempts = 0
        while len(heldout) < heldout_size:
            attempts += 1
            if attempts > 100 * heldout_size + 1000:
                raise ValueError(
                    f"Cannot draw {heldout_size} distinct held-out dates from years "
                    f"{self.min_year}-{self.max_year}: widen the year range or ask for fewer."
                )
            source, target, family = self.sample_with_family(heldout_rng)
            if source not in seen:
                seen.add(source)
                heldout.append((source, target, family))
        train_rng = random.Random(f"dates-{seed}-train")
        train = []
        while len(train) < train_size:
            attempts += 1
            if attempts > 100 * (train_size + heldout_size) + 1000:
                raise ValueError(
                    "Almost every date drawn for training is held out: widen the year range "
                    "or hold out fewer."
                )
            source, target, family = self.sample_with_family(train_rng)
            if source not in seen:
                train.append((source, target, family))
        return train, heldout[:dev_size], heldout[dev_size:]

    def get_config(self):
        return {"name": self.name, "min_year": self.min_year, "max_year": self.max_year,
                "day_first": self.day_first}

    # === Families ===

    def _render_us_slash(self, date, rng):
        return _numeric(rng, date.month, date.day, _year4(date), "/")

    def _render_us_slash_yy(self, date, rng):
        return _numeric(rng, date.month, date.day, _year2(date), "/")

    def _render_us_dash(self, date, rng):
        return _numeric(rng, date.month, date.day, _year4(date), "-", pad_probability=0.7)

    def _render_dot(self, date, rng):
        return _numeric(rng, date.day, date.month, _year4(date), ".", pad_probability=0.6)

    def _render_dot_yy(self, date, rng):
        return _numeric(rng, date.day, date.month, _year2(date), ".", pad_probability=0.6)

    def _render_uk_slash(self, date, rng):
        return _numeric(rng, date.day, date.month, _year4(date), "/")

    def _render_uk_slash_yy(self, date, rng):
        return _numeric(rng, date.day, date.month, _year2(date), "/")

    def _render_uk_dash(self, date, rng):
        return _numeric(rng, date.day, date.month, _year4(date), "-", pad_probability=0.7)

    def _render_iso(self, date, rng):
        return f"{_year4(date)}-{date.month:02d}-{date.day:02d}"

    def _render_iso_slash(self, date, rng):
        if rng.random() < 0.15:  # 2026/1/5, common in East Asian software
            return f"{_year4(date)}/{date.month}/{date.day}"
        return f"{_year4(date)}/{date.month:02d}/{date.day:02d}"

    def _render_month_day_year(self, date, rng):
        comma = rng.random() < 0.6
        return f"{_month(date, rng)} {_day(date, rng)}{',' if comma else ''} {_year4(date)}"

    def _render_weekday_month_day_year(self, date, rng):
        comma = rng.random() < 0.6
        body = f"{_month(date, rng)} {_day(date, rng)}{',' if comma else ''} {_year4(date)}"
        return f"{_weekday(date, rng)}{',' if comma else ''} {body}"

    def _render_day_month_year(self, date, rng):
        return f"{_day(date, rng)} {_month(date, rng)} {_year4(date)}"

    def _render_weekday_day_month_year(self, date, rng):
        comma = rng.random() < 0.4
        body = f"{_day(date, rng)} {_month(date, rng)} {_year4(date)}"
        return f"{_weekday(date, rng)}{',' if comma else ''} {body}"

    def _render_day_of_month_year(self, date, rng):
        the = "the " if rng.random() < 0.4 else ""
        comma = rng.random() < 0.5
        text = f"{the}{ordinal(date.day)} of {_month(date, rng)}{',' if comma else ''} {_year4(date)}"
        if rng.random() < 0.2:
            text = f"{_weekday(date, rng)}, {text}"
        return text

    def _render_rfc2822(self, date, rng):
        day = f"{date.day:02d}" if rng.random() < 0.3 else str(date.day)
        return f"{_WEEKDAYS[date.weekday()][:3]}, {day} {_MONTHS[date.month - 1][:3]} {_year4(date)}"

    def _render_day_mon_dash(self, date, rng):
        day = f"{date.day:02d}" if rng.random() < 0.6 else str(date.day)
        return f"{day}-{_MONTHS[date.month - 1][:3]}-{_year4(date)}"


# === The day-first policy ===


def is_ambiguous(date):
    """Whether `date`'s day and month could be swapped in a numeric date (both 12 or
    less, and different): `5/11/2026` is 5 November or May 11."""
    return date.day <= 12 and date.day != date.month


def tag_day_first(text):
    """`text` with `DAY_FIRST_TAG` in front (once): tells a `day_first` dates model that
    numeric dates in it are written day first."""
    return text if text.startswith(DAY_FIRST_TAG) else DAY_FIRST_TAG + text


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_valid_date(text):
    """Whether `text` is a real calendar date written `YYYY-MM-DD` (`2026-02-29` is not)."""
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def report(outputs, references, families=None):
    """What matters for dates beyond exact match: the share of outputs that are valid
    calendar dates (`valid_dates`), and, given each source's family, exact match and
    valid share per family (`by_family`)."""
    def scores(members):
        return {"n": len(members),
                "exact_match": round(sum(outputs[i] == references[i] for i in members)
                                     / len(members), 4),
                "valid_dates": round(sum(is_valid_date(outputs[i]) for i in members)
                                     / len(members), 4)}

    result = {"valid_dates": scores(range(len(outputs)))["valid_dates"]}
    if families is not None:
        result["by_family"] = {
            family: scores([i for i, f in enumerate(families) if f == family])
            for family in sorted(set(families))}
    return result


# === Pieces ===


def _year4(date):
    return f"{date.year:04d}"


def _year2(date):
    low, high = TWO_DIGIT_YEAR_RANGE
    if not low <= date.year <= high:  # families_for() keeps this from happening
        raise ValueError(f"Year {date.year} has no POSIX two-digit form.")
    return f"{date.year % 100:02d}"


def _numeric(rng, first, second, year, separator, pad_probability=0.45):
    """`first<sep>second<sep>year`, both zero-padded, neither, or (rarely) just one."""
    roll = rng.random()
    if roll < pad_probability:
        a, b = f"{first:02d}", f"{second:02d}"
    elif roll < 0.95:
        a, b = str(first), str(second)
    else:
        a, b = (f"{first:02d}", str(second)) if rng.random() < 0.5 else (str(first), f"{second:02d}")
    return f"{a}{separator}{b}{separator}{year}"


def _month(date, rng):
    """`November`, `Nov` or `Nov.`; September also as `Sept` / `Sept.`."""
    name = _MONTHS[date.month - 1]
    style = _weighted(rng, (("long", 50), ("short", 35), ("short.", 15)))
    if style == "long" or name == "May":
        return name
    short = "Sept" if name == "September" and rng.random() < 0.5 else name[:3]
    return short + ("." if style == "short." else "")


def _day(date, rng):
    """`23`, `23rd`, or (rarely) zero-padded `05`."""
    style = _weighted(rng, (("plain", 55), ("ordinal", 35), ("padded", 10)))
    if style == "ordinal":
        return ordinal(date.day)
    if style == "padded":
        return f"{date.day:02d}"
    return str(date.day)


def _weekday(date, rng):
    """`Monday`, `Mon` or `Mon.` (and now and then `Tues` / `Thurs`)."""
    name = _WEEKDAYS[date.weekday()]
    style = _weighted(rng, (("long", 55), ("short", 40), ("short.", 5)))
    if style == "long":
        return name
    short = name[:3]
    if name in _LONGER_WEEKDAY_ABBREVIATIONS and rng.random() < 0.2:
        short = _LONGER_WEEKDAY_ABBREVIATIONS[name]
    return short + ("." if style == "short." else "")


def _irregular_spacing(text, rng):
    """Sloppy spacing: doubled spaces, a missing space after a comma, or spaced separators."""
    if " " not in text:  # numeric: 11 / 23 / 2026, 23. 11. 2026
        if any(c.isalpha() for c in text):  # 23-Nov-2026 is written tight
            return text
        separator = next(c for c in text if c in "/.-")
        if separator == ".":
            return text.replace(".", ". ")
        return text.replace(separator, f" {separator} ")
    if "," in text and rng.random() < 0.3:
        return text.replace(", ", ",", 1)
    parts = text.split(" ")
    widths = [rng.choice((1, 1, 2, 3)) for _ in parts[1:]]
    widths[rng.randrange(len(widths))] = rng.choice((2, 3))  # at least one gap is wider
    return parts[0] + "".join(" " * width + part for width, part in zip(widths, parts[1:]))


_WORD_START = re.compile(r"\b([a-z])")


def _apply_case(text, case, rng):
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    if case == "title":  # The 23rd Of November (not 23Rd: a digit-letter is no word start)
        return _WORD_START.sub(lambda m: m.group(1).upper(), text.lower())
    if case == "mixed":
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)
    return text
