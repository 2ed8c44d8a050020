"""The sandbox Q3: a roleplay partner that receives our webhooks and launches candidates,
exactly as seed 000 tells Q3 to — over real HTTP, with its own copy of the secrets."""

import secrets
import time
from contextlib import suppress

import httpx
import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations import http, signing
from portal.roleplays import schemas  # the published JSON Schemas of seed 000
from portal.sandbox.models import Q3Account, ReceivedWebhook
from portal.text import read_json

TOKEN_LIFETIME_SECONDS = 15 * 60


def mint_token(secret: str, *, user_id: str, cluster_id: str) -> str:
    """The launch JWT of the seed: HS256, user_id and assessment_cluster_id, 15 minutes, and a
    random `jti`: a token is accepted once, and without it two launches of one user in the
    same second (a double click) would mint the same token and the second be refused."""
    now = int(time.time())
    claims = {
        "user_id": user_id,
        "assessment_cluster_id": cluster_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _receive(request: HttpRequest, kind: str, reply) -> JsonResponse:
    """Verify the Standard Webhooks signature, validate against the published schema, store
    once per webhook-id, and answer as the seed says Q3 must."""
    account = Q3Account.current()
    if account is None or not signing.verify(account.webhook_secret, request.headers, request.body):
        return JsonResponse({"success": False, "detail": "Invalid webhook signature"}, status=401)
    webhook_id = request.headers.get("webhook-id", "")
    try:
        payload = read_json(request.body)
        schemas.validate(kind, payload)
    except (ValueError, UnicodeDecodeError) as error:
        ReceivedWebhook.objects.create(kind=kind, signature_valid=True, schema_error=str(error))
        return JsonResponse({"success": False, "detail": f"Invalid {kind}: {error}"}, status=400)
    # A retry of a message already processed (same webhook-id) is acknowledged again.
    with suppress(IntegrityError), transaction.atomic():
        ReceivedWebhook.objects.create(
            kind=kind, webhook_id=webhook_id, payload=payload, signature_valid=True
        )
    return JsonResponse(reply(payload))


@csrf_exempt
@require_POST
def receive_cluster_metadata(request: HttpRequest) -> JsonResponse:
    return _receive(
        request,
        "cluster_metadata_sync",
        lambda p: {
            "success": True,
            "cluster_id": p["cluster_id"],
            "message": "Cluster metadata received successfully",
        },
    )


@csrf_exempt
@require_POST
def receive_assessment_results(request: HttpRequest) -> JsonResponse:
    return _receive(
        request,
        "results_submission",
        lambda p: {
            "success": True,
            "user_id": p["user_id"],
            "cluster_id": p["cluster_id"],
            "message": "Results received successfully",
        },
    )


def _clusters() -> dict[str, dict]:
    """Clusters as Q3 knows them: from the metadata it received (latest first)."""
    known: dict[str, dict] = {}
    received = ReceivedWebhook.objects.filter(
        kind="cluster_metadata_sync", signature_valid=True, payload__isnull=False
    )
    for hook in received:
        if hook.payload is not None:  # filtered above; says so to the type checker
            known.setdefault(hook.payload["cluster_id"], hook.payload)
    return known


def known_clusters(account: Q3Account | None = None) -> list[dict]:
    """Q3's clusters, each named as its metadata named it (the id until metadata arrives)."""
    account = account or Q3Account.current()
    if account is None:
        return []
    metadata = _clusters()
    return [
        {
            "cluster_id": cluster_id,
            "cluster_name": metadata.get(cluster_id, {}).get("cluster_name") or cluster_id,
        }
        for cluster_id in account.cluster_ids
    ]


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    account = Q3Account.current()
    if account is None:
        return render(request, "sandbox/not_set_up.html", status=503)
    return render(
        request,
        "sandbox/q3_dashboard.html",
        {
            "account": account,
            "clusters": _clusters(),
            "results": ReceivedWebhook.objects.filter(kind="results_submission")[:10],
            "user_id": request.GET.get("user_id") or f"EMP_{secrets.randbelow(900) + 100}",
            "choices": known_clusters(account),
            "chosen": request.GET.get("cluster_id", ""),
        },
    )


@require_POST
def attempt(request: HttpRequest) -> HttpResponse:
    """ "Attempt assessment": mint the JWT, call the launch API, then POST-redirect the browser."""
    account = Q3Account.current()
    if account is None:
        return render(request, "sandbox/not_set_up.html", status=503)
    user_id = request.POST.get("user_id", "").strip()
    cluster_id = request.POST.get("cluster_id", "").strip()
    base = settings.PUBLIC_BASE_URL
    body = {
        "user_id": user_id,
        "user_name": request.POST.get("user_name", "").strip(),
        "assessment_cluster_id": cluster_id,
        "auth_token": mint_token(account.jwt_secret, user_id=user_id, cluster_id=cluster_id),
        "return_url": f"{base}{reverse('sandbox:q3_dashboard')}?user_id={user_id}",
        "results_url": f"{base}{reverse('sandbox:q3_results')}",
    }
    try:
        with http.client(base_url=base) as client:
            response = client.post("/api/integration/assessment-launch", json=body)
        reply = response.json()
    except (httpx.HTTPError, ValueError) as error:
        return render(request, "sandbox/exam_error.html", {"error": str(error)}, status=502)
    if response.status_code != 200 or not reply.get("success"):
        return render(
            request,
            "sandbox/exam_error.html",
            {
                "error": f"{reply.get('error_code')}: {reply.get('detail')}",
                "status": response.status_code,
            },
            status=400,
        )
    named = {c["cluster_id"]: c["cluster_name"] for c in known_clusters(account)}
    return render(
        request,
        "sandbox/q3_redirect.html",
        {
            "redirect_url": reply["redirect_url"],
            "cluster_id": cluster_id,
            "cluster_name": named.get(cluster_id, cluster_id),
        },
    )
