"""Console formatting: dates (Solar Hijri in Persian) and times in the pages' zone (Tehran time in
Persian, as a candidate's pages: portal.localize), Persian digits, small SVG charts."""

from collections.abc import Iterable
from datetime import date, datetime

import jdatetime
from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html

# Which pages write Persian digits, and how: the portal's one rule (portal/localize.py).
from portal.localize import display_zone, zone_name
from portal.localize import persian_numerals as persian
from portal.localize import uses_persian_digits as in_persian
from portal.staff.responses import ONCE_FIELD, once_key

register = template.Library()


@register.simple_tag
def once_field() -> str:
    """The hidden key of a one-shot form (portal.staff.responses.first_press)."""
    return format_html('<input type="hidden" name="{}" value="{}">', ONCE_FIELD, once_key())


@register.filter
def staff_area(path: str) -> str:
    """The console area a path is in: "/staff/partners/3/" → "partners"."""
    parts = [part for part in path.split("/") if part]
    return parts[1] if len(parts) > 1 and parts[0] == "staff" else ""


@register.filter
def num(value, decimals: int | None = None) -> str:
    """A number as the reader writes it: Persian digits in Persian, thousands grouped."""
    if value is None or value == "":
        return "—"
    if decimals is not None:
        value = round(float(value), int(decimals))
    text = number_format(value, decimal_pos=decimals, use_l10n=False, force_grouping=True)
    return persian(text) if in_persian() else text


@register.filter
def value_or_none(value: object) -> object:
    """A recorded value as stored, "∅" for none (None or ""): 0 and False are values, which
    Django's `default` filter would show as none."""
    return "∅" if value is None or value == "" else value


@register.filter
def when(value: datetime | date | None, style: str = "datetime") -> str:
    """A date or time in the reader's calendar: Solar Hijri with Persian digits in Persian.

    style: "datetime" (default), "date", "time".
    """
    if value is None:
        return "—"
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = value.astimezone(display_zone())
    if in_persian():
        if isinstance(value, datetime):
            shown = jdatetime.datetime.fromgregorian(datetime=value)
        else:
            shown = jdatetime.date.fromgregorian(date=value)
    else:
        shown = value
    if not isinstance(value, datetime) or style == "date":
        text = shown.strftime("%Y/%m/%d" if in_persian() else "%Y-%m-%d")
    elif style == "time":
        text = shown.strftime("%H:%M:%S")
    else:
        text = shown.strftime("%Y/%m/%d %H:%M" if in_persian() else "%Y-%m-%d %H:%M")
    return persian(text) if in_persian() else text


@register.simple_tag
def shown_zone() -> str:
    """The zone the console's times are in, as pages name it ("Tehran time", "UTC")."""
    return zone_name(display_zone())


@register.simple_tag
def timestamp(value: datetime | None, style: str = "datetime") -> str:
    """A <time> element: the reader's calendar shown, the ISO instant in `datetime`."""
    if value is None:
        return "—"
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), when(value, style))


CHART_WIDTH = 300  # SVG user units; the chart scales to its box


def _scale(values: Iterable[float]) -> float:
    top = max((float(v) for v in values), default=0.0)
    return top if top > 0 else 1.0


def _bars(items, max_value: float | None) -> tuple[list[tuple], float]:
    """The (label, value, css_class) rows of a chart's items, and the value a full bar shows."""
    rows = [tuple(item) + ("",) * (3 - len(item)) for item in items]
    return rows, float(max_value) if max_value else _scale(v for _, v, _ in rows)


@register.inclusion_tag("staff/charts/bars.html")
def bar_chart(items, label: str = "", height: int = 120, max_value: float | None = None) -> dict:
    """Vertical bars from (label, value) pairs, or (label, value, css_class) triples."""
    rows, top = _bars(items, max_value)
    count = max(len(rows), 1)
    width = CHART_WIDTH / count
    bars = []
    for index, (name, value, css) in enumerate(rows):
        share = min(float(value or 0) / top, 1.0)
        bar_height = round(share * (height - 20), 2)
        bars.append(
            {
                "x": round(index * width + width * 0.1, 2),
                "width": round(width * 0.8, 2),
                "y": round(height - 20 - bar_height, 2),
                "height": bar_height,
                "label": name,
                "value": value,
                "css": css,
                "text_x": round(index * width + width / 2, 2),
            }
        )
    return {
        "bars": bars,
        "height": height,
        "width": CHART_WIDTH,
        "label_y": height - 6,
        "title": label,
    }


@register.inclusion_tag("staff/charts/hbars.html")
def hbar_chart(items, label: str = "", max_value: float | None = None) -> dict:
    """Horizontal bars from (label, value) pairs or (label, value, css_class) triples: a funnel
    when the values shrink."""
    rows, top = _bars(items, max_value)
    bars = [
        {
            "label": name,
            "value": value,
            "css": css,
            "y": index * 26,
            "width": round(min(float(value or 0) / top, 1.0) * 100, 2),
        }
        for index, (name, value, css) in enumerate(rows)
    ]
    return {"bars": bars, "height": max(len(bars) * 26, 26), "title": label}


@register.inclusion_tag("staff/charts/meter.html")
def meter(value, max_value: float = 100, label: str = "") -> dict:
    """One value as a short bar out of `max_value` (e.g. a score out of 100)."""
    share = 0.0 if value in (None, "") else min(max(float(value) / float(max_value), 0.0), 1.0)
    return {"value": value, "width": round(share * 100, 2), "title": label}
