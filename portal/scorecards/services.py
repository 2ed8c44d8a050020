"""The only code that changes a scorecard visit: sessions, start, save a step, submit (score,
lead sync and e-mail through the outbox). The API and the visitor's pages both call it."""

import json
import logging
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.http import HttpResponseBase
from django.utils import timezone

from portal.db import Columns, column_length
from portal.scorecards import leads, results, rows, selectors
from portal.scorecards.models import Scorecard, Visit, VisitorSession
from portal.text import normalize_digits

logger = logging.getLogger(__name__)

COOKIE = "assessment-session"
SESSION_LIFETIME = timedelta(hours=24)
SESSION_REFRESH = timedelta(minutes=1)  # activity moves the expiry at most this often
LETTERS = ("A", "B", "C", "D", "E")
TOTAL_STEPS = 4


class ScorecardError(Exception):
    """A refusal in the seed's error codes (SESSION_EXPIRED, VALIDATION_ERROR, ...)."""

    def __init__(self, code: str, message: str, *, status: int, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details


def session_expired() -> ScorecardError:
    """The refusal of a request whose cookie names no live session."""
    return ScorecardError(
        "SESSION_EXPIRED", "Your session has expired or is not valid.", status=401
    )


# ---------------------------------------------------------------------------------------------
# Sessions


def set_cookie(response: HttpResponseBase, session_id: str) -> None:
    """The seed's cookie: HttpOnly, SameSite=Lax, 24 hours, path /; Secure when the portal is
    served over https (SCORECARD_COOKIE_SECURE follows PUBLIC_BASE_URL's scheme, as the
    session and CSRF cookies do), on SCORECARD_COOKIE_DOMAIN when set (the seed's `domain`)."""
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SCORECARD_COOKIE_SECURE,
        domain=settings.SCORECARD_COOKIE_DOMAIN,
        path="/",
    )


def delete_cookie(response: HttpResponseBase) -> None:
    """Tell the browser to forget the cookie (same path and domain, or it would keep it)."""
    response.delete_cookie(
        COOKIE, path="/", domain=settings.SCORECARD_COOKIE_DOMAIN, samesite="Lax"
    )


# The statements of the session reads are written by hand (portal.scorecards.rows): building
# them with the ORM cost more than running them. Reading the cookie once per request is
# portal.scorecards.visitor's work; these take the plain session id.
_UNREAD = object()


def live_session(session_id: str, *, with_visit: bool = False) -> VisitorSession | None:
    """The live session `session_id` (the cookie's value) names, with no side effects;
    `with_visit` reads its open visit (or None) and that visit's version row with it, kept
    for take_open_visit: all that save-progress needs."""
    if not session_id:
        return None
    now = timezone.now()
    if not with_visit:
        return _session_by_cookie(session_id, now)
    visit = _open_visit_by_cookie(session_id, now)
    if visit is not None:
        session = visit.session
        session._open_visit = visit
        return session
    found = _session_by_cookie(session_id, now)
    if found is not None:
        found._open_visit = None
    return found


def _connection(model, *, write: bool = False):
    return connections[router.db_for_write(model) if write else router.db_for_read(model)]


def _moment(now, connection) -> Any:
    return VisitorSession._meta.get_field("expires_at").get_db_prep_value(now, connection)


_SQL: dict[tuple[str, str], tuple] = {}


def _prepared(kind: str, connection, make) -> tuple:
    """The statement `kind` for `connection`'s database, written by `make` once per process."""
    prepared = _SQL.get((kind, connection.alias))
    if prepared is None:
        prepared = _SQL[(kind, connection.alias)] = make(connection, connection.ops.quote_name)
    return prepared


def _session_sql(connection, name) -> tuple:
    columns = Columns(VisitorSession, None, connection)
    sql = (
        f"SELECT {columns.sql} FROM {name(VisitorSession._meta.db_table)} "
        f"WHERE {name('session_id')} = %s AND {name('expires_at')} > %s LIMIT 1"
    )
    return sql, columns


def _session_by_cookie(session_id: str, now) -> VisitorSession | None:
    """The live session `session_id`, or None."""
    connection = _connection(VisitorSession)
    sql, columns = _prepared("session", connection, _session_sql)
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, [session_id, _moment(now, connection)])
        row = cursor.fetchone()
    return None if row is None else columns.build(connection, row)


# What save-progress reads of the open visit (the rest is deferred: loaded if ever used).
SAVE_FIELDS = (
    "assessment_id",
    "scorecard_id",
    "session_id",
    "email",
    "responses",
    "steps_completed",
    "time_spent",
    "completed_at",
)


def _open_visit_sql(connection, name) -> tuple:
    visit, session, scorecard = (
        Columns(Visit, "v", connection, only=SAVE_FIELDS),
        Columns(VisitorSession, "s", connection),
        Columns(Scorecard, "c", connection),
    )
    sql = (
        f"SELECT {visit.sql}, {session.sql}, {scorecard.sql} "
        f"FROM {name(Visit._meta.db_table)} v "
        f"JOIN {name(VisitorSession._meta.db_table)} s ON v.{name('session_id')} = s.id "
        f"JOIN {name(Scorecard._meta.db_table)} c ON v.{name('scorecard_id')} = c.id "
        f"WHERE s.{name('session_id')} = %s AND s.{name('expires_at')} > %s "
        f"AND v.{name('completed_at')} IS NULL LIMIT 1"
    )
    return sql, visit, session, scorecard


def _open_visit_by_cookie(session_id: str, now) -> Visit | None:
    """The open visit of the live session `session_id` (what save-progress reads of it), its
    session and version row joined: the query every save-progress starts with."""
    connection = _connection(Visit)
    sql, visit_columns, session_columns, scorecard_columns = _prepared(
        "open visit", connection, _open_visit_sql
    )
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, [session_id, _moment(now, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    first, second = visit_columns.count, visit_columns.count + session_columns.count
    visit = visit_columns.build(connection, row[:first])
    visit.session = session_columns.build(connection, row[first:second])
    visit.scorecard = selectors.content_of_row(scorecard_columns, connection, row[second:])
    return visit


def take_open_visit(session: VisitorSession) -> Visit | None:
    """The session's open visit (its version row joined): as read with the session in this
    request, else read now. Taken once: after a change, read it again."""
    visit = session.__dict__.pop("_open_visit", _UNREAD)
    if visit is _UNREAD:
        visit = (
            Visit.objects.filter(session=session, completed_at__isnull=True)
            .select_related("scorecard")
            .order_by()
            .first()
        )
    return visit


def open_visit(session: VisitorSession) -> Visit | None:
    """The session's open visit as take_open_visit gives it, left for the save that follows
    (a page checks the step the visitor has reached before it saves): no second read."""
    visit = take_open_visit(session)
    session._open_visit = visit
    return visit


# What a session and a visit keep of the browser's User-Agent and the referrer: their columns.
USER_AGENT_LENGTH = column_length(VisitorSession, "user_agent")
REFERRER_LENGTH = column_length(Visit, "referrer")


def keep_alive(session: VisitorSession) -> None:
    """Extend a session read in this request by this activity, when that moves its expiry by
    a minute or more: a visitor acts several times a minute, and on SQLite each write is a
    commit on the database's one write lock (and makes every other connection read its pages
    again). The 24 hours then run from at most a minute before the latest activity."""
    now = timezone.now()
    if session.expires_at <= now + SESSION_LIFETIME - SESSION_REFRESH:
        session.last_activity, session.expires_at = now, now + SESSION_LIFETIME
        _extend(session, now)


def _extend_by_pk_sql(connection, name) -> tuple:
    sql = (
        f"UPDATE {name(VisitorSession._meta.db_table)} SET {name('last_activity')} = %s, "
        f"{name('expires_at')} = %s WHERE {name('id')} = %s AND {name('expires_at')} > %s"
    )
    return (sql,)


def _extend(session: VisitorSession, now) -> None:
    """Store the session's new last_activity and expires_at, unless it has ended since it was
    read (end_session): activity never brings an ended session back."""
    connection = _connection(VisitorSession, write=True)
    (sql,) = _prepared("extend by pk", connection, _extend_by_pk_sql)
    field = partial(rows.column_field, VisitorSession)
    params = [
        field("last_activity").get_db_prep_value(session.last_activity, connection),
        field("expires_at").get_db_prep_value(session.expires_at, connection),
        session.pk,
        _moment(now, connection),
    ]
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, params)


def create_session(*, ip_address: str | None, user_agent: str) -> VisitorSession:
    """A new session of a visitor at `ip_address` (the caller sets the cookie)."""
    now = timezone.now()
    session = VisitorSession(
        expires_at=now + SESSION_LIFETIME,
        last_activity=now,
        ip_address=ip_address,
        user_agent=user_agent[:USER_AGENT_LENGTH],
    )
    rows.insert(session, _connection(VisitorSession, write=True))
    session._open_visit = None  # a new session has no visit yet
    return session


def end_session(session_id: str) -> bool:
    """End the session `session_id` names on the server: the cookie, if a client keeps or
    replays it, no longer opens anything. Its visits stay (a completed one is a lead). True if
    one ended."""
    if not session_id:
        return False
    now = timezone.now()
    ended = VisitorSession.objects.filter(session_id=session_id, expires_at__gt=now).update(
        expires_at=now, last_activity=now
    )
    return ended > 0


# ---------------------------------------------------------------------------------------------
# Content helpers


def scorecard_or_error() -> Scorecard:
    scorecard = selectors.active_scorecard()
    if scorecard is None:
        raise ScorecardError("SERVICE_UNAVAILABLE", "The scorecard is not set up yet.", status=503)
    return scorecard


def steps(scorecard: Scorecard) -> list[list[str]] | tuple[tuple[str, ...], ...]:
    """Question ids per step, in order (step n is section n)."""
    if (known := scorecard.__dict__.get("content_steps")) is not None:  # content in memory
        return known
    return [[q.qid for q in section.questions.all()] for section in scorecard.sections.all()]


def _own_statement():
    """A savepoint inside a caller's transaction, so that a failed statement (an IntegrityError
    we handle) does not break it; nothing in autocommit, where each statement is its own."""
    return transaction.atomic() if connections["default"].in_atomic_block else nullcontext()


def _validate_answers(scorecard: Scorecard, answers: Any, *, field: str, step: int | None):
    if not isinstance(answers, dict):
        raise ScorecardError(
            "VALIDATION_ERROR", "Responses must be an object.", status=422, details={"field": field}
        )
    allowed = (
        set(steps(scorecard)[step])
        if step is not None
        else {q for s in steps(scorecard) for q in s}
    )
    for qid, letter in answers.items():
        if qid not in allowed:
            raise ScorecardError(
                "VALIDATION_ERROR",
                f"Unknown question {qid!r}" + (f" for step {step}." if step is not None else "."),
                status=422,
                details={"field": f"{field}.{qid}", "reason": "Unknown question"},
            )
        if letter not in LETTERS:
            raise ScorecardError(
                "VALIDATION_ERROR",
                "Invalid responses format",
                status=422,
                details={
                    "field": f"{field}.{qid}",
                    "reason": f"Answer choice {letter!r} is not valid",
                    "validChoices": list(LETTERS),
                },
            )
    return answers


def completed_steps(scorecard: Scorecard, responses: dict[str, str]) -> int:
    """Leading steps whose every question is answered."""
    done = 0
    for qids in steps(scorecard):
        if not all(qid in responses for qid in qids):
            break
        done += 1
    return done


def progress(completed: int) -> dict:
    return {
        "completed": completed,
        "total": TOTAL_STEPS,
        "percentage": round(completed / TOTAL_STEPS * 100),
    }


def resume_step(visit: Visit) -> int:
    """The step (0-based) a returning visitor resumes at: the first not completed, or the last
    once all are (the contact details follow it)."""
    return min(visit.steps_completed, TOTAL_STEPS - 1)


def resume_path(visit: Visit) -> str:
    return f"/assessment/step/{resume_step(visit) + 1}"


# ---------------------------------------------------------------------------------------------
# Start, save, submit


def start(
    *,
    session: VisitorSession,
    email: str = "",
    company: str = "",
    referrer: str = "",
    browser_info: dict | None = None,
) -> Visit:
    """A new assessment for the session, or its open one (a double click resumes it)."""
    open_visit = take_open_visit(session)
    if open_visit is None:
        open_visit = Visit(
            session=session,
            email=email,
            company=company,
            referrer=referrer[:REFERRER_LENGTH],
            browser_info=browser_info or {},
        )
        connection = _connection(Visit, write=True)
        (active,) = _prepared("active id", connection, _active_id_sql)
        try:
            # On the active version, read in the INSERT itself: one statement, not two.
            with _own_statement():
                rows.insert(open_visit, connection, {"scorecard_id": (active, [])})
        except IntegrityError:
            # No version is active (the visit's version cannot be null), or a parallel start
            # of this session made its open visit first.
            scorecard_or_error()
            open_visit = Visit.objects.get(session=session, completed_at__isnull=True)
        return open_visit
    scorecard_or_error()
    if email or company:
        open_visit.email = email or open_visit.email
        open_visit.company = company or open_visit.company
        Visit.objects.filter(pk=open_visit.pk).update(
            email=open_visit.email, company=open_visit.company
        )
    return open_visit


def _active_id_sql(connection, name) -> tuple:
    """The active version's id, as Scorecard.objects.filter(is_active=True).first() finds it."""
    sql = (
        f"SELECT c.{name('id')} FROM {name(Scorecard._meta.db_table)} c "
        f"{rows.active_version(connection, 'c')}"
    )
    return (sql,)


@dataclass(frozen=True)
class SaveResult:
    visit: Visit
    step: int
    can_proceed: bool
    missing: list[str]


def _none_open() -> ScorecardError:
    """A save with no open assessment, whenever a submit closed it: the same answer on either
    database (a save racing the submit read the visit still open more often on PostgreSQL)."""
    return ScorecardError(
        "ASSESSMENT_NOT_FOUND", "No assessment in progress: start one first.", status=404
    )


def save_progress(
    *,
    session: VisitorSession,
    step: Any,
    responses: Any,
    email: str = "",
    time_spent: int | None = None,
) -> SaveResult:
    """Save a step's answers (merged: never lose one), even when the step is incomplete."""
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < TOTAL_STEPS:
        raise ScorecardError(
            "VALIDATION_ERROR", "step must be 0, 1, 2 or 3.", status=400, details={"field": "step"}
        )
    visit = take_open_visit(session)
    if visit is None:
        raise _none_open()
    scorecard = selectors.with_content(visit.scorecard)
    answers = _validate_answers(scorecard, responses, field="responses", step=step)
    expected = completed_steps(scorecard, {**visit.responses, **answers})
    stored = _merge_answers(
        visit, answers, step=step, email=email, time_spent=time_spent, steps_completed=expected
    )
    if stored is None:  # a submit completed it since it was read: as if it had been before
        raise _none_open()
    visit.responses, visit.steps_completed = stored
    done = completed_steps(scorecard, visit.responses)
    if done > visit.steps_completed:  # a parallel save answered the rest of a step meanwhile
        Visit.objects.filter(pk=visit.pk).update(
            steps_completed=Greatest("steps_completed", Value(done))
        )
        visit.steps_completed = done
    if email:
        visit.email = email
    if time_spent is not None:
        visit.time_spent = {**visit.time_spent, str(step): time_spent}
    missing = [qid for qid in steps(scorecard)[step] if qid not in visit.responses]
    return SaveResult(visit, step, not missing, missing)


def _merge_answers(
    visit: Visit,
    answers: dict[str, str],
    *,
    step: int,
    email: str,
    time_spent: int | None,
    steps_completed: int,
) -> tuple[dict[str, str], int] | None:
    """Merge `answers` into the open visit's responses in one UPDATE … RETURNING: atomic
    without a lock or a transaction, so two saves never lose each other's answers. Completed
    steps only grow (answers are never taken back), so the greater count wins. (responses,
    steps_completed) as stored, or None when the visit is no longer open."""
    connection = connections[router.db_for_write(Visit)]
    name = connection.ops.quote_name
    if connection.vendor == "postgresql":
        merge, greatest = "{} || %s::jsonb", "GREATEST"
    else:  # SQLite: json_patch (RFC 7396) adds and replaces keys; answers are never null
        merge, greatest = "json_patch({}, %s)", "MAX"
    responses, done = name("responses"), name("steps_completed")
    sets = [f"{responses} = {merge.format(responses)}", f"{done} = {greatest}({done}, %s)"]
    params: list[Any] = [json.dumps(answers), steps_completed]
    if email:
        sets.append(f"{name('email')} = %s")
        params.append(email)
    if time_spent is not None:
        spent = name("time_spent")
        sets.append(f"{spent} = {merge.format(spent)}")
        params.append(json.dumps({str(step): time_spent}))
    sql = (
        f"UPDATE {name(Visit._meta.db_table)} SET {', '.join(sets)} "
        f"WHERE {name('id')} = %s AND {name('completed_at')} IS NULL "
        f"RETURNING {responses}, {done}"
    )
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, [*params, visit.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    stored = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return stored, row[1]


@dataclass(frozen=True)
class SubmitResult:
    visit: Visit
    result: dict  # the stored result document (portal.scorecards.results)


def submit(
    *,
    session: VisitorSession,
    final_responses: Any = None,
    completion_time: int,
    contact: dict | None = None,
    feedback: str = "",
    email: str | None = None,
    company: str | None = None,
) -> SubmitResult:
    """Score the visit, store the result as shown (portal.scorecards.results) and queue the
    lead (HubSpot) and the results e-mail, all in one transaction. A second submit (double
    click) answers the same stored result.

    The visitor's details are the latest they gave: `contact` is the contract's contactInfo
    (an empty or missing field gives nothing; a company given replaces the start's). `email`
    and `company`, when not None, are the whole answer (the contact page shows the visit's
    e-mail and company in its form, and what is in it when submitted is used: "" removes
    one); None keeps the visit's (the API's submit carries no e-mail)."""
    session.__dict__.pop("_open_visit", None)  # read again here, as it stands now
    connection = _connection(Visit, write=True)
    details = partial(
        _complete,
        final_responses=final_responses,
        completion_time=completion_time,
        contact=contact or {},
        feedback=feedback,
        email=email,
        company=company,
    )
    # Scored as read, and stored by one UPDATE that finds the visit still open and as it was
    # read (in a transaction only with a lead and an e-mail to queue): no lock held while it
    # is scored, which on SQLite would be the whole database's write lock.
    early = _scored_early(session, connection, details)
    if early is not None:
        read, visit = early
        queues = leads.has_email(visit)
        with transaction.atomic(using=connection.alias) if queues else nullcontext():
            if _store_submitted(visit, connection, unchanged=read):
                leads.queue(visit)
                return SubmitResult(visit, results.stored(visit))
    # None open, it can't be completed, or it changed since it was read: under the lock.
    with transaction.atomic(using=connection.alias):
        row = _open_visit_row(session, connection, locked=True)
        if row is None:
            # None open: the latest completed one's result (a double click, or a parallel
            # submit that completed it while this one waited for the lock).
            latest = Visit.objects.filter(session=session).exclude(completed_at=None).first()
            if latest is None:
                raise ScorecardError(
                    "ASSESSMENT_NOT_FOUND", "No assessment to submit: start one first.", status=404
                )
            return SubmitResult(latest, results.stored(latest))
        visit = _visit_of_row(row, session, connection)
        details(visit)
        _store_submitted(visit, connection)
        leads.queue(visit)
    return SubmitResult(visit, results.stored(visit))


def _scored_early(session: VisitorSession, connection, details) -> tuple[dict, Visit] | None:
    """(what other requests may change of the open visit, as read now; the visit completed
    from it), or None when none is open or it can't be completed (the locked read answers
    those cases)."""
    row = _open_visit_row(session, connection, locked=False)
    if row is None:
        return None
    visit = _visit_of_row(row, session, connection)
    read = {name: getattr(visit, name) for name in CHANGED_BY_OTHERS}
    try:
        details(visit, quiet=True)  # the locked read says what went wrong, once
    except ScorecardError:
        return None
    return read, visit


def _complete(
    visit: Visit,
    *,
    final_responses: Any,
    completion_time: int,
    contact: dict,
    feedback: str,
    email: str | None,
    company: str | None,
    quiet: bool = False,
) -> None:
    """Complete the visit in memory: the final answers, the details, the score and the result
    as shown (see submit); ScorecardError when it can't be (logged when it is the content's
    fault, unless `quiet`)."""
    scorecard = selectors.with_content(visit.scorecard)
    if final_responses:
        answers = _validate_answers(scorecard, final_responses, field="finalResponses", step=None)
        visit.responses = {**visit.responses, **answers}
    missing = [qid for qids in steps(scorecard) for qid in qids if qid not in visit.responses]
    if missing:
        raise ScorecardError(
            "ASSESSMENT_INCOMPLETE",
            f"{len(missing)} question(s) are not answered yet.",
            status=400,
            details={"missing": missing},
        )
    _take_details(visit, contact, email=email, company=company)
    visit.feedback = feedback
    visit.completion_time = completion_time
    visit.steps_completed = TOTAL_STEPS
    try:
        result = selectors.score_visit(scorecard, visit)
    except ValueError as error:
        # Only content that breaks the format's rules gets here (validated answers cannot):
        # content edited outside the loader and the admin, which both validate.
        if not quiet:
            logger.error("scorecard %s cannot score: %s", scorecard.version, error)
        raise ScorecardError(
            "SERVICE_UNAVAILABLE",
            "The scorecard cannot be scored right now; please try again later.",
            status=503,
        ) from error
    visit.result = results.build(scorecard, result)
    visit.total_score = result.total
    visit.breakdown = result.breakdown
    visit.score_category = result.band.key
    visit.qualified_for_briefing = result.qualified_for_briefing
    visit.lead_quality = result.lead_quality or ""
    visit.completed_at = timezone.now()
    visit.share_token = secrets.token_urlsafe(16)


def _take_details(visit: Visit, contact: dict, *, email: str | None, company: str | None) -> None:
    """Keep the details given at submit on the visit (see submit), one company everywhere:
    the scoring, the stored result and the lead (HubSpot's contact and deal) read the same."""
    given = {key: value for key, value in contact.items() if value}
    if given.get("phone"):
        given["phone"] = normalize_digits(given["phone"])  # ۰۹۱۲… is 0912…
    if company is not None:
        given.pop("company", None)
        if company:
            given["company"] = company
        visit.company = company
    elif given.get("company"):
        visit.company = given["company"]
    if email is not None:
        visit.email = email
    visit.contact_info = given


def _open_visit_row_sql(connection, name) -> tuple:
    """(the open visit's SELECT, the same locking the visit's row, the columns of each)."""
    visit = Columns(Visit, "v", connection)
    scorecard = Columns(Scorecard, "c", connection)
    sql = (
        f"SELECT {visit.sql}, {scorecard.sql} FROM {name(Visit._meta.db_table)} v "
        f"JOIN {name(Scorecard._meta.db_table)} c ON v.{name('scorecard_id')} = c.id "
        f"WHERE v.{name('session_id')} = %s AND v.{name('completed_at')} IS NULL LIMIT 1"
    )
    locking = sql
    if connection.features.has_select_for_update_of:
        # Only the visit's row (SQLite's write transaction is the lock).
        locking += " FOR UPDATE OF v"
    return sql, locking, visit, scorecard


def _open_visit_row(session: VisitorSession, connection, *, locked: bool) -> tuple | None:
    """The session's open visit's row, its version row joined; `locked`, inside a
    transaction, the visit's row locked until it ends (on SQLite the transaction is the lock)."""
    plain, locking, _visit, _scorecard = _prepared(
        "open visit row", connection, _open_visit_row_sql
    )
    with rows.cursor(connection) as cursor:
        sql = locking if locked else plain
        cursor.execute(sql, [session.pk])
        return cursor.fetchone()


def _visit_of_row(row: tuple, session: VisitorSession, connection) -> Visit:
    *_sql, visit_columns, scorecard_columns = _prepared(
        "open visit row", connection, _open_visit_row_sql
    )
    visit = visit_columns.build(connection, row[: visit_columns.count])
    visit.scorecard = selectors.content_of_row(
        scorecard_columns, connection, row[visit_columns.count :]
    )
    visit.session = session
    return visit


# What submit changes on the visit (the rest of its row stays as read under the lock).
SUBMITTED_FIELDS = (
    "responses",
    "contact_info",
    "email",
    "company",
    "feedback",
    "completion_time",
    "steps_completed",
    "result",
    "total_score",
    "breakdown",
    "score_category",
    "qualified_for_briefing",
    "lead_quality",
    "completed_at",
    "share_token",
)


# What other requests may change of an open visit that its submit reads: the answers (a save),
# the e-mail address (a save, a start's double click) and the company (the same start).
CHANGED_BY_OTHERS = ("responses", "email", "company")


def _submitted_sql(connection, name) -> tuple:
    """(the submitted visit's UPDATE, the same only when the visit is still open and as read,
    the fields it sets)."""
    fields = [rows.column_field(Visit, field) for field in SUBMITTED_FIELDS]
    sets = ", ".join(f"{name(field.column)} = %s" for field in fields)
    sql = f"UPDATE {name(Visit._meta.db_table)} SET {sets} WHERE {name('id')} = %s"
    # The answers compared as JSON values: PostgreSQL's jsonb equality, SQLite's text of both
    # made by json() alike.
    same = "{} = %s::jsonb" if connection.vendor == "postgresql" else "json({}) = json(%s)"
    unchanged = " AND ".join(
        [
            f"{name('completed_at')} IS NULL",
            same.format(name("responses")),
            f"{name('email')} = %s",
            f"{name('company')} = %s",
        ]
    )
    return sql, f"{sql} AND {unchanged}", fields


def _store_submitted(visit: Visit, connection, *, unchanged: dict | None = None) -> bool:
    """Write the submitted visit's result and answers in one UPDATE: at once when its row is
    locked; with `unchanged` (CHANGED_BY_OTHERS as read), only if the visit is still open and
    as read. Whether it was written."""
    sql, conditional, fields = _prepared("submitted", connection, _submitted_sql)
    params = [field.get_db_prep_save(getattr(visit, field.attname), connection) for field in fields]
    params.append(visit.pk)
    if unchanged is not None:
        sql = conditional
        params += [json.dumps(unchanged["responses"]), unchanged["email"], unchanged["company"]]
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1
