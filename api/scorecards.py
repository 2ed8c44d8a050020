"""The AI Reality Check API (seed 002): start, save-progress, submit, results, resume, health.

Paths, camelCase fields and statuses are the seed's. Every error is the seed's envelope
{"error": {code, message, details, timestamp, requestId, retryAfter}}; limits follow its
table, with X-RateLimit-* headers. The visitor is known by the HttpOnly `assessment-session`
cookie (SameSite=Lax; Secure when PUBLIC_BASE_URL is https). Unsafe requests from another
site, or with a body that is not JSON, are refused first (portal.scorecards.origin).
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from annotated_types import MaxLen
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator, BaseModel

from api.answers import json_answer
from api.fields import EmailOrBlank, Int, Line, RequestModel, int_between, line, text
from integrations.models import Delivery
from portal import errors
from portal import health as portal_health
from portal.db import column_length
from portal.http import PortalRequest
from portal.scorecards import leads, limits, selectors, services, visitor
from portal.scorecards import results as stored_results
from portal.scorecards.models import (
    CONTACT_LENGTHS,
    FEEDBACK_LENGTH,
    Visit,  # the seed's assessment, by its assessmentId
    VisitorSession,
)
from portal.scorecards.models import Question as ScorecardQuestion
from portal.scorecards.origin import same_site_json
from portal.scorecards.results import iso
from portal.scorecards.services import COOKIE, ScorecardError, set_cookie

VERSION = "1.0.0"
router = Router(tags=["AI Reality Check scorecard (seed 002)"])
CONTRACT = errors.SCORECARD_CONTRACT


router.add_decorator(same_site_json, mode="view")


# --- schemas ----------------------------------------------------------------------------------


class ScorecardErrorBody(Schema):
    code: str = Field(..., examples=["VALIDATION_ERROR"])
    message: str
    details: Any = None
    timestamp: str
    requestId: str
    retryAfter: int | None = None


class ScorecardErrorOut(Schema):
    error: ScorecardErrorBody


# The bodies and answers of start, save-progress and submit (every request of a visitor's
# assessment) are plain pydantic models: a Ninja Schema reads each value through its attribute
# getter, which cost as much as the rest of the validation. The document and the JSON are the
# same; `Body` (RequestModel) keeps RequestSchema's rule and message (api/fields.py).


Body = RequestModel


class Viewport(Body):
    width: Int = Field(..., ge=0, le=100_000)
    height: Int = Field(..., ge=0, le=100_000)


class BrowserInfo(Body):
    userAgent: Annotated[str, line(max_length=column_length(VisitorSession, "user_agent"))] = ""
    viewport: Viewport | None = None


def checked_email(value: str | None) -> str | None:
    """An optional e-mail address, refused (422) unless it is exactly one address."""
    if value is None or not value.strip():
        return None
    try:
        validate_email(value.strip())
    except DjangoValidationError:
        raise ValueError("not a valid e-mail address") from None
    return value.strip()


VisitorEmail = Annotated[EmailOrBlank | None, AfterValidator(checked_email)]
Company = Annotated[str, line(max_length=column_length(Visit, "company"))]


class StartIn(Body):
    email: VisitorEmail = Field(None, examples=["ceo@company.com"])
    company: Company | None = Field(None, examples=["Acme Corp"])
    referrer: Annotated[str, line(max_length=column_length(Visit, "referrer"))] | None = None
    browserInfo: BrowserInfo | None = None


class StartOut(BaseModel):
    sessionId: str
    assessmentId: str
    currentStep: int = Field(
        ...,
        description="0-based step index: 0 for a new assessment; for the session's open one,"
        " the step it resumes at (as /resume says)",
    )
    totalSteps: int
    expiresAt: str
    resumeUrl: str


class Progress(BaseModel):
    completed: int
    total: int
    percentage: int


# Answers: question id → choice letter, as the content has them.
QuestionId = Annotated[str, line(min_length=1, max_length=column_length(ScorecardQuestion, "qid"))]
ChoiceLetter = Annotated[str, line(max_length=8)]
Answers = Annotated[dict[QuestionId, ChoiceLetter], MaxLen(200)]


class SaveIn(Body):
    step: Int = Field(..., ge=0, le=services.TOTAL_STEPS - 1, description="0-based step: 0..3")
    responses: Answers = Field(..., examples=[{"value_assurance_1": "A"}])
    email: VisitorEmail = None
    timeSpent: Annotated[int, int_between(0, 24 * 3600)] | None = None


class SaveOut(BaseModel):
    saved: bool
    currentStep: int
    nextStep: int | None
    canProceed: bool
    progress: Progress
    validationErrors: list[str] | None = None


class ContactInfo(Body):
    firstName: Annotated[str, line(max_length=CONTACT_LENGTHS["firstName"])] | None = None
    lastName: Annotated[str, line(max_length=CONTACT_LENGTHS["lastName"])] | None = None
    company: Company | None = None
    phone: Annotated[str, line(max_length=CONTACT_LENGTHS["phone"])] | None = None


class SubmitIn(Body):
    finalResponses: Answers | None = None
    completionTime: Int = Field(..., ge=0, le=7 * 24 * 3600, description="Total time in seconds")
    contactInfo: ContactInfo | None = None
    # Free text: tabs and line breaks are kept.
    feedback: Annotated[str, text(max_length=FEEDBACK_LENGTH)] | None = None


class RecommendationOut(BaseModel):
    category: str
    priority: str
    title: str
    description: str
    actionItems: list[str]


class SubmitOut(BaseModel):
    assessmentId: str
    completed: bool
    totalScore: int
    scoreBreakdown: dict[str, int]
    scoreCategory: str
    categoryDescription: str
    recommendations: list[RecommendationOut]
    resultsUrl: str
    hubspotSyncStatus: str = Field(..., examples=["pending"])
    emailDeliveryStatus: str = Field(..., examples=["sent"])
    qualifiedForBriefing: bool
    warnings: list[dict] | None = Field(
        None, description="HUBSPOT_SYNC_FAILED / EMAIL_DELIVERY_FAILED: non-critical, still 200."
    )


class QuestionResultOut(Schema):
    id: str
    question: str
    answer: str
    answerText: str
    points: int
    maxPoints: int


class SectionResultOut(Schema):
    score: int = Field(..., description="0-100")
    weight: float
    questions: list[QuestionResultOut]


class DetailedRecommendationOut(RecommendationOut):
    estimatedImpact: str
    timeToImplement: str


class BenchmarksOut(Schema):
    industryAverage: int | None = Field(None, description="Once there are enough assessments.")
    percentile: int | None = Field(None, description="Once there are enough assessments.")
    similarCompanies: int | None = None


class BriefingCtaOut(Schema):
    title: str
    description: str
    buttonText: str
    url: str


class ResourceOut(Schema):
    title: str
    description: str
    url: str
    type: str = Field(..., examples=["guide", "template", "checklist"])


class NextStepsOut(Schema):
    briefingCta: BriefingCtaOut | None = None
    resources: list[ResourceOut]


class ResultsOut(Schema):
    """The seed's AssessmentResultsResponse."""

    assessmentId: str
    completedAt: str
    totalScore: int
    scoreBreakdown: dict[str, SectionResultOut] = Field(
        ..., description="By section: valueAssurance, customerSafe, riskCompliance, governance."
    )
    scoreCategory: str
    categoryDescription: str
    recommendations: list[DetailedRecommendationOut]
    benchmarks: BenchmarksOut
    nextSteps: NextStepsOut


class ContactInfoOut(Schema):
    firstName: str | None = None
    lastName: str | None = None
    company: str | None = None
    phone: str | None = None


class ResumeProgressOut(Schema):
    completed: int
    percentage: int


class ResumeAssessmentOut(Schema):
    assessmentId: str
    currentStep: int = Field(..., description="0-based step index")
    totalSteps: int
    responses: dict[str, str]
    email: str | None = None
    contactInfo: ContactInfoOut | None = None
    progress: ResumeProgressOut
    startedAt: str
    timeElapsed: int
    timeRemaining: int
    resumeUrl: str


class ResumeOut(Schema):
    """The seed's ResumeAssessmentResponse."""

    hasActiveAssessment: bool
    assessment: ResumeAssessmentOut | None = None


class HealthServicesOut(Schema):
    database: Literal["up", "down", "slow"]
    hubspot: Literal["up", "down", "rate_limited"]
    email: Literal["up", "down", "degraded"]
    redis: Literal["up", "down"] | None = Field(None, description="When Huey runs on Redis.")
    queue: Literal["up", "down"] | None = Field(None, description="Huey's queue otherwise.")


class PerformanceOut(Schema):
    avgResponseTime: float = Field(..., description="Milliseconds.")
    requestsPerMinute: float
    errorRate: float = Field(..., description="Percent.")


class HealthOut(Schema):
    """The seed's HealthResponse."""

    status: Literal["healthy", "degraded", "unhealthy"]
    timestamp: str
    version: str
    uptime: int
    services: HealthServicesOut
    performance: PerformanceOut


# --- helpers ----------------------------------------------------------------------------------


def _results_path(visit: Visit) -> str:
    return f"/assessment/results/{visit.assessment_id}"


def submit_body(submitted: services.SubmitResult) -> dict:
    visit, result = submitted.visit, submitted.result  # the result stored at submit
    hubspot_status, email_status = leads.statuses(visit)
    body = {
        "assessmentId": visit.assessment_id,
        "completed": True,
        "totalScore": result["totalScore"],
        "scoreBreakdown": stored_results.breakdown(result),
        "scoreCategory": result["scoreCategory"],
        "categoryDescription": result["categoryDescription"],
        "recommendations": stored_results.recommendations(result, detailed=False),
        "resultsUrl": _results_path(visit),
        "hubspotSyncStatus": hubspot_status,
        "emailDeliveryStatus": email_status,
        "qualifiedForBriefing": result["qualifiedForBriefing"],
    }
    # The seed's non-critical errors: 200, with the failure named beside the result.
    warnings = [
        {"code": code, "message": message}
        for status, code, message in (
            (hubspot_status, "HUBSPOT_SYNC_FAILED", "Your details could not be sent to our CRM."),
            (email_status, "EMAIL_DELIVERY_FAILED", "The results e-mail could not be delivered."),
        )
        if status == "failed"
    ]
    if warnings:
        body["warnings"] = warnings
    return body


ERRORS = {
    400: ScorecardErrorOut,
    401: ScorecardErrorOut,
    403: ScorecardErrorOut,
    404: ScorecardErrorOut,
    415: ScorecardErrorOut,
    422: ScorecardErrorOut,
}
LIMITED = {429: ScorecardErrorOut, 503: ScorecardErrorOut}


# --- endpoints --------------------------------------------------------------------------------


@router.post("/assessment/start", response={200: StartOut, **ERRORS, **LIMITED})
@limits.START.rate_limit()
def start(request: PortalRequest, payload: StartIn):
    """Start an assessment (or resume the session's open one); sets the session cookie.
    At most 10 an hour per IP address."""
    session = visitor.open_session(request)
    visit = services.start(
        session=session,
        email=(payload.email or "").strip(),
        company=(payload.company or "").strip(),
        referrer=payload.referrer or "",
        browser_info=payload.browserInfo.model_dump() if payload.browserInfo else {},
    )
    response = json_answer(
        {
            "sessionId": session.session_id,
            "assessmentId": visit.assessment_id,
            "currentStep": services.resume_step(visit),
            "totalSteps": services.TOTAL_STEPS,
            "expiresAt": iso(session.expires_at),
            "resumeUrl": services.resume_path(visit),
        }
    )
    set_cookie(response, session.session_id)
    return response


@router.post(
    "/assessment/save-progress", response={200: SaveOut, **ERRORS, **LIMITED}, exclude_unset=True
)
def save_progress(request: PortalRequest, payload: SaveIn):
    """Save one step's answers (merged with what was saved before). An incomplete step is
    saved too and answered with canProceed false and the unanswered questions."""
    return saved_answer(request, payload)


@limits.SAVE.rate_limit()
def saved_answer(request: PortalRequest, payload: SaveIn) -> HttpResponse:
    """Save-progress once its body is valid, counted by its rate limit: for this operation and
    for its shortcut in front of Django Ninja (api/shortcuts.py)."""
    session = visitor.require_session(request)
    saved = services.save_progress(
        session=session,
        step=payload.step,
        responses=payload.responses,
        email=(payload.email or "").strip(),
        time_spent=payload.timeSpent,
    )
    completed = saved.visit.steps_completed
    next_step = saved.step + 1 if saved.step + 1 < services.TOTAL_STEPS else None
    body: dict[str, object] = {
        "saved": True,
        "currentStep": saved.step + 1 if saved.can_proceed else saved.step,
        "nextStep": next_step if saved.can_proceed else saved.step,
        "canProceed": saved.can_proceed,
        "progress": services.progress(completed),
    }
    if saved.missing:
        body["validationErrors"] = [f"{qid}: please choose an answer" for qid in saved.missing]
    return json_answer(body)


@router.post(
    "/assessment/submit", response={200: SubmitOut, **ERRORS, **LIMITED}, exclude_unset=True
)
@limits.SUBMIT.rate_limit()
def submit(request: PortalRequest, payload: SubmitIn):
    """Score the assessment, store it and queue the HubSpot sync and the results e-mail
    (statuses say where they stand). A second submit answers the same result."""
    session = visitor.require_session(request)
    submitted = services.submit(
        session=session,
        final_responses=payload.finalResponses,
        completion_time=payload.completionTime,
        contact=payload.contactInfo.model_dump() if payload.contactInfo else {},
        feedback=payload.feedback or "",
    )
    return json_answer(submit_body(submitted))


@router.get(
    "/assessment/results/{assessmentId}",
    response={200: ResultsOut, **ERRORS, **LIMITED},
    exclude_unset=True,
)
@limits.RESULTS.rate_limit()
def results(request: PortalRequest, assessmentId: Line):  # the seed's name
    """Detailed results of the session's own completed assessment (403 for another's)."""
    visit = Visit.objects.filter(assessment_id=assessmentId).first()
    session = visitor.current_session(request)
    if session is None:
        raise services.session_expired()
    if visit is None or not visit.is_completed:
        raise ScorecardError(
            "ASSESSMENT_NOT_FOUND", "No completed assessment has this id.", status=404
        )
    if visit.session_id != session.pk:
        raise ScorecardError("FORBIDDEN", "These results belong to another session.", status=403)
    return stored_results.results_body(visit)


@router.get(
    "/assessment/resume", response={200: ResumeOut, **ERRORS, **LIMITED}, exclude_unset=True
)
@limits.RESUME.rate_limit()
def resume(request: PortalRequest):
    """The session's open assessment, to continue where the visitor left off."""
    session = visitor.current_session(request)
    if session is None and request.COOKIES.get(COOKIE):
        raise services.session_expired()
    if session is None or (visit := services.take_open_visit(session)) is None:
        return {"hasActiveAssessment": False}
    elapsed = int((datetime.now(UTC) - visit.started_at).total_seconds())
    remaining = max(0, int((session.expires_at - datetime.now(UTC)).total_seconds()))
    assessment: dict[str, Any] = {
        "assessmentId": visit.assessment_id,
        "currentStep": services.resume_step(visit),
        "totalSteps": services.TOTAL_STEPS,
        "responses": visit.responses,
        "progress": {
            "completed": visit.steps_completed,
            "percentage": services.progress(visit.steps_completed)["percentage"],
        },
        "startedAt": iso(visit.started_at),
        "timeElapsed": elapsed,
        "timeRemaining": remaining,
        "resumeUrl": services.resume_path(visit),
    }
    if visit.email:
        assessment["email"] = visit.email
    if visit.contact_info:
        assessment["contactInfo"] = visit.contact_info
    return {"hasActiveAssessment": True, "assessment": assessment}


HEALTH_ANSWERS = {200: HealthOut, 503: HealthOut, 429: ScorecardErrorOut}


@router.get("/health", response=HEALTH_ANSWERS, exclude_unset=True)
# HEAD too (link checkers, uptime monitors): the same status and headers, and no body (the
# server drops it). Not in the OpenAPI document, which describes what GET answers.
@router.api_operation(
    ["HEAD"], "/health", response=HEALTH_ANSWERS, exclude_unset=True, include_in_schema=False
)
@limits.HEALTH.rate_limit()
def health(request: PortalRequest, response: HttpResponse):
    """Real checks (database, queue, HubSpot, e-mail) and rolling figures: `unhealthy` (503)
    when the database is down, `degraded` when the queue, HubSpot or e-mail is."""
    body = portal_health.status_report(version=VERSION)
    return Status(503 if body["status"] == "unhealthy" else 200, body)


# --- development only: /api/test/* ----------------------------------------------------------------
# Their own router, mounted only when DEBUG is on (api.main.build_api): in production the
# paths are the scorecard's 404 (portal.errors: /api/test/ is the scorecard's) and the OpenAPI
# document never names them.
test_router = Router(tags=["Development only"])
test_router.add_decorator(same_site_json, mode="view")


@test_router.get("/test/sample-assessment", include_in_schema=False)
def sample_assessment(request: PortalRequest):
    """Sample results for UI work: the active scorecard answered with middle answers."""
    scorecard = selectors.active_scorecard()
    if scorecard is None:
        raise ScorecardError("SERVICE_UNAVAILABLE", "No scorecard.", status=503)
    visit = Visit(
        assessment_id="assess_sample",
        scorecard=scorecard,
        responses={qid: "C" for qids in services.steps(scorecard) for qid in qids},
        email="sample@example.com",
        company="Sample Corp",
    )
    result = selectors.score_visit(scorecard, visit)
    return {
        "assessmentId": visit.assessment_id,
        "totalScore": result.total,
        "scoreBreakdown": result.breakdown,
        "scoreCategory": result.band.key,
        "categoryDescription": result.band.description,
        "recommendations": stored_results.build(scorecard, result)["recommendations"],
    }


@test_router.post("/test/simulate-hubspot-failure", include_in_schema=False)
def simulate_hubspot_failure(request: PortalRequest):
    """Mark this session's latest HubSpot sync as failed, to see how the UI reports it."""
    session = visitor.current_session(request)
    visit = Visit.objects.filter(session=session, hubspot_delivery__isnull=False).first()
    if session is None or visit is None:
        return {"simulated": False, "reason": "no HubSpot sync in this session"}
    delivery_id = cast(int, visit.hubspot_delivery_id)  # the filter above: it has one
    Delivery.objects.filter(pk=delivery_id).update(
        status="dead", last_error="Simulated HubSpot failure"
    )
    return {"simulated": True, "assessmentId": visit.assessment_id}


@test_router.get("/test/clear-session", include_in_schema=False)
def clear_session(request: PortalRequest, response: HttpResponse):
    """End the session on the server and forget its cookie, to start a fresh assessment."""
    visitor.end_session(request)
    services.delete_cookie(response)
    return {"cleared": True}
