"""The sandbox exam customer: an intro page, "start exam", and a callback that checks the
signature. It calls the portal's API over real HTTP with its client token, like any customer."""

import hashlib
import hmac
import secrets

import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations import http
from portal.exams.services import CALLBACK_PARAMS
from portal.sandbox import q3
from portal.sandbox.models import ExamCustomerAccount

# The seed's callback parameters, as the exam service writes them.
RESULT_PARAMS = CALLBACK_PARAMS


def _api(account: ExamCustomerAccount) -> httpx.Client:
    return http.client(
        base_url=settings.PUBLIC_BASE_URL,
        headers={"X-Client-Token": account.client_token, "Accept-Language": "en"},
    )


def _not_set_up(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/not_set_up.html", status=503)


def verify_signature(params: dict[str, str], secret: str) -> bool:
    """What a customer writes to check a callback: 6 lines, standard library only."""
    signature = params.get("signature", "")
    # Only the nine result parameters are signed: callback_url may carry query params of its own.
    message = "&".join(f"{k}={params.get(k, '')}" for k in sorted(RESULT_PARAMS))
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, expected)


def _exams(account: ExamCustomerAccount) -> list[dict]:
    """The customer's exams as its own catalogue would list them: by title, asked of the API
    (`GET /api/integration/exams/{eurl}/`) like the intro page does. An exam the API doesn't
    describe (refused, unreachable) keeps only its number, and says why."""
    exams: list[dict] = []
    try:
        with _api(account) as api:
            for eurl in account.exam_eurls:
                response = api.get(f"/api/integration/exams/{eurl}/")
                if response.status_code == 200:
                    exams.append(response.json())
                else:
                    error = response.json().get("error") or f"HTTP {response.status_code}"
                    exams.append({"eurl": eurl, "error": error})
    except (httpx.HTTPError, ValueError) as error:
        described = {exam["eurl"] for exam in exams}
        exams += [
            {"eurl": eurl, "error": str(error) or type(error).__name__}
            for eurl in account.exam_eurls
            if eurl not in described
        ]
    return exams


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    account = ExamCustomerAccount.current()
    return render(
        request,
        "sandbox/index.html",
        {
            "account": account,
            "exams": _exams(account) if account else [],
            "clusters": q3.known_clusters(),
        },
    )


@require_GET
def exam_intro(request: HttpRequest, eurl: int) -> HttpResponse:
    account = ExamCustomerAccount.current()
    if account is None:
        return _not_set_up(request)
    try:
        with _api(account) as api:
            response = api.get(f"/api/integration/exams/{eurl}/")
    except httpx.HTTPError as error:
        return render(request, "sandbox/exam_error.html", {"error": str(error)}, status=502)
    if response.status_code != 200:
        return render(
            request,
            "sandbox/exam_error.html",
            {"error": response.json().get("error"), "status": response.status_code},
            status=response.status_code,
        )
    return render(
        request,
        "sandbox/exam_intro.html",
        {
            "exam": response.json(),
            "student_uuid": f"stu-{secrets.token_hex(4)}",
            "mobile": "09123456789",
        },
    )


@require_POST
def exam_start(request: HttpRequest, eurl: int) -> HttpResponse:
    """The customer's server launches the student, then sends the browser to exam_url."""
    account = ExamCustomerAccount.current()
    if account is None:
        return _not_set_up(request)
    body = {
        "student_uuid": request.POST.get("student_uuid", ""),
        "mobile": request.POST.get("mobile", ""),
        "eurl": eurl,
        "callback_url": settings.PUBLIC_BASE_URL + reverse("sandbox:exam_callback"),
    }
    try:
        with _api(account) as api:
            response = api.post("/api/integration/exams/launch/", json=body)
    except httpx.HTTPError as error:
        return render(request, "sandbox/exam_error.html", {"error": str(error)}, status=502)
    if response.status_code != 201:
        return render(
            request,
            "sandbox/exam_error.html",
            {"error": response.json().get("error"), "status": response.status_code},
            status=400,
        )
    return HttpResponseRedirect(response.json()["exam_url"])


@require_GET
def exam_callback(request: HttpRequest) -> HttpResponse:
    account = ExamCustomerAccount.current()
    if account is None:
        return _not_set_up(request)
    params = {key: request.GET.get(key, "") for key in request.GET}
    return render(
        request,
        "sandbox/exam_callback.html",
        {
            "params": [(key, params.get(key, "")) for key in RESULT_PARAMS],
            "signature_valid": verify_signature(params, account.signing_secret),
            "is_accept": params.get("is_accept") == "True",
        },
    )
