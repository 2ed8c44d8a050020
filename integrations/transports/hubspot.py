"""The HubSpot transport: upsert the contact by e-mail, create the deal once.

Every attempt of a sync (recorded by integrations.hubspot) runs the steps that are not done:

1. `POST /crm/v3/objects/contacts/batch/upsert` with `idProperty: "email"`: creates the
   contact or updates its properties. Idempotent by e-mail, so it runs on every attempt and
   replay (a resync pushes the properties again) and never makes a second contact.
2. Only for a qualified lead: `POST /crm/v3/objects/deals` with the deal's properties and its
   association to the contact (HUBSPOT_DEFINED, type 3: deal to contact). Creating is not
   idempotent, so the deal id goes into `Delivery.state` as soon as HubSpot answers, and a
   flag that a create was sent goes there just before it. If a create was sent but its id
   never recorded (the reply was lost, the worker died), the next attempt first searches deals
   (`POST /crm/v3/objects/deals/search`) by the deal's own unique property
   (settings.HUBSPOT_DEAL_ID_PROPERTY, default `ai_assessment_id`, the assessment's id) and
   adopts the deal it finds. The dealname is not unique (one person, several assessments).

Authorisation is a private-app token (settings.HUBSPOT_ACCESS_TOKEN, read at each attempt and
never stored in the outbox) as `Authorization: Bearer`. 401/403 make the delivery dead at once
(a wrong token or a missing scope doesn't fix itself; fix it and replay); other 4xx (a
property HubSpot doesn't know) too; 429 waits at least its Retry-After; 5xx, timeouts and
connection errors are retried on the outbox's schedule.
"""

import json
from typing import TypedDict

import httpx
from django.conf import settings

from integrations import http
from integrations.models import Delivery, JSONObject
from integrations.transports.base import (
    AttemptResult,
    Outcome,
    Transport,
    TransportError,
    retry_after_delay,
    save_state,
)
from portal.text import read_json

DEAL_TO_CONTACT = 3  # HUBSPOT_DEFINED association type: deal → contact
USER_AGENT = "AssessmentPortal-HubSpot/1.0"
CONTACTS_UPSERT = "/crm/v3/objects/contacts/batch/upsert"
DEALS = "/crm/v3/objects/deals"
DEALS_SEARCH = "/crm/v3/objects/deals/search"


class HubSpotTransport(Transport):
    """Contact upsert, then the deal once; progress in `delivery.state`."""

    done_status = "synced"

    def send(self, delivery: Delivery) -> AttemptResult:
        token = getattr(settings, "HUBSPOT_ACCESS_TOKEN", "")
        if not token:
            raise TransportError("HUBSPOT_ACCESS_TOKEN is not set", permanent=True)
        payload = json.loads(delivery.payload)
        api = _Api(delivery.target_url, token, delivery.allowed_hosts)
        state = delivery.state

        contact = payload["contact"]
        reply = api.call(
            "contact upsert",
            CONTACTS_UPSERT,
            {
                "inputs": [
                    {
                        "idProperty": "email",
                        "id": contact["email"],
                        "properties": contact["properties"],
                    }
                ]
            },
        )
        results = reply.get("results") or []
        contact_id = str(results[0].get("id") or "") if results else ""
        if not contact_id:
            raise TransportError("HubSpot contact upsert: no contact id in the reply")
        if state.get("contact_id") != contact_id:
            state["contact_id"] = contact_id
            save_state(delivery)

        deal = payload.get("deal")
        if deal and not state.get("deal_id"):
            deal_id = None
            if state.get("deal_requested"):
                # A create was sent before and its answer never recorded: it may exist.
                deal_id = api.find_deal(deal["id_property"], deal["properties"])
            if deal_id is None:
                state["deal_requested"] = True
                save_state(delivery)
                created = api.call(
                    "deal create",
                    DEALS,
                    {
                        "properties": deal["properties"],
                        "associations": [
                            {
                                "to": {"id": contact_id},
                                "types": [
                                    {
                                        "associationCategory": "HUBSPOT_DEFINED",
                                        "associationTypeId": DEAL_TO_CONTACT,
                                    }
                                ],
                            }
                        ],
                    },
                )
                deal_id = str(created.get("id") or "")
                if not deal_id:
                    raise TransportError("HubSpot deal create: no deal id in the reply")
            state["deal_id"] = deal_id
            save_state(delivery)

        summary = {key: state[key] for key in ("contact_id", "deal_id") if key in state}
        return AttemptResult(
            Outcome.DELIVERED, status_code=api.last_status, excerpt=json.dumps(summary)
        )


class _ReplyDetails(TypedDict):
    """What a TransportError keeps of a reply HubSpot refused."""

    status_code: int
    excerpt: str


class _Api:
    """The few HubSpot CRM v3 calls the sync makes, each judged into TransportError."""

    def __init__(self, base: str, token: str, allowed_hosts: list[str]) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.last_status: int | None = None

    def find_deal(self, id_property: str, properties: JSONObject) -> str | None:
        reply = self.call(
            "deal search",
            DEALS_SEARCH,
            {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": id_property,
                                "operator": "EQ",
                                "value": properties[id_property],
                            }
                        ]
                    }
                ],
                "properties": ["dealname", id_property],
                "limit": 1,
            },
        )
        results = reply.get("results") or []
        return str(results[0]["id"]) if results and results[0].get("id") else None

    def call(self, step: str, path: str, body: JSONObject) -> JSONObject:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        try:
            response = http.post(
                self.base + path,
                content=json.dumps(body, separators=(",", ":")).encode(),
                headers=headers,
                allowed_hosts=self.allowed_hosts,
            )
        except http.UnsafeURL as error:
            prefix = "Refused: " if error.permanent else ""
            raise TransportError(
                f"HubSpot {step}: {prefix}{error.message}", permanent=error.permanent
            ) from error
        except httpx.TimeoutException as error:
            raise TransportError(
                f"HubSpot {step}: timed out ({type(error).__name__}, "
                f"{settings.HTTP_TIMEOUT_SECONDS:g} s)"
            ) from error
        except httpx.HTTPError as error:
            raise TransportError(f"HubSpot {step}: {type(error).__name__}: {error}") from error
        self.last_status = code = response.status_code
        excerpt = response.body[:2048].decode("utf-8", "replace")
        if 200 <= code < 300:
            try:
                reply = read_json(response.body)
            except ValueError:
                reply = None
            if not isinstance(reply, dict):
                raise TransportError(
                    f"HubSpot {step}: HTTP {code} without a JSON object",
                    status_code=code,
                    excerpt=excerpt,
                )
            return reply
        message = f"HubSpot {step}: HTTP {code}"
        details: _ReplyDetails = {"status_code": code, "excerpt": excerpt}
        if code in (401, 403):
            raise TransportError(
                f"{message}: the access token was refused; check HUBSPOT_ACCESS_TOKEN and the"
                " private app's scopes (crm.objects.contacts.write, crm.objects.deals.write),"
                " then replay",
                permanent=True,
                **details,
            )
        if code in (429, 503):
            raise TransportError(
                message,
                retry_after=retry_after_delay(response.headers.get("retry-after")),
                **details,
            )
        if 400 <= code < 500 and code not in (408, 425):
            # HubSpot refused the request itself (e.g. a property it doesn't know): retrying
            # the same bytes can't help. Fix HubSpot or the payload, then replay.
            raise TransportError(
                f"{message}: {_hubspot_message(excerpt)}", permanent=True, **details
            )
        raise TransportError(message, **details)


def _hubspot_message(excerpt: str) -> str:
    try:
        reply = read_json(excerpt)
    except ValueError:
        return excerpt[:200]
    return str(reply.get("message", ""))[:500] if isinstance(reply, dict) else excerpt[:200]
