"""Staff edit scorecard content here: a version, its sections, questions, answers, bands,
recommendation rules and resources. New versions come from portal-scorecard/1 files or from a
copy of an existing one.

Every save is checked by the content's one rule (portal.scorecards.content: the version,
exported, validated by the format's declaration, and no change to a version that has visits)
before it commits; a refused save is rolled back and the form shown again, as posted, with
the reason. A version with visits is read-only here: "Copy as a new version" makes an editable
copy. Each object's texts in Persian are edited beside its English ones (with_persian_texts).
"""

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Model
from django.forms.models import ALL_FIELDS
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import capfirst

from portal.scorecards import content
from portal.scorecards.content import ScorecardFormatError
from portal.scorecards.models import (
    Choice,
    Question,
    Recommendation,
    Resource,
    ScoreBand,
    Scorecard,
    Section,
)

if TYPE_CHECKING:

    class _CountedScorecard(Scorecard):
        """A version as ScorecardAdmin's list reads it (a declaration for the type checker)."""

        section_total: int  # get_queryset's annotations
        visit_total: int

    # What LockedInlineMixin is mixed into (at run time a plain class, so the MRO is as it was).
    _InlineBase = admin.options.InlineModelAdmin
else:
    _InlineBase = object


def scorecard_of(obj) -> Scorecard | None:
    """The version a piece of content belongs to."""
    if isinstance(obj, Scorecard):
        return obj
    if isinstance(obj, Section):
        return obj.scorecard
    if isinstance(obj, Question):
        return obj.section.scorecard
    return None


def editable(obj) -> bool:
    scorecard = scorecard_of(obj)
    return scorecard is None or scorecard.pk is None or content.is_editable(scorecard)


(PERSIAN,) = content.TRANSLATIONS  # the one language besides English: "fa"


def persian(model: type[Model]) -> tuple[str, ...]:
    """The form fields of `model`'s texts in Persian (with_persian_texts), in the format's order."""
    return tuple(f"{PERSIAN}_{name}" for name in content.translated_fields(model))


def _persian_text(model: type[Model], name: str) -> tuple["models.Field[Any, Any]", str]:
    """`model`'s English field `name` and the label of its Persian text."""
    english = cast("models.Field[Any, Any]", model._meta.get_field(name))
    return english, f"{capfirst(english.verbose_name)} (Persian)"


class PersianTextsForm(forms.ModelForm):
    """A content object's form with its texts in Persian (with_persian_texts)."""

    persian_texts: tuple[str, ...] = ()  # the model's fields translated, each a form field fa_…

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = content.stored_texts(self.instance, PERSIAN)
        shown = self._meta.fields  # the page's fields (a form's own are always in it, else)
        for name in self.persian_texts:
            key = f"{PERSIAN}_{name}"
            if shown not in (None, ALL_FIELDS) and key not in shown:
                del self.fields[key]  # not on this page: left as stored
            else:
                self.initial.setdefault(key, stored.get(name, self._none(key)))

    def _none(self, key: str) -> Any:
        """A field's text when there is none: a list's is an empty list."""
        return [] if isinstance(self.base_fields[key], forms.JSONField) else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        translations = dict(self.instance.translations or {})
        texts = dict(translations.pop(PERSIAN, None) or {})
        for name in self.persian_texts:
            key = f"{PERSIAN}_{name}"
            if key in self.fields and key in cleaned:  # else refused: as stored
                texts[name] = self._none(key) if cleaned[key] is None else cleaned[key]
        if any(texts.values()):
            translations[PERSIAN] = texts
        self.instance.translations = translations
        return cleaned


def with_persian_texts(model: type[Model]) -> type[PersianTextsForm]:
    """A form for `model` with a field `fa_<name>` for each of its texts that may be in Persian
    (content.translated_fields: the format's `fa` objects), written right to left (a list, as
    JSON, left to right) and stored in the row's `translations`; a page that shows some of them
    leaves the others as stored.
    All of an object's Persian texts emptied, it has none, and the Persian pages show it in
    English. Otherwise they are stored as given, and the content's rule checks them when the
    version is checked on save — all of them, each as its English text — and refuses what it
    would refuse in a file, with the reason."""
    names = content.translated_fields(model)
    declared: dict[str, Any] = {"persian_texts": names}
    for name in names:
        english, label = _persian_text(model, name)
        field = cast(forms.Field, english.formfield(required=False, help_text=""))
        field.label = label
        wide = "vLargeTextField" if isinstance(field.widget, forms.Textarea) else "vTextField"
        # A list is written as JSON, whose brackets and commas read left to right.
        writing = "ltr" if isinstance(field, forms.JSONField) else "rtl"
        field.widget.attrs.update({"dir": writing, "lang": PERSIAN, "class": wide})
        declared[f"{PERSIAN}_{name}"] = field
    meta = type("Meta", (), {"model": model, "fields": ALL_FIELDS, "exclude": ("translations",)})
    return type(f"{model.__name__}Form", (PersianTextsForm,), {"Meta": meta, **declared})


class PersianTextsShown:
    """A page shown read-only (a version that has visits) shows each Persian text as stored:
    Django looks a read-only field it can't find on the model up on the admin."""

    def __getattr__(self, name: str) -> Any:
        field = name.removeprefix(f"{PERSIAN}_")
        model: type[Model] = self.model  # every admin has one
        if field == name or field not in content.translated_fields(model):
            raise AttributeError(name)

        def shown(obj: Any) -> Any:
            return content.stored_texts(obj, PERSIAN).get(field, "")

        shown.short_description = _persian_text(model, field)[1]  # type: ignore[attr-defined]
        return shown


class LockedInlineMixin(PersianTextsShown, _InlineBase):
    """An inline of a version that has visits shows its rows and changes nothing."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return editable(obj) and super().has_delete_permission(request, obj)


class CheckedContentAdmin(PersianTextsShown, admin.ModelAdmin):
    """Content pages: read-only for a version with visits; every save and delete re-checked
    against the content's rule in its own transaction, refused with the reason."""

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return editable(obj) and super().has_delete_permission(request, obj)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Everything of this save is written: check the whole version as it now stands. An
        # error leaves changeform_view's transaction, which rolls the save back.
        # Every model edited here (a version, a section, a question) belongs to a version.
        content.check_edited_scorecard(cast(Scorecard, scorecard_of(form.instance)))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ScorecardFormatError as error:
            # Rolled back. Show the form again as posted, refused with the reason (get_form).
            request.scorecard_content_error = error.message
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        message = getattr(request, "scorecard_content_error", None)
        if message is None:
            return form

        class Refused(form):  # type: ignore[valid-type, misc]  # the form Django just built
            def clean(self):
                super().clean()
                raise ValidationError(message)

        return Refused

    def delete_model(self, request: HttpRequest, obj) -> None:
        scorecard = scorecard_of(obj)
        super().delete_model(request, obj)
        if not isinstance(obj, Scorecard):
            content.check_edited_scorecard(cast(Scorecard, scorecard))  # a section or question

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ScorecardFormatError as error:
            self.message_user(request, error.message, messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        if self.model is not Scorecard:
            # Deleting content one by one is checked (delete_view); a bulk delete would report
            # success even when the check refuses it.
            actions.pop("delete_selected", None)
        return actions


class SectionInline(LockedInlineMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ("step", "key", "api_key", "name", "weight")
    show_change_link = True  # its questions and Persian texts are edited on its own page

    # The contract fixes the four sections: they are edited, never added or removed.
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ScoreBandInline(LockedInlineMixin, admin.StackedInline):
    model = ScoreBand
    form = with_persian_texts(ScoreBand)
    extra = 0
    fields = (("key", "min_score"), ("name", "fa_name"), "description", "fa_description")


class RecommendationInline(LockedInlineMixin, admin.StackedInline):
    model = Recommendation
    form = with_persian_texts(Recommendation)
    extra = 0
    fields = (
        ("position", "section", "priority"),
        ("min_score", "max_score"),
        "title",
        "description",
        "action_items",
        ("estimated_impact", "time_to_implement"),
        "fa_title",
        "fa_description",
        "fa_action_items",
        ("fa_estimated_impact", "fa_time_to_implement"),
    )

    def get_formset(self, request: HttpRequest, obj: Scorecard | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A rule reads the score of a section of its own version.
        section = cast(forms.ModelChoiceField, formset.form.base_fields["section"])
        section.queryset = (
            Section.objects.filter(scorecard=obj) if obj is not None else Section.objects.none()
        )
        return formset


class ResourceInline(LockedInlineMixin, admin.StackedInline):
    model = Resource
    form = with_persian_texts(Resource)
    extra = 0
    fields = (("position", "type"), ("title", "fa_title"), "url", "description", "fa_description")


@admin.register(Scorecard)
class ScorecardAdmin(CheckedContentAdmin):
    form = with_persian_texts(Scorecard)
    list_display = ("version", "title", "is_active", "section_count", "visit_count", "created_at")
    list_filter = ("is_active",)
    search_fields = ("version", "title")
    readonly_fields = ("is_active", "created_at")
    fieldsets = (
        (None, {"fields": ("version", "title", "description", "is_active", "created_at")}),
        (
            "Executive briefing",
            {
                "fields": (
                    "briefing_title",
                    "briefing_description",
                    ("briefing_button_text", "briefing_url"),
                    ("briefing_total_below", "briefing_section_below"),
                )
            },
        ),
        (
            "Persian texts (all of them, or none: then the Persian pages show English)",
            {"fields": persian(Scorecard)},
        ),
    )
    inlines = [SectionInline, ScoreBandInline, RecommendationInline, ResourceInline]
    actions = ["make_active", "copy_version"]

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .annotate(
                section_total=Count("sections", distinct=True),
                visit_total=Count("visits", distinct=True),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A version needs its four sections with questions and answers, which no single form
        # holds: load a file (load_scorecard) or copy a version instead.
        return False

    @admin.display(description="Sections", ordering="section_total")
    def section_count(self, obj: "_CountedScorecard") -> int:
        return obj.section_total

    @admin.display(description="Visits (a version with visits is read-only)")
    def visit_count(self, obj: "_CountedScorecard") -> int:
        return obj.visit_total

    def change_view(self, request, object_id, form_url="", extra_context=None) -> HttpResponse:
        scorecard = self.get_object(request, object_id)
        if scorecard is not None and not content.is_editable(scorecard):
            self.message_user(
                request,
                f"Version {scorecard.version} has visits, so it is read-only: use the action "
                '"Copy as a new version" on the list to edit a copy.',
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Copy as a new version (inactive, editable)")
    def copy_version(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return None
        try:
            copy = content.scorecard_copy(scorecard=queryset.get())
        except ScorecardFormatError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self.log_addition(request, copy, [{"added": {}}])
        self.message_user(request, f"Version {copy.version} is a copy: edit it, then activate it.")
        return HttpResponseRedirect(reverse("admin:scorecards_scorecard_change", args=[copy.pk]))

    @admin.action(description="Make the selected version the active one")
    def make_active(self, request: HttpRequest, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        chosen = queryset.get()
        try:
            content.validate_scorecard(chosen)
        except ScorecardFormatError as error:
            self.message_user(request, f"Not activated. {error.message}", messages.ERROR)
            return
        with transaction.atomic():
            Scorecard.objects.filter(is_active=True).update(is_active=False)
            Scorecard.objects.filter(pk=chosen.pk).update(is_active=True)
        self.message_user(request, f"Version {chosen.version} is now active.")


class QuestionInline(LockedInlineMixin, admin.StackedInline):
    model = Question
    form = with_persian_texts(Question)
    extra = 0
    fields = (("position", "qid"), "text", "fa_text")
    show_change_link = True  # its answers are edited on its own page


@admin.register(Section)
class SectionAdmin(CheckedContentAdmin):
    form = with_persian_texts(Section)
    list_display = ("name", "key", "weight", "step", "scorecard")
    list_filter = ("scorecard",)
    list_select_related = ("scorecard",)
    inlines = [QuestionInline]

    # The contract fixes the four sections of a version: they are edited, never added or
    # removed (a version comes whole from a file or a copy).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ChoiceInline(LockedInlineMixin, admin.StackedInline):
    model = Choice
    form = with_persian_texts(Choice)
    extra = 0
    fields = (("letter", "points"), "text", "fa_text")


@admin.register(Question)
class QuestionAdmin(CheckedContentAdmin):
    form = with_persian_texts(Question)
    list_display = ("qid", "text_start", "section")
    list_filter = ("section__scorecard", "section__key")
    search_fields = ("qid", "text")
    list_select_related = ("section__scorecard",)
    inlines = [ChoiceInline]

    @admin.display(description="Question")
    def text_start(self, obj: Question) -> str:
        return obj.text[:80]
