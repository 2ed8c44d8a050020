"""Console lists: filter, search, sort and paginate by URL query (so a view is bookmarkable),
and export the filtered rows as CSV or XLSX.

A list is declared once (`Listing`: its columns, search fields, filter form and default sort)
and the same declaration drives the page, its HTMX partial, both exports and the bulk actions on
its filtered set. Query string:

    ?q=<search>&<filter fields>&sort=<column key, "-" for descending>&page=<n>&export=csv|xlsx

A filter with an invalid value selects no rows (as the Django admin answers an invalid lookup):
the page shows the error and nothing else, and a bulk action refuses, since acting on the
rows without that filter would act on more than was asked for. So does a name the list does not
know (`?stat=dead` for `?state=dead`): ignored, it showed every row, and a bulk action acted on
them all. A bulk action's form posts to
the list's own query string (`carried_query`), so the request is checked (portal.middleware)
and filtered exactly as the list's.

Exports stream: CSV row by row (StreamingHttpResponse), XLSX through openpyxl's write-only
workbook on a temporary file; both read the rows in chunks. A cell that a spreadsheet would
run as a formula (=, +, -, @ first) is prefixed with a quote.
"""

import csv
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.http import HtmxHttpRequest
from portal.staff.responses import render_results
from portal.text import shown_control_characters

EXPORT_FORMATS = ("csv", "xlsx")
CHUNK = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The empty first choice of a filter's select: this filter filters nothing.
ANY = [("", _("Any"))]
# What a bulk action on a list carries of its query: filters, search and sort (for the way
# back), never the page or an export.
NOT_CARRIED = ("page", "export")
# The query string's own names, beside the filters'.
LIST_PARAMS = frozenset({"q", "sort", *NOT_CARRIED})
# (filter's label, what is wrong with its value)
Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Column:
    """One column of a list: its header, how to sort by it, and its value in an export.

    `value` is an attribute path ("partner.name") or a function of the row; `order_by` the
    ORM expression to sort by (None: not sortable).
    """

    key: str
    label: Any
    value: str | Callable[[Any], Any] | None = None
    order_by: str | None = None

    def cell(self, row: Any) -> Any:
        getter = self.value or self.key
        if callable(getter):
            return getter(row)
        value = row
        for part in getter.split("."):
            value = getattr(value, part, None) if value is not None else None
            if callable(value) and not hasattr(value, "all"):
                value = value()
        return value


def model_choice(label: Any, queryset: QuerySet) -> forms.ModelChoiceField:
    """A filter's select of a record of `queryset`; its empty choice is "Any"."""
    return forms.ModelChoiceField(
        label=label, queryset=queryset, required=False, empty_label=_("Any")
    )


class FilterForm(forms.Form):
    """A list's filters: fields read from the query string; `filter()` applies them.

    A field left empty filters nothing; an invalid value is reported on the form and the list
    selects no rows (`Listing.filtered`).
    `lookups` names the lookup each plain field's value is matched with (e.g. {"customer":
    "student__customer"}); a filter of another kind extends `filter()`.
    """

    lookups: ClassVar[dict[str, str]] = {}

    def clean(self) -> dict[str, Any] | None:
        unknown = sorted(set(self.data) - set(self.fields) - LIST_PARAMS)
        if unknown:
            raise forms.ValidationError(
                _("Not a filter of this list: %(names)s."), params={"names": ", ".join(unknown)}
            )
        return super().clean()

    def filter(self, queryset: QuerySet, data: dict[str, Any]) -> QuerySet:
        for name, lookup in self.lookups.items():
            if name in data:
                queryset = queryset.filter(**{lookup: data[name]})
        return queryset

    def problems(self) -> Problems:
        """Each invalid filter's label and error, for a page or a refusal to say."""
        return [
            (str(self.fields[name].label) if name in self.fields else str(_("Filters")), str(error))
            for name, errors in self.errors.items()
            for error in errors
        ]


@dataclass(frozen=True)
class ListPage:
    """What a list template needs: the page of rows, the filters and the sort."""

    page: Page
    form: FilterForm
    q: str
    sort: str
    columns: tuple[Column, ...]
    total: int

    @property
    def rows(self) -> list:
        return list(self.page.object_list)

    @property
    def problems(self) -> Problems:
        """The invalid filters, for which no rows are shown."""
        return self.form.problems()

    def headers(self) -> list[dict]:
        """Each column with the sort its header link asks for and its current direction."""
        headers = []
        for column in self.columns:
            current = self.sort.lstrip("-") == column.key
            descending = current and self.sort.startswith("-")
            headers.append(
                {
                    "key": column.key,
                    "label": column.label,
                    "sortable": column.order_by is not None,
                    "current": current,
                    "direction": ("descending" if descending else "ascending")
                    if current
                    else "none",
                    "next_sort": column.key
                    if (current and descending)
                    else f"-{column.key}"
                    if current
                    else column.key,
                }
            )
        return headers


@dataclass(frozen=True)
class Listing:
    columns: tuple[Column, ...]
    default_sort: str
    search_fields: tuple[str, ...] = ()
    filter_form: type[FilterForm] | None = None
    per_page: int = 50
    # The columns an export writes, when not the same as the page's.
    export_columns: tuple[Column, ...] = field(default=())

    def sort_of(self, request: HttpRequest) -> str:
        wanted = request.GET.get("sort", "")
        keys = {c.key for c in self.columns if c.order_by}
        return wanted if wanted.lstrip("-") in keys else self.default_sort

    def filtered(
        self, request: HttpRequest, queryset: QuerySet
    ) -> tuple[QuerySet, FilterForm, str]:
        """The rows the query string asks for, its filter form and search text; no rows when
        a filter is invalid (the form says which)."""
        # A list without filters has the bare form, which checks the query's names.
        form = (self.filter_form or FilterForm)(request.GET or None)
        if form.is_bound:
            if form.is_valid():
                data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "", [])}
                queryset = form.filter(queryset, data)
            else:
                # Dropping the invalid filter would widen the set, and so a bulk action.
                queryset = queryset.none()
        q = request.GET.get("q", "").strip()[:200]
        if q and self.search_fields:
            condition = Q()
            for name in self.search_fields:
                condition |= Q(**{f"{name}__icontains": q})
            queryset = queryset.filter(condition)
        sort = self.sort_of(request)
        column = next(c for c in self.columns if c.key == sort.lstrip("-"))
        order = column.order_by
        assert order is not None, "sort_of() names a sortable column"
        queryset = queryset.order_by(f"-{order}" if sort.startswith("-") else order, "-pk")
        return queryset, form, q

    def page(self, request: HttpRequest, queryset: QuerySet) -> ListPage:
        queryset, form, q = self.filtered(request, queryset)
        paginator = Paginator(queryset, self.per_page)
        page = paginator.get_page(request.GET.get("page"))
        return ListPage(
            page=page,
            form=form,
            q=q,
            sort=self.sort_of(request),
            columns=self.columns,
            total=paginator.count,
        )

    def selected(self, request: HttpRequest, queryset: QuerySet) -> tuple[QuerySet, Problems]:
        """What a bulk action on the list acts on: the rows the list shows for the request's
        query string (every page), and the invalid filters. With any, the rows are none and
        the action answers `refused()`: it does nothing, and says why."""
        queryset, form, _q = self.filtered(request, queryset)
        return queryset, form.problems()

    def export(self, request: HttpRequest, queryset: QuerySet, filename: str):
        """The filtered rows as a download, in the format `?export=` names."""
        queryset, _form, _q = self.filtered(request, queryset)
        return download(request, self.export_columns or self.columns, _chunked(queryset), filename)

    def respond(
        self, request: HtmxHttpRequest, queryset: QuerySet, template: str, filename: str, **context
    ) -> HttpResponse:
        """A list view's answer: the filtered rows as a download when `?export=` asks for one,
        else the page (for htmx, its results region) with `listing` and `context`."""
        if wants_export(request):
            return self.export(request, queryset, filename)
        return render_results(
            request, template, {"listing": self.page(request, queryset)} | context
        )


def count_per_row(queryset: QuerySet, group: str) -> Coalesce:
    """A correlated COUNT subquery of `queryset` grouped by `group` (filter it on
    OuterRef("pk")): one per row of the outer query, never a join that multiplies rows."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_query(url: str, query: str) -> str:
    """`url` with a query string (`query` without its "?"), or as it is for none."""
    return f"{url}?{query}" if query else url


def carried_query(params: QueryDict) -> str:
    """The list's query as its bulk actions carry it, in their form's URL: see NOT_CARRIED."""
    carried = params.copy()
    for name in NOT_CARRIED:
        carried.pop(name, None)
    return carried.urlencode()


def refused(
    request: HtmxHttpRequest, back: str, reason: Any, problems: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """A bulk action's refusal (nothing done): `reason`, the invalid filters, and the way back
    to the list. A 400 page without JavaScript; for htmx its partial with a 200, as every
    refusal of the console's forms is (htmx swaps no error status: the click seemed to do
    nothing)."""
    context = {"reason": reason, "problems": problems, "back": back}
    if request.htmx:
        return render(request, "staff/refused.html#refusal", context)
    return render(request, "staff/refused.html", context, status=400)


def wants_export(request: HttpRequest) -> bool:
    return request.GET.get("export") in EXPORT_FORMATS


def download(request: HttpRequest, columns, rows, filename: str):
    """`rows` as a download of `columns`, in the format `?export=` names, the file name stamped
    with the time."""
    headers = [str(c.label) for c in columns]
    cells = ([export_value(c.cell(row)) for c in columns] for row in rows)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    if request.GET.get("export") == "xlsx":
        return xlsx_response(headers, cells, f"{filename}-{stamp}.xlsx")
    return csv_response(headers, cells, f"{filename}-{stamp}.csv")


def _chunked(queryset: QuerySet) -> Iterator:
    # iterator() with a chunk size keeps prefetch_related working and memory flat.
    return queryset.iterator(chunk_size=CHUNK)


def export_value(value: Any) -> Any:
    """A cell value: dates in ISO 8601 (UTC), booleans as yes/no, lists joined; text that a
    spreadsheet would run as a formula is quoted, a control character shown as �."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return timezone.localtime(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = shown_control_characters(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(headers: list[str], rows, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a byte-order mark, so spreadsheet programs read UTF-8 (Persian names)
        yield writer.writerow(headers)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(headers: list[str], rows, filename: str) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="export")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


class DateRangeFilters(FilterForm):
    """`since` and `until` dates (inclusive) on a list's date column: set `date_field`."""

    date_field = "created_at"
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))

    def filter(self, queryset: QuerySet, data: dict[str, Any]) -> QuerySet:
        queryset = super().filter(queryset, data)
        if "since" in data:
            queryset = queryset.filter(**{f"{self.date_field}__date__gte": data["since"]})
        if "until" in data:
            queryset = queryset.filter(**{f"{self.date_field}__date__lte": data["until"]})
        return queryset


class ActiveFilters(FilterForm):
    """An `active` filter (all, active, inactive) on the list's `is_active` field."""

    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("All")), ("yes", _("Active")), ("no", _("Inactive"))],
    )

    def filter(self, queryset: QuerySet, data: dict[str, Any]) -> QuerySet:
        queryset = super().filter(queryset, data)
        if "active" in data:
            queryset = queryset.filter(is_active=data["active"] == "yes")
        return queryset
