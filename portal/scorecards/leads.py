"""A submitted scorecard's lead: the HubSpot contact (and deal when qualified) and the results
e-mail, both queued in the outbox inside the submit transaction."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations import deliveries, email, hubspot
from portal.scorecards.models import Visit
from scoring import scorecard as scoring


def contact_properties(visit: Visit, result: scoring.ScorecardResult) -> dict:
    """The seed's HubSpotSyncPayload properties."""
    contact = visit.contact_info
    by_key = {section.key: section.score for section in result.sections}
    return {
        "firstname": contact.get("firstName"),
        "lastname": contact.get("lastName"),
        "company": visit.company or contact.get("company"),
        "phone": contact.get("phone"),
        "ai_assessment_score": result.total,
        "ai_assessment_category": result.band.key,
        "ai_value_score": by_key.get("value_assurance"),
        "ai_customer_score": by_key.get("customer_safe"),
        "ai_risk_score": by_key.get("risk_compliance"),
        "ai_governance_score": by_key.get("governance"),
        "ai_assessment_date": timezone.localdate(visit.completed_at).isoformat(),
        "ai_completion_time": visit.completion_time,
        "ai_lead_quality": result.lead_quality,
        "lead_source": hubspot.LEAD_SOURCE,
    }


def queue(visit: Visit, result: scoring.ScorecardResult) -> None:
    """Queue what the visit's e-mail address calls for; nothing without one."""
    if not scoring.has_email(scoring.Contact(email=visit.email)):
        return
    contact = visit.contact_info
    deal = None
    if result.qualified_for_briefing:
        name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
        deal = hubspot.briefing_deal(
            contact_name=name or visit.email,
            company=visit.company,
            score=result.total,
            assessment_id=visit.assessment_id,
        )
    visit.hubspot_delivery = hubspot.enqueue_hubspot_sync(
        contact={"email": visit.email, "properties": contact_properties(visit, result)},
        deal=deal,
        dedupe_key=f"scorecard-hubspot:{visit.assessment_id}",
    )
    names = dict(visit.scorecard.sections.values_list("key", "name"))
    context = {
        "visit": visit,
        "result": result,
        "sections": [(names.get(s.key, s.key), s.score) for s in result.sections],
        "results_url": results_url(visit),
    }
    visit.email_delivery = email.enqueue_email(
        to=visit.email,
        subject=f"Your AI Reality Check score: {result.total}/100",
        text=render_to_string("emails/scorecard_results.txt", context),
        html=render_to_string("emails/scorecard_results.html", context),
        dedupe_key=f"scorecard-email:{visit.assessment_id}",
    )
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
