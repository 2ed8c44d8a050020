"""HubSpot CRM sync through the outbox: a lead's contact (and, qualified, its deal) recorded
as one delivery (transport "hubspot").

Without a private-app token (settings.HUBSPOT_ACCESS_TOKEN) nothing is enqueued and the
caller reports "skipped". The token is read at each attempt and never stored in the outbox.
The sending (contact upsert, the deal created once, which replies are permanent) is the
HubSpot transport's: integrations.transports.hubspot.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from integrations.deliveries import enqueue_delivery
from integrations.models import Delivery, JSONObject

DEFAULT_API_BASE = "https://api.hubapi.com"
LEAD_SOURCE = "AI Reality Check Scorecard"


def hubspot_configured() -> bool:
    """True when a HubSpot private-app token is set; otherwise syncs are "skipped"."""
    return bool(getattr(settings, "HUBSPOT_ACCESS_TOKEN", ""))


def api_base() -> str:
    return (getattr(settings, "HUBSPOT_API_BASE", "") or DEFAULT_API_BASE).rstrip("/")


def deal_id_property() -> str:
    return getattr(settings, "HUBSPOT_DEAL_ID_PROPERTY", "") or "ai_assessment_id"


def briefing_deal(
    *,
    contact_name: str,
    company: str,
    score: int,
    assessment_id: str,
    now: datetime | None = None,
) -> JSONObject:
    """The seed's deal for an executive-briefing-qualified lead (pass it as `deal`)."""
    closedate = (now or timezone.now()).date() + timedelta(days=30)
    name = f"AI Reality Check - {contact_name}"
    if company:
        name += f" ({company})"
    return {
        "properties": {
            "dealname": name,
            "dealstage": getattr(settings, "HUBSPOT_DEAL_STAGE", "executive_briefing_requested"),
            "amount": "5000",
            "pipeline": getattr(settings, "HUBSPOT_DEAL_PIPELINE", "ai_consulting_pipeline"),
            "closedate": closedate.isoformat(),
            "ai_assessment_score": score,
            deal_id_property(): assessment_id,
        }
    }


def enqueue_hubspot_sync(
    *, contact: JSONObject, deal: JSONObject | None = None, dedupe_key: str | None
) -> Delivery | None:
    """Record a HubSpot sync in the caller's transaction; None (nothing recorded) when HubSpot
    is not configured, which the caller reports as "skipped".

    `contact` is the seed's HubSpotSyncPayload: {"email": ..., "properties": {...}}
    (`lead_source` defaults to "AI Reality Check Scorecard"). `deal`, for a qualified lead,
    is {"properties": {...}} as `briefing_deal()` builds it; its properties must carry the
    unique HUBSPOT_DEAL_ID_PROPERTY. Property values are sent as strings; None is left out.
    """
    if not hubspot_configured():
        return None
    email = (contact.get("email") or "").strip()
    if not email or "@" not in email:
        raise ValueError("a HubSpot contact needs an e-mail address")
    properties = {"email": email, "lead_source": LEAD_SOURCE} | _strings(
        contact.get("properties") or {}
    )
    payload: JSONObject = {"contact": {"email": email, "properties": properties}, "deal": None}
    if deal is not None:
        deal_properties = _strings(deal.get("properties") or {})
        id_property = deal_id_property()
        if not deal_properties.get("dealname") or not deal_properties.get(id_property):
            raise ValueError(f"a HubSpot deal needs a dealname and its {id_property}")
        payload["deal"] = {"properties": deal_properties, "id_property": id_property}
    base = api_base()
    return enqueue_delivery(
        kind="hubspot_sync",
        transport=Delivery.Transport.HUBSPOT,
        target_url=base,
        payload=payload,
        # The HubSpot host is fixed: that host, and no other, may be sent to.
        allowed_hosts=[urlsplit(base).hostname or ""],
        require_success_flag=False,
        dedupe_key=dedupe_key,
    )


def _strings(properties: JSONObject) -> dict[str, str]:
    """HubSpot property values are strings: numbers and dates spelled out, None left out."""
    spelled = {}
    for name, value in properties.items():
        if value is None:
            continue
        if isinstance(value, bool):
            spelled[name] = "true" if value else "false"
        elif isinstance(value, date | datetime):
            spelled[name] = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            spelled[name] = str(int(value))
        elif isinstance(value, int | float | Decimal):
            spelled[name] = str(value)
        else:
            spelled[name] = str(value)
    return spelled
