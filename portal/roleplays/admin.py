"""Clusters and their content in the admin (cluster → roleplay → stakeholder → turn → option,
competency → Likert items); assessments are read-only records.

The admin edits one row at a time, with the rules of the cluster file format
(portal/roleplays/format.py) that a row can break on its own, in words of its own.

Partners allowed to launch a cluster are sent its metadata again whenever an edit here changes
it (seed 000: "when cluster created or updated").
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest

from portal.admin import RecordInline
from portal.partners.admin import PartnerAdmin
from portal.partners.models import Partner
from portal.roleplays import partners, payloads, services
from portal.roleplays.format import (
    ID_PATTERN,
    ID_RULE,
    NORM_CUTS,
    mark_fault,
    max_score_fault,
    norm_table_fault,
)
from portal.roleplays.models import (
    Assessment,
    Cluster,
    Competency,
    LikertItem,
    Option,
    Roleplay,
    RoleplayAttempt,
    Stakeholder,
    Turn,
)
from scoring.roleplays import STEN_MAX


def check_identifier(value: str) -> None:
    if value and not ID_PATTERN.fullmatch(value):
        raise ValidationError(f"Use only {ID_RULE}.")


class IdentifiersForm(forms.ModelForm):
    """A row's ids (cluster_id, roleplay_id, a competency's code, a turn's key) use only the
    characters the cluster file format allows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("cluster_id", "roleplay_id", "code", "key"):
            if name in self.fields:
                self.fields[name].validators.append(check_identifier)


# ---------------------------------------------------------------------------------------------
# Metadata pushes


class PushesClusterMetadata(admin.ModelAdmin):
    """Send partners a cluster's metadata again when saving here changed it."""

    def clusters_of(self, obj) -> list[Cluster]:
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The metadata as it is before this save (the admin's transaction starts in super()).
        before = {}
        if object_id and request.method == "POST":
            obj = self.get_object(request, object_id)
            if obj is not None:
                before = {c.pk: payloads.cluster_metadata(c) for c in self.clusters_of(obj)}
        request._cluster_metadata_before = before
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_cluster_metadata_before", {})
        clusters = {c.pk: c for c in self.clusters_of(form.instance)}
        clusters |= Cluster.objects.in_bulk(before)
        sent = 0
        for pk, cluster in clusters.items():
            if before.get(pk) != payloads.cluster_metadata(cluster):
                sent += services.push_cluster_metadata(cluster)
        if sent:
            messages.info(request, f"Cluster metadata queued for {sent} partner(s).")

    def delete_model(self, request, obj) -> None:
        cluster_ids = {c.pk for c in self.clusters_of(obj) if c.pk}
        super().delete_model(request, obj)
        self._push_after_delete(request, cluster_ids)

    def delete_queryset(self, request, queryset) -> None:
        # "Delete selected" on the list page: one push per cluster touched, not per row.
        cluster_ids = {c.pk for obj in queryset for c in self.clusters_of(obj) if c.pk}
        super().delete_queryset(request, queryset)
        self._push_after_delete(request, cluster_ids)

    def _push_after_delete(self, request, cluster_ids: set[int]) -> None:
        # A deleted cluster has nothing left to send (the contract has no "deleted" message).
        sent = sum(
            services.push_cluster_metadata(cluster)
            for cluster in Cluster.objects.filter(pk__in=cluster_ids)
        )
        if sent:
            messages.info(request, f"Cluster metadata queued for {sent} partner(s).")


# ---------------------------------------------------------------------------------------------
# Content


class RoleplayInline(admin.StackedInline):
    model = Roleplay
    extra = 0
    fields = (("position", "roleplay_name", "total_time_minutes"), "roleplay_id", "scenario")
    readonly_fields = ("roleplay_id",)
    show_change_link = True


@admin.register(Cluster)
class ClusterAdmin(PushesClusterMetadata):
    form = IdentifiersForm
    list_display = (
        "cluster_id",
        "cluster_name",
        "cluster_type",
        "roleplay_count",
        "is_active",
        "updated_at",
    )
    list_filter = ("cluster_type", "is_active")
    search_fields = ("cluster_id", "cluster_name")
    readonly_fields = ("created_at", "updated_at")
    inlines = [RoleplayInline]

    def clusters_of(self, obj: Cluster) -> list[Cluster]:
        return [obj] if obj.pk else []

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(roleplay_total=Count("roleplays"))

    @admin.display(description="Roleplays", ordering="roleplay_total")
    def roleplay_count(self, obj: Cluster) -> int:
        return obj.roleplay_total

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # Partners know the cluster by its id: it is chosen once, when the cluster is created.
        if obj is not None:
            return (*self.readonly_fields, "cluster_id")
        return self.readonly_fields


class CompetencyForm(IdentifiersForm):
    class Meta:
        model = Competency
        fields = "__all__"

    def clean_norm_table(self) -> list:
        return self.cleaned_data.get("norm_table") or []

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean() returns
        kind = data.get("kind")
        if kind == Competency.Kind.PF16:
            # Its Likert items are edited below, in the same request: their count is unknown
            # here, so whether the table fits them is the file's check only.
            match norm_table_fault(data.get("norm_table"), None):
                case "size":
                    self.add_error(
                        "norm_table", f"A 16PF norm table is {NORM_CUTS} raw-score cut-offs."
                    )
                case "order":
                    self.add_error("norm_table", "The cut-offs must be in ascending order.")
        elif data.get("norm_table"):
            self.add_error("norm_table", "Only 16PF competencies have a norm table.")
        match max_score_fault(kind, data.get("max_score")) if "max_score" in data else None:
            case "sten":
                self.add_error("max_score", f"A 16PF trait is a sten: its max_score is {STEN_MAX}.")
            case "positive":
                self.add_error("max_score", "The most marks must be greater than 0.")
        return data


class CompetencyInline(admin.TabularInline):
    model = Competency
    form = CompetencyForm
    extra = 0
    fields = ("position", "code", "name", "kind", "max_score", "norm_table")
    show_change_link = True  # its Likert items are edited on its own page


class StakeholderInline(admin.StackedInline):
    model = Stakeholder
    extra = 0
    fields = (("position", "name", "role"), "brief")
    show_change_link = True  # its turns are edited on its own page


@admin.register(Roleplay)
class RoleplayAdmin(PushesClusterMetadata):
    form = IdentifiersForm
    list_display = ("roleplay_id", "roleplay_name", "cluster", "position", "total_time_minutes")
    list_filter = ("cluster",)
    search_fields = ("roleplay_id", "roleplay_name", "cluster__cluster_name")
    list_select_related = ("cluster",)
    inlines = [CompetencyInline, StakeholderInline]

    def clusters_of(self, obj: Roleplay) -> list[Cluster]:
        return [obj.cluster] if obj.cluster_id else []


class LikertItemInline(admin.TabularInline):
    model = LikertItem
    extra = 0
    fields = ("position", "statement", "reverse")


@admin.register(Competency)
class CompetencyAdmin(PushesClusterMetadata):
    form = CompetencyForm
    list_display = ("code", "name", "kind", "max_score", "roleplay")
    list_filter = ("kind", "roleplay__cluster")
    search_fields = ("code", "name", "roleplay__roleplay_name")
    list_select_related = ("roleplay",)
    inlines = [LikertItemInline]

    def clusters_of(self, obj: Competency) -> list[Cluster]:
        return [obj.roleplay.cluster] if obj.roleplay_id else []


class TurnForm(IdentifiersForm):
    class Meta:
        model = Turn
        fields = "__all__"

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        stakeholder = self.cleaned_data.get("stakeholder")  # absent in the inline
        stakeholder_id = stakeholder.pk if stakeholder else self.instance.stakeholder_id
        if stakeholder_id:
            # Options name their next turn by key: keys are unique in the whole roleplay.
            roleplay_id = Stakeholder.objects.filter(pk=stakeholder_id).values("roleplay_id")
            taken = Turn.objects.filter(key=key, stakeholder__roleplay_id__in=roleplay_id)
            taken = taken.exclude(stakeholder_id=stakeholder_id)
            if taken.exists():
                raise ValidationError(
                    "Another stakeholder of this roleplay has a turn with this key."
                )
        return key


class TurnInline(admin.StackedInline):
    model = Turn
    form = TurnForm
    extra = 0
    fields = (("position", "key"), "message")
    show_change_link = True  # its options are edited on its own page


@admin.register(Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "roleplay", "position")
    list_filter = ("roleplay__cluster",)
    search_fields = ("name", "role", "roleplay__roleplay_name")
    list_select_related = ("roleplay",)
    inlines = [TurnInline]


class OptionForm(forms.ModelForm):
    class Meta:
        model = Option
        fields = "__all__"

    def clean_marks(self) -> dict:
        marks = self.cleaned_data.get("marks") or {}
        if not isinstance(marks, dict):
            raise ValidationError('Marks are an object of competency code → number: {"CODE": 2}.')
        turn = self.instance.turn if self.instance.turn_id else None
        if turn is None:
            return marks
        scales = {
            c.code: (c.kind, c.max_score)
            for c in Competency.objects.filter(roleplay=turn.stakeholder.roleplay_id)
        }
        for code, value in marks.items():
            match mark_fault(code, value, scales):
                case "unknown":
                    known = ", ".join(scales) or "none yet"
                    raise ValidationError(
                        f"Unknown competency {code!r} (this roleplay has {known})."
                    )
                case "trait":
                    raise ValidationError(
                        f"{code} is a 16PF trait, measured by its Likert items only: no marks."
                    )
                case "range":
                    top = scales[code][1]
                    raise ValidationError(
                        f"The marks of {code} must be a number from -{top:g} to {top:g} (its "
                        "max_score)."
                    )
        return marks


class OptionInline(admin.StackedInline):
    model = Option
    form = OptionForm
    extra = 0
    fk_name = "turn"
    fields = (("position", "next_turn"), "text", "marks")

    def get_formset(self, request: HttpRequest, obj: Turn | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A conversation only continues with the same stakeholder, and never back to itself.
        field = formset.form.base_fields["next_turn"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Turn.objects.filter(stakeholder=obj.stakeholder_id).exclude(pk=obj.pk)
            if obj is not None
            else Turn.objects.none()
        )
        return formset


@admin.register(Turn)
class TurnAdmin(admin.ModelAdmin):
    form = TurnForm
    list_display = ("key", "stakeholder", "position", "message_start")
    list_filter = ("stakeholder__roleplay__cluster",)
    search_fields = ("key", "message", "stakeholder__name")
    list_select_related = ("stakeholder",)
    inlines = [OptionInline]

    @admin.display(description="Message")
    def message_start(self, obj: Turn) -> str:
        return obj.message[:80]


# ---------------------------------------------------------------------------------------------
# What candidates did: records, not content


class RoleplayAttemptInline(RecordInline):
    model = RoleplayAttempt
    fields = ("roleplay", "started_at", "deadline_at", "finished_at", "finished_by")


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user_id",
        "user_name",
        "cluster",
        "partner",
        "status",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "partner", "cluster")
    search_fields = ("user_id", "user_name", "cluster__cluster_id")
    list_select_related = ("cluster", "partner")
    date_hierarchy = "created_at"
    inlines = [RoleplayAttemptInline]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [field.name for field in Assessment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Partners are edited in portal/partners/admin.py; what giving one a cluster does is a roleplay
# matter (seed 000: it is sent the metadata of each cluster it may launch), added here so that
# partners import nothing of roleplays. Importing PartnerAdmin above has registered it.
admin.site.unregister(Partner)


@admin.register(Partner)
class RoleplayPartnerAdmin(PartnerAdmin):
    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        partner = form.instance
        before = set(partner.clusters.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        queued = partners.queue_metadata(partner, partner.clusters.exclude(pk__in=before))
        if queued:
            messages.info(request, f"Cluster metadata queued for {partner} ({queued} cluster(s)).")
