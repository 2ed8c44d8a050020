"""Numbers, dates and times as the reader's language writes them: the one rule for every page.

Persian pages use Persian digits (۰–۹), the Persian decimal, minus and percent signs, and the
Solar Hijri (Jalali) calendar with Persian month names; every other page keeps Latin digits and
the Gregorian calendar. Input goes the other way (portal.text.normalize_digits). In the
browser, static/js/localize.js applies the same rule from the page's `lang`.

Time zone: the server cannot know the candidate's. A time is rendered in the zone its language
suggests (Tehran for Persian, the customers' country; UTC otherwise), always with the zone
named, and static/js/localize.js rewrites it to the browser's own zone when JavaScript runs.

Functions for Python code; the same as template filters and tags after `{% load localize %}`
(Django finds the library as portal/exams/templatetags/localize.py, which points here):
`{{ n|digits }}`, `{{ x|number }}`, `{{ x|percent }}`, `{% percent_sign %}`,
`{{ when|local_date }}`, `{% local_time when "datetime" %}`, and
`{% filter digits %}…{% endfilter %}` around a translated sentence whose numbers come from
`{% blocktranslate count %}`.
"""

import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import jdatetime
from django import template
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy, pgettext

register = template.Library()

# The languages written with Persian digits and the Solar Hijri calendar.
PERSIAN_LANGUAGES = frozenset({"fa"})

# The zone a time is shown in before the browser rewrites it (see the module's docstring).
LANGUAGE_TIME_ZONES = {"fa": "Asia/Tehran"}
ZONE_NAMES = {"Asia/Tehran": gettext_lazy("Tehran time"), "UTC": "UTC"}

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# A number's own marks too: the Persian decimal separator (U+066B), thousands separator (U+066C)
# and a true minus sign, as Intl's fa-IR writes them.
_PERSIAN_NUMBER = str.maketrans("0123456789.,-", "۰۱۲۳۴۵۶۷۸۹٫٬−")
# In HTML, digits inside a tag or a character reference (&#x27;) are markup, not text.
_MARKUP_OR_DIGITS = re.compile(r"<[^>]*>|&#?[0-9A-Za-z]+;|[0-9]+")


def _language(language: str | None) -> str:
    return (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def uses_persian_digits(language: str | None = None) -> bool:
    """Whether `language` (by default the active one) writes Persian digits and Jalali dates."""
    return _language(language) in PERSIAN_LANGUAGES


def _text_digits(match: re.Match) -> str:
    found = match.group()
    return found if found[0] in "<&" else found.translate(_PERSIAN_DIGITS)


def digits(value: object, language: str | None = None) -> str:
    """`value` as text with Persian digits on a Persian page; unchanged otherwise.

    Only the digits change (not '.' or ','), so it suits any sentence. Given HTML already
    marked safe, the digits of tags and character references are left alone.
    """
    text = str(value)
    if not uses_persian_digits(language):
        return text
    if isinstance(value, SafeData):
        return mark_safe(_MARKUP_OR_DIGITS.sub(_text_digits, text))
    return text.translate(_PERSIAN_DIGITS)


def digits_function(language: str | None = None) -> Callable[[object], str]:
    """digits() with the language decided once: for code that writes many numbers (the exam
    page's palette and questions, portal/exams/rendering.py)."""
    if not uses_persian_digits(language):
        return str
    return lambda value: str(value).translate(_PERSIAN_DIGITS)


def persian_numerals(text: str) -> str:
    """A number's text with Persian digits and signs: "-1,234.5" → "−۱٬۲۳۴٫۵" (whatever the
    language: for callers that decided it already, as the staff console's filters do)."""
    return text.translate(_PERSIAN_NUMBER)


def number(value: object, decimals: int = 2, language: str | None = None) -> str:
    """A number rounded to at most `decimals` places, trailing zeros dropped ("18.5", "50"),
    as the language writes it: "۱۸٫۵" in Persian. "" for no value."""
    if value is None or value == "":
        return ""
    try:
        exact = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    rounded = exact.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in {"-0", ""}:
        text = "0"
    return text.translate(_PERSIAN_NUMBER) if uses_persian_digits(language) else text


def percent_sign(language: str | None = None) -> str:
    """The percent sign: the Persian one (٪, U+066A) on a Persian page."""
    return "٪" if uses_persian_digits(language) else "%"


def percent(value: object, decimals: int = 2, language: str | None = None) -> str:
    """A percentage: "18.18%", "۱۸٫۱۸٪"."""
    shown = number(value, decimals, language)
    return f"{shown}{percent_sign(language)}" if shown else ""


# --- dates and times --------------------------------------------------------------------------


def jalali(value: date) -> tuple[int, int, int]:
    """The Solar Hijri (year, month, day) of a Gregorian date: 2026-03-21 is (1405, 1, 1).

    jdatetime's conversion agrees with ICU's Persian calendar (what the browser's Intl uses)
    on every day from 1950 to 2124 (checked when this was written).
    """
    shown = jdatetime.date.fromgregorian(date=value)
    return shown.year, shown.month, shown.day


def display_zone(language: str | None = None) -> tzinfo:
    """The zone a time is shown in on the server: Tehran for Persian pages, else settings'."""
    return ZoneInfo(LANGUAGE_TIME_ZONES.get(_language(language), settings.TIME_ZONE))


def zone_name(zone: tzinfo) -> str:
    """How the page names a zone: "Tehran time", "UTC"."""
    key = getattr(zone, "key", str(zone))
    return str(ZONE_NAMES.get(key, key))


def _in_zone(value: date, zone: tzinfo | None, language: str | None) -> date:
    if isinstance(value, datetime) and timezone.is_aware(value):
        return value.astimezone(zone or display_zone(language))
    return value


def format_date(value: date, language: str | None = None, zone: tzinfo | None = None) -> str:
    """A day as the language writes it: "21 March 2026", "۱ فروردین ۱۴۰۵"."""
    day = _in_zone(value, zone, language)
    if uses_persian_digits(language):
        year, month, dom = jalali(day if not isinstance(day, datetime) else day.date())
        return digits(f"{dom} {jdatetime.date.j_months_fa[month - 1]} {year}", language)
    with translation.override(_language(language)):
        return formats.date_format(day, "j F Y")


def format_time(value: datetime, language: str | None = None, zone: tzinfo | None = None) -> str:
    """A time of day, 24-hour: "09:05", "۰۹:۰۵"."""
    return digits(_in_zone(value, zone, language).strftime("%H:%M"), language)


def format_datetime(
    value: datetime, language: str | None = None, zone: tzinfo | None = None
) -> str:
    """A day and a time: "21 March 2026 at 09:05", "۱ فروردین ۱۴۰۵ ساعت ۰۹:۰۵"."""
    with translation.override(_language(language)):
        pattern = pgettext("a date, then a time of day", "%(date)s at %(time)s")
    return pattern % {
        "date": format_date(value, language, zone),
        "time": format_time(value, language, zone),
    }


STYLES = ("datetime", "date", "time")


def local_time(value: datetime, style: str = "datetime", language: str | None = None) -> SafeString:
    """A moment for the page, in the display zone and named so: `<span data-local-time>` with
    a `<time>` inside, which static/js/localize.js rewrites to the browser's own zone.

    style "time" shows the day too when it is not today (in that zone).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}")
    zone = display_zone(language)
    shown = style
    if style == "time" and value.astimezone(zone).date() != timezone.now().astimezone(zone).date():
        shown = "datetime"
    text = {"datetime": format_datetime, "date": format_date, "time": format_time}[shown](
        value, language, zone
    )
    with translation.override(_language(language)):
        zone_text = gettext("(%(zone)s)") % {"zone": zone_name(zone)}
    return format_html(
        '<span class="local-time" data-local-time="{}"><time datetime="{}">{}</time>'
        ' <span class="zone">{}</span></span>',
        style,
        value.isoformat(),
        text,
        digits(zone_text, language),
    )


# --- the template library -----------------------------------------------------------------------


@register.filter(name="digits", is_safe=True)
def digits_filter(value: object) -> str:
    """{{ n|digits }}; {% filter digits %}…{% endfilter %} around a translated sentence."""
    return digits(value)


@register.filter(name="number", is_safe=True)
def number_filter(value: object, decimals: int = 2) -> str:
    """{{ score|number }} or {{ score|number:1 }}."""
    return number(value, decimals)


@register.filter(name="percent", is_safe=True)
def percent_filter(value: object, decimals: int = 2) -> str:
    """{{ quiz.percentage|percent }}."""
    return percent(value, decimals)


@register.simple_tag(name="percent_sign")
def percent_sign_tag() -> str:
    """{% percent_sign %}, for a number and its sign in separate elements."""
    return percent_sign()


@register.filter(name="local_date", is_safe=True)
def local_date_filter(value: date | None) -> str:
    """{{ day|local_date }}: the day in the reader's calendar, as plain text."""
    return "" if value in (None, "") else format_date(value)


@register.simple_tag(name="local_time")
def local_time_tag(value: datetime | None, style: str = "datetime") -> str:
    """{% local_time quiz.deadline_at "time" %}, or `… as deadline` for a blocktranslate."""
    return "" if value is None else local_time(value, style)
