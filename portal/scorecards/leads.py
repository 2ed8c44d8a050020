"""A submitted scorecard's lead: the HubSpot contact (and deal when qualified) and the results
e-mail, both queued in the outbox inside the submit transaction; and the staff's re-sync and
re-send of them, one lead or a set, each written to the audit log."""

from collections import Counter
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations import deliveries, email, hubspot
from integrations.models import Delivery
from portal import outbox
from portal.audit import log
from portal.scorecards import results
from portal.scorecards.models import Visit
from scoring import scorecard as scoring

CHUNK = 200


def contact_properties(visit: Visit) -> dict:
    """The seed's HubSpotSyncPayload properties, from the visit's stored result."""
    contact = visit.contact_info
    result = results.stored(visit)
    by_key = results.scores_by_key(result)
    return {
        "firstname": contact.get("firstName"),
        "lastname": contact.get("lastName"),
        # The visit's company is the latest given (services.submit): the deal's, the score's.
        "company": visit.company or None,
        "phone": contact.get("phone"),
        "ai_assessment_score": result["totalScore"],
        "ai_assessment_category": result["scoreCategory"],
        "ai_value_score": by_key.get("value_assurance"),
        "ai_customer_score": by_key.get("customer_safe"),
        "ai_risk_score": by_key.get("risk_compliance"),
        "ai_governance_score": by_key.get("governance"),
        "ai_assessment_date": timezone.localdate(visit.completed_at).isoformat(),
        "ai_completion_time": visit.completion_time,
        "ai_lead_quality": result["leadQuality"],
        "lead_source": hubspot.LEAD_SOURCE,
    }


def has_email(visit: Visit) -> bool:
    return scoring.has_email(scoring.Contact(email=visit.email))


def hubspot_dedupe_key(visit: Visit) -> str:
    return f"scorecard-hubspot:{visit.assessment_id}"


def email_dedupe_key(visit: Visit) -> str:
    return f"scorecard-email:{visit.assessment_id}"


def hubspot_sync(visit: Visit) -> Delivery | None:
    """Record the visit's HubSpot sync (the contact, and the briefing deal when qualified) in
    the caller's transaction; None when HubSpot is not configured ("skipped")."""
    contact = visit.contact_info
    result = results.stored(visit)
    deal = None
    if result["qualifiedForBriefing"]:
        name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
        deal = hubspot.briefing_deal(
            contact_name=name or visit.email,
            company=visit.company,
            score=result["totalScore"],
            assessment_id=visit.assessment_id,
        )
    return hubspot.enqueue_hubspot_sync(
        contact={"email": visit.email, "properties": contact_properties(visit)},
        deal=deal,
        dedupe_key=hubspot_dedupe_key(visit),
    )


def results_email(visit: Visit) -> Delivery:
    """Record the visit's results e-mail, from its stored result, in the caller's
    transaction."""
    result = results.stored(visit)
    context = {
        "visit": visit,
        "total": result["totalScore"],
        "category_name": result["categoryName"],
        "category_description": result["categoryDescription"],
        "sections": [(section["name"], section["score"]) for section in result["sections"]],
        "recommendations": result["recommendations"][:3],
        "results_url": results_url(visit),
    }
    return email.enqueue_email(
        to=visit.email,
        subject=f"Your AI Reality Check score: {result['totalScore']}/100",
        text=render_to_string("emails/scorecard_results.txt", context),
        html=render_to_string("emails/scorecard_results.html", context),
        dedupe_key=email_dedupe_key(visit),
    )


def queue(visit: Visit) -> None:
    """Queue what the visit's e-mail address calls for; nothing without one."""
    if not has_email(visit):
        return
    visit.hubspot_delivery = hubspot_sync(visit)
    visit.email_delivery = results_email(visit)
    Visit.objects.filter(pk=visit.pk).update(
        hubspot_delivery=visit.hubspot_delivery, email_delivery=visit.email_delivery
    )


def results_url(visit: Visit) -> str:
    """The e-mail's link: the share page (total, bands, chart), which opens in any browser;
    the full results page is the owner's session's only."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('scorecards:shared', args=[visit.share_token])}"


def statuses(visit: Visit) -> tuple[str, str]:
    """(hubspotSyncStatus, emailDeliveryStatus), as the deliveries stand now."""
    return (
        deliveries.delivery_status(visit.hubspot_delivery),
        deliveries.delivery_status(visit.email_delivery),
    )


# ---------------------------------------------------------------------------------------------
# Staff: re-sync to HubSpot, re-send the results e-mail


class LeadOutcome(StrEnum):
    """What a re-sync or re-send of one lead came to."""

    SENT = "sent"  # its delivery is being sent (again) now
    CREATED = "created"  # it had none (HubSpot was not configured at submit time): made now
    BUSY = "busy"  # a worker is sending its delivery at this very moment; nothing changed
    NO_EMAIL = "no_email"  # the visitor left no e-mail address: nothing to sync or send
    NOT_CONFIGURED = "not_configured"  # HubSpot is not configured now (no access token)


HUBSPOT = "hubspot"
EMAIL = "email"
_FIELDS = {HUBSPOT: "hubspot_delivery", EMAIL: "email_delivery"}
_ACTIONS = {HUBSPOT: "lead.resync_hubspot", EMAIL: "lead.resend_email"}


def lead_label(visit: Visit) -> str:
    """How the audit log names a lead: its e-mail address and assessment id."""
    return f"{visit.email or '—'} ({visit.assessment_id})"


def lead_resync_hubspot(*, visit: Visit, actor) -> str:
    """Sync a completed visit's lead to HubSpot now: its sync sent now (a delivered or failed
    one again, keeping the contact and deal ids, so HubSpot gets no second deal), or, when it
    has none because HubSpot was not configured when they submitted, one created now."""
    return _resend(visit, actor, HUBSPOT)


def lead_resend_email(*, visit: Visit, actor) -> str:
    """Send a completed visit's results e-mail now: again if it was sent or failed, at once if
    it is waiting to retry, or created if it has none."""
    return _resend(visit, actor, EMAIL)


def leads_resync_hubspot(*, queryset: QuerySet[Visit], actor) -> Counter[str]:
    """lead_resync_hubspot() for each completed visit of a (filtered) set: counts by outcome."""
    return _resend_all(queryset, actor, HUBSPOT)


def leads_resend_email(*, queryset: QuerySet[Visit], actor) -> Counter[str]:
    """lead_resend_email() for each completed visit of a (filtered) set: counts by outcome."""
    return _resend_all(queryset, actor, EMAIL)


def _resend_all(queryset: QuerySet[Visit], actor, channel: str) -> Counter[str]:
    # The ids first: sending changes the statuses a filter may be on, so the set is fixed
    # before the first lead is touched.
    pks = list(queryset.filter(completed_at__isnull=False).values_list("pk", flat=True))
    counts: Counter[str] = Counter()
    for start in range(0, len(pks), CHUNK):
        chunk = Visit.objects.filter(pk__in=pks[start : start + CHUNK]).select_related(
            _FIELDS[channel]
        )
        for visit in chunk.order_by("pk"):
            counts[_resend(visit, actor, channel)] += 1
    return counts


def _resend(visit: Visit, actor, channel: str) -> str:
    if visit.completed_at is None:
        raise ValueError("only a completed visit is a lead")
    if not has_email(visit):
        return LeadOutcome.NO_EMAIL
    if channel == HUBSPOT and not hubspot.hubspot_configured():
        # Sending would only make the delivery dead with "no token": say so instead.
        return LeadOutcome.NOT_CONFIGURED
    delivery = getattr(visit, _FIELDS[channel])
    if delivery is not None:
        return _send_now(delivery, actor)
    return _create(visit, actor, channel)


def _send_now(delivery: Delivery, actor) -> str:
    sent = outbox.delivery_send_now(delivery=delivery, actor=actor)
    return LeadOutcome.SENT if sent else LeadOutcome.BUSY


def _create(visit: Visit, actor, channel: str) -> str:
    """The delivery submit would have made, made now the way queue() makes it, from the
    visit's stored result."""
    field = _FIELDS[channel]
    with transaction.atomic():
        # Only the visit's row is locked: its deliveries are joined outside the lock.
        locked = (
            Visit.objects.select_for_update(of=("self",)).select_related(field).get(pk=visit.pk)
        )
        existing = getattr(locked, field)
        if existing is not None:
            # Another operator made it while we looked: send that one.
            setattr(visit, field, existing)
            return _send_now(existing, actor)
        delivery = hubspot_sync(locked) if channel == HUBSPOT else results_email(locked)
        if delivery is None:  # the token was removed a moment ago
            return LeadOutcome.NOT_CONFIGURED
        Visit.objects.filter(pk=locked.pk).update(**{field: delivery})
        log.record(
            actor=actor,
            action=_ACTIONS[channel],
            target=locked,
            target_label=lead_label(locked),
            before={f"{channel}_status": "skipped", field: None},
            after={f"{channel}_status": deliveries.delivery_status(delivery), field: delivery.pk},
        )
    setattr(visit, field, delivery)
    if delivery.status != Delivery.Status.PENDING:
        # A delivery recorded under this lead's key before, but no longer linked to it.
        return _send_now(delivery, actor)
    return LeadOutcome.CREATED
