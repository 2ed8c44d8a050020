"""The roleplay contract (seed 000): a partner launches its user, the user's browser starts.

`assessment-launch` is called by the partner's server with a JSON body and answers JSON, in
DESIGN §4's error format. `assessment-start` is where the partner's page posts the user's
browser (a form post to redirect_url as it is): it answers a redirect or an HTML page.
"""

from typing import Annotated

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, Form, Query, Router, Schema

from api.fields import Line, RequestSchema, line
from portal import errors
from portal.db import column_length
from portal.roleplays import launch as roleplay_launch
from portal.roleplays.models import Assessment, Cluster
from portal.roleplays.services import SESSION_KEY

router = Router(tags=["Roleplay clusters (seed 000)"])
CONTRACT = errors.ROLEPLAY_CONTRACT


# --- schemas ----------------------------------------------------------------------------------


class LaunchErrorOut(Schema):
    success: bool = Field(False, examples=[False])
    error_code: str = Field(..., description=", ".join(roleplay_launch.ERROR_STATUS))
    detail: str = Field(..., examples=["auth_token has expired."])


class AssessmentLaunchIn(RequestSchema):
    # Every field is one line (api/fields.py): nothing legitimate holds a control character.
    # The partner's ids of the user and the cluster name someone and something: never blank.
    user_id: Annotated[
        str, line(min_length=1, max_length=column_length(Assessment, "user_id"), shown=True)
    ] = Field(..., examples=["EMP_789"])
    user_name: Annotated[str, line(max_length=column_length(Assessment, "user_name"))] = Field(
        ..., examples=["johndoe"]
    )
    assessment_cluster_id: Annotated[
        str, line(min_length=1, max_length=column_length(Cluster, "cluster_id"), shown=True)
    ] = Field(..., examples=["b4bf406c-4f9"])
    auth_token: Annotated[str, line(min_length=1, max_length=4096)] = Field(
        ...,
        description="HS256 JWT with user_id, assessment_cluster_id, iat and exp (≤ 15 min).",
    )
    return_url: Annotated[
        str, line(min_length=1, max_length=column_length(Assessment, "return_url"))
    ] = Field(
        ...,
        examples=["https://q3.example.com/dashboard"],
    )
    results_url: (
        Annotated[str, line(max_length=column_length(Assessment, "results_url"))] | None
    ) = Field(
        None,
        description="Where results are posted; omitted or empty: AIO_CALLBACK_URL, else "
        "Q3_BASE_URL + /api/receive-assessment-results.",
        examples=["https://q3.example.com/api/receive-assessment-results"],
    )


class AssessmentLaunchOut(Schema):
    success: bool = Field(True, examples=[True])
    user_id: str = Field(..., examples=["EMP_789"])
    assessment_cluster_id: str = Field(..., examples=["b4bf406c-4f9"])
    redirect_url: str = Field(
        ...,
        description="Absolute; holds a single-use ticket valid for 10 minutes. Post the "
        "user's browser to it as it is.",
        examples=["https://roleplays.example.com/api/integration/assessment-start?ticket=..."],
    )
    message: str = Field(..., examples=["User authenticated successfully"])


# --- endpoints --------------------------------------------------------------------------------

LAUNCH_ERRORS = dict.fromkeys(sorted(set(roleplay_launch.ERROR_STATUS.values())), LaunchErrorOut)
LAUNCH_RESPONSES = {
    status: {
        "description": "error_code: "
        + ", ".join(
            code
            for code, code_status in roleplay_launch.ERROR_STATUS.items()
            if code_status == status
        )
    }
    for status in LAUNCH_ERRORS
}

START_RESPONSES = {
    303: {"description": "The ticket is spent: on to the candidate's roleplay pages."},
    400: {
        "description": "HTML page: unknown ticket, or a cluster that is not the ticket's.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    410: {
        "description": "HTML page: the ticket is used or expired.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
}


@router.post(
    "/integration/assessment-launch",
    response={200: AssessmentLaunchOut, **LAUNCH_ERRORS},
    url_name="roleplay_assessment_launch",
    openapi_extra={"responses": LAUNCH_RESPONSES},
)
def assessment_launch(request: HttpRequest, payload: AssessmentLaunchIn) -> dict:
    """Authenticate a partner's user and return where to send their browser.

    Errors are `{"success": false, "error_code": ..., "detail": ...}`:

    - `INVALID_REQUEST` 422: a missing or malformed field, or a body that is not JSON.
    - `INVALID_TOKEN` 401: not a JWT, not HS256, a signature no partner's secret verifies, a
      missing `exp`/`iat`/`user_id`/`assessment_cluster_id` claim, `iat` in the future, or
      `exp` more than 15 minutes after `iat`.
    - `TOKEN_EXPIRED` 401: `exp` has passed (30 seconds of leeway).
    - `TOKEN_REPLAYED` 401: this token was already accepted; mint one per launch.
    - `CLAIMS_MISMATCH` 403: the token's `user_id` or `assessment_cluster_id` is not the body's.
    - `CLUSTER_NOT_FOUND` 404: no active cluster has this id.
    - `CLUSTER_NOT_ALLOWED` 403: the cluster is not open to your partner account.
    - `URL_NOT_ALLOWED` 400: `return_url` or `results_url` is not http(s) on one of your
      hosts, or its host resolves to a private, loopback or link-local address.

    A refused launch creates nothing and does not spend the token.
    """
    launched = roleplay_launch.assessment_launch(
        user_id=payload.user_id,
        user_name=payload.user_name,
        assessment_cluster_id=payload.assessment_cluster_id,
        auth_token=payload.auth_token,
        return_url=payload.return_url,
        results_url=payload.results_url,
    )
    return {
        "success": True,
        "user_id": payload.user_id,
        "assessment_cluster_id": payload.assessment_cluster_id,
        "redirect_url": launched.redirect_url,
        "message": "User authenticated successfully",
    }


@router.post(
    "/integration/assessment-start",
    response={303: None, 400: None, 410: None},
    url_name="roleplay_assessment_start",
    openapi_extra={"responses": START_RESPONSES},
)
@csrf_exempt  # posted from the partner's site: the single-use ticket is the protection
def assessment_start(
    request: HttpRequest,
    ticket: Query[Line] = "",
    assessment_cluster_id: Form[Line] = "",
) -> HttpResponse:
    """The user's browser, posted by the partner's page to redirect_url as it is.

    A form post (`application/x-www-form-urlencoded`) with `assessment_cluster_id`; the
    ticket is in redirect_url's query string. A valid ticket is spent and the browser is
    sent (303) to the roleplay pages; otherwise it gets an HTML page asking the user to
    launch again from the partner's site.
    """
    try:
        assessment = roleplay_launch.assessment_start(
            ticket=ticket, assessment_cluster_id=assessment_cluster_id
        )
    except roleplay_launch.TicketError as error:
        response = render(
            request,
            "roleplay/launch_error.html",
            {"reason": error.reason},
            status=error.status,
        )
    else:
        # A new session key: whoever knew the old one (fixation) gets nothing of this.
        request.session.cycle_key()
        request.session[SESSION_KEY] = assessment.pk
        response = HttpResponseRedirect(reverse("roleplays:overview"), status=303)
    add_never_cache_headers(response)
    return response
