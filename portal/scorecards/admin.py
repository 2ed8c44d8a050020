"""Staff edit scorecard content here: a version, its sections, questions, answers, bands,
recommendation rules and resources. New versions come from portal-scorecard/1 files."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest

from portal.scorecards.models import (
    Choice,
    Question,
    Recommendation,
    Resource,
    ScoreBand,
    Scorecard,
    Section,
)


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ("step", "key", "api_key", "name", "weight")
    show_change_link = True  # its questions are edited on its own page


class ScoreBandInline(admin.TabularInline):
    model = ScoreBand
    extra = 0
    fields = ("key", "name", "min_score", "description")


class RecommendationForm(forms.ModelForm):
    class Meta:
        model = Recommendation
        fields = "__all__"

    def clean_action_items(self) -> list:
        items = self.cleaned_data.get("action_items")
        if not isinstance(items, list) or not items:
            raise ValidationError('Action items are a non-empty list of strings: ["…", "…"].')
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise ValidationError("Every action item must be a non-empty string.")
        return items


class RecommendationInline(admin.StackedInline):
    model = Recommendation
    form = RecommendationForm
    extra = 0
    fields = (
        ("position", "section", "priority"),
        ("min_score", "max_score"),
        "title",
        "description",
        "action_items",
        ("estimated_impact", "time_to_implement"),
    )

    def get_formset(self, request: HttpRequest, obj: Scorecard | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A rule reads the score of a section of its own version.
        formset.form.base_fields["section"].queryset = (
            Section.objects.filter(scorecard=obj) if obj is not None else Section.objects.none()
        )
        return formset


class ResourceInline(admin.TabularInline):
    model = Resource
    extra = 0
    fields = ("position", "title", "type", "url", "description")


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ("version", "title", "is_active", "section_count", "created_at")
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
    )
    inlines = [SectionInline, ScoreBandInline, RecommendationInline, ResourceInline]
    actions = ["make_active"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(section_total=Count("sections"))

    @admin.display(description="Sections", ordering="section_total")
    def section_count(self, obj: Scorecard) -> int:
        return obj.section_total

    @admin.action(description="Make the selected version the active one")
    def make_active(self, request: HttpRequest, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        chosen = queryset.get()
        with transaction.atomic():
            Scorecard.objects.filter(is_active=True).update(is_active=False)
            Scorecard.objects.filter(pk=chosen.pk).update(is_active=True)
        self.message_user(request, f"Version {chosen.version} is now active.")


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = (("position", "qid"), "text")
    show_change_link = True  # its answers are edited on its own page


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "weight", "step", "scorecard")
    list_filter = ("scorecard",)
    list_select_related = ("scorecard",)
    inlines = [QuestionInline]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    fields = ("letter", "text", "points")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("qid", "text_start", "section")
    list_filter = ("section__scorecard", "section__key")
    search_fields = ("qid", "text")
    list_select_related = ("section__scorecard",)
    inlines = [ChoiceInline]

    @admin.display(description="Question")
    def text_start(self, obj: Question) -> str:
        return obj.text[:80]
