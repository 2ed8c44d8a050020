"""portal/localize.py: digits, numbers, percentages, Solar Hijri dates and times as a page's
language writes them, and its template library."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from hypothesis import given
from hypothesis import strategies as st

from portal import localize
from portal.text import normalize_digits


def render(source: str, language: str, **context) -> str:
    template = engines["django"].from_string("{% load i18n localize %}" + source)
    with translation.override(language):
        return template.render(context)


# --- digits and numbers -------------------------------------------------------------------------


def test_persian_pages_get_persian_digits_and_english_pages_latin_ones():
    assert localize.digits(1234567890, "fa") == "۱۲۳۴۵۶۷۸۹۰"
    assert localize.digits(1234567890, "en") == "1234567890"
    assert localize.digits("Question 3, 4.5", "fa") == "Question ۳, ۴.۵"  # only the digits
    with translation.override("fa"):
        assert localize.digits(42) == "۴۲"  # the active language by default
    with translation.override("en"):
        assert localize.digits(42) == "42"
    assert localize.uses_persian_digits("fa-ir") and not localize.uses_persian_digits("en-us")


def test_digits_of_html_leave_tags_and_character_references_alone():
    html = mark_safe('<span data-n="12">It&#x27;s 12 &amp; 3</span>')
    assert localize.digits(html, "fa") == '<span data-n="12">It&#x27;s ۱۲ &amp; ۳</span>'
    # Plain text is text: nothing in it is markup.
    assert localize.digits("a<3 &#12;", "fa") == "a<۳ &#۱۲;"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_persian_digits_read_back_as_the_same_number(value):
    assert int(normalize_digits(localize.digits(value, "fa"))) == value
    assert localize.digits_function("fa")(value) == localize.digits(value, "fa")
    assert localize.digits_function("en")(value) == str(value)


@pytest.mark.parametrize(
    ("value", "decimals", "en", "fa"),
    [
        (18.181818, 2, "18.18", "۱۸٫۱۸"),
        (Decimal("50.00"), 2, "50", "۵۰"),
        (Decimal("12.50"), 2, "12.5", "۱۲٫۵"),
        (2.675, 2, "2.68", "۲٫۶۸"),  # half up, on the decimal as written, not the float's binary
        (0.004, 2, "0", "۰"),
        (-0.004, 2, "0", "۰"),
        (-3.5, 1, "-3.5", "−۳٫۵"),
        (1234.5, 0, "1235", "۱۲۳۵"),
        (None, 2, "", ""),
    ],
)
def test_numbers_drop_trailing_zeros_and_use_the_languages_signs(value, decimals, en, fa):
    assert localize.number(value, decimals, "en") == en
    assert localize.number(value, decimals, "fa") == fa


def test_percentages_use_the_persian_percent_sign_in_persian():
    assert localize.percent(18.1818, language="en") == "18.18%"
    assert localize.percent(18.1818, language="fa") == "۱۸٫۱۸٪"
    assert localize.percent(Decimal("60.00"), language="fa") == "۶۰٪"
    assert localize.percent_sign("fa") == "٪" and localize.percent_sign("en") == "%"
    assert localize.percent(None, language="fa") == ""


# --- the Solar Hijri calendar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gregorian", "jalali"),
    [
        (date(2026, 3, 21), (1405, 1, 1)),  # Nowruz 1405
        (date(2026, 3, 20), (1404, 12, 29)),  # 1404 is not a leap year: Esfand has 29 days
        (date(2025, 3, 21), (1404, 1, 1)),
        (date(2025, 3, 20), (1403, 12, 30)),  # 1403 is a leap year: Esfand 30
        (date(2024, 3, 20), (1403, 1, 1)),  # Nowruz on 20 March (Gregorian leap year)
        (date(2024, 3, 19), (1402, 12, 29)),
        (date(2000, 1, 1), (1378, 10, 11)),
        (date(1979, 2, 11), (1357, 11, 22)),
        (date(2025, 12, 31), (1404, 10, 10)),  # the Gregorian year's end
        (date(2026, 1, 1), (1404, 10, 11)),
        (date(2026, 9, 22), (1405, 6, 31)),  # the first six months have 31 days
        (date(2026, 9, 23), (1405, 7, 1)),
        (date(2027, 2, 19), (1405, 11, 30)),
        (date(2027, 3, 21), (1406, 1, 1)),
    ],
)
def test_known_dates_in_the_solar_hijri_calendar(gregorian, jalali):
    assert localize.jalali(gregorian) == jalali


def test_consecutive_days_are_consecutive_solar_hijri_days():
    """From 1990 to 2060 every day follows the last: a day more in the month, or the 1st of the
    next month (of 31, 30 or 29/30 days), or Nowruz after Esfand."""
    day, previous = date(1990, 1, 1), localize.jalali(date(1989, 12, 31))
    while day < date(2060, 1, 1):
        year, month, dom = localize.jalali(day)
        py, pm, pd = previous
        if (year, month) == (py, pm):
            assert dom == pd + 1
        else:
            longest = 31 if pm <= 6 else 30
            assert dom == 1 and pd in ({longest} if pm < 12 else {29, 30})
            assert (year, month) == ((py, pm + 1) if pm < 12 else (py + 1, 1))
        previous, day = (year, month, dom), day + timedelta(days=1)


# --- dates and times for a page -------------------------------------------------------------

# 09:05 UTC is 12:35 in Tehran (UTC+03:30, no daylight saving since 2022).
MOMENT = datetime(2026, 3, 21, 9, 5, tzinfo=UTC)


def test_dates_and_times_in_each_language():
    assert localize.format_date(MOMENT, "en") == "21 March 2026"
    assert localize.format_date(MOMENT, "fa") == "۱ فروردین ۱۴۰۵"
    assert localize.format_time(MOMENT, "en") == "09:05"
    assert localize.format_time(MOMENT, "fa") == "۱۲:۳۵"  # Tehran time
    assert localize.format_datetime(MOMENT, "en") == "21 March 2026 at 09:05"
    assert localize.format_datetime(MOMENT, "fa") == "۱ فروردین ۱۴۰۵ ساعت ۱۲:۳۵"
    # A moment late in the evening UTC is the next day in Tehran.
    late = datetime(2026, 3, 20, 22, 0, tzinfo=UTC)
    assert localize.format_date(late, "fa") == "۱ فروردین ۱۴۰۵"
    assert localize.format_date(late, "en") == "20 March 2026"


def test_a_local_time_names_its_zone_and_carries_the_instant():
    shown = localize.local_time(MOMENT, "datetime", "fa")
    assert 'data-local-time="datetime"' in shown
    assert '<time datetime="2026-03-21T09:05:00+00:00">۱ فروردین ۱۴۰۵ ساعت ۱۲:۳۵</time>' in shown
    assert '<span class="zone">(به وقت تهران)</span>' in shown
    english = localize.local_time(MOMENT, "datetime", "en")
    assert ">21 March 2026 at 09:05</time>" in english and "(UTC)" in english


def test_a_time_of_another_day_shows_its_day(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 21, 8, 0, tzinfo=UTC))
    today = localize.local_time(MOMENT, "time", "en")
    assert ">09:05</time>" in today and 'data-local-time="time"' in today
    tomorrow = localize.local_time(MOMENT + timedelta(days=1), "time", "en")
    assert ">22 March 2026 at 09:05</time>" in tomorrow
    with pytest.raises(ValueError):
        localize.local_time(MOMENT, "weekday")


# --- the template library ------------------------------------------------------------------


def test_the_template_filters_and_tags():
    source = (
        "{{ n|digits }}|{{ score|number }}|{{ pct|percent }}|{% percent_sign %}|"
        "{{ when|local_date }}|{% filter digits %}{% blocktranslate count minutes=n %}"
        "{{ minutes }} minute{% plural %}{{ minutes }} minutes{% endblocktranslate %}"
        "{% endfilter %}"
    )
    context = {"n": 25, "score": Decimal("4.50"), "pct": 18.1818, "when": MOMENT}
    assert render(source, "en", **context) == "25|4.5|18.18%|%|21 March 2026|25 minutes"
    assert render(source, "fa", **context) == "۲۵|۴٫۵|۱۸٫۱۸٪|٪|۱ فروردین ۱۴۰۵|۲۵ دقیقه"


def test_local_time_in_a_translated_sentence_stays_markup():
    html = render(
        '{% local_time when "datetime" as deadline %}'
        "{% blocktranslate %}The exam ends at {{ deadline }}.{% endblocktranslate %}",
        "fa",
        when=MOMENT,
    )
    assert "<time datetime=" in html and "&lt;" not in html
    assert "۱ فروردین ۱۴۰۵ ساعت ۱۲:۳۵" in html
