"""Launching a partner's user into a roleplay cluster (seed 000): the JWT, then the ticket.

`assessment_launch()` is the server-to-server call: it verifies the partner's HS256 token,
creates (or resumes) the assessment and returns a redirect_url holding a single-use ticket.
`assessment_start()` is the candidate's browser posting that ticket back: it opens the
assessment. Refusals are LaunchError (API, DESIGN §4 codes) and TicketError (HTML page).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast
from urllib.parse import urlencode, urlsplit

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from integrations.http import UnsafeURL, check_url
from portal.hashing import sha256_hex as sha256
from portal.partners.models import Partner, validate_jwt_secret
from portal.roleplays.models import Assessment, Cluster, LaunchTicket, UsedToken
from portal.roleplays.services import record_activity

if TYPE_CHECKING:

    class _LaunchingPartner(Partner):
        """A partner as verify_launch_token reads it (a declaration for the type checker)."""

        cluster_allowed: bool  # its annotation: is the cluster open to this partner?


# DESIGN §4: HS256 only, exp and iat required, 15-minute lifetime, small leeway.
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "user_id", "assessment_cluster_id"]
MAX_TOKEN_LIFETIME = timedelta(minutes=15)
LEEWAY = timedelta(seconds=30)
TICKET_LIFETIME = timedelta(minutes=10)

# Every refusal of the launch call: error_code → HTTP status.
ERROR_STATUS = {
    "INVALID_REQUEST": 422,
    "INVALID_TOKEN": 401,
    "TOKEN_EXPIRED": 401,
    "TOKEN_REPLAYED": 401,
    "CLAIMS_MISMATCH": 403,
    "CLUSTER_NOT_FOUND": 404,
    "CLUSTER_NOT_ALLOWED": 403,
    "URL_NOT_ALLOWED": 400,
}


class LaunchError(Exception):
    """A refused launch: `code` is one of ERROR_STATUS, `detail` says why in plain English."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = ERROR_STATUS[code]


class TicketError(Exception):
    """A ticket that does not open an assessment; `reason` picks the candidate's message."""

    STATUS = {"unknown": 400, "cluster_mismatch": 400, "used": 410, "expired": 410}

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = self.STATUS[reason]


@dataclass(frozen=True)
class RoleplayLaunch:
    """An opened launch: the assessment and where to send the user's browser."""

    assessment: Assessment
    redirect_url: str


def token_fingerprint(token: str) -> str:
    """What makes a verified token the same token: its decoded signature. The raw string is
    not enough, since base64url padding ("=") spells the same token differently."""
    signature = jwt.utils.base64url_decode(token.rsplit(".", 1)[-1].encode())
    return hashlib.sha256(signature).hexdigest()


# ---------------------------------------------------------------------------------------------
# The launch call


def assessment_launch(
    *,
    user_id: str,
    user_name: str,
    assessment_cluster_id: str,
    auth_token: str,
    return_url: str,
    results_url: str | None = None,
) -> RoleplayLaunch:
    """Verify the partner's token and open (or resume) the user's assessment of the cluster.

    Checks run in this order, so that nothing about clusters is told to a caller whose token
    does not verify: token (signature, claims, lifetime) → claims equal the body → cluster
    → URLs → the token is spent. The token is spent in the transaction that creates the
    assessment and the ticket, so a refused launch spends nothing and creates nothing.
    """
    partner, claims = verify_launch_token(token=auth_token, cluster_id=assessment_cluster_id)
    if claims["user_id"] != user_id:
        raise LaunchError("CLAIMS_MISMATCH", "The token's user_id is not the body's user_id.")
    if claims["assessment_cluster_id"] != assessment_cluster_id:
        raise LaunchError(
            "CLAIMS_MISMATCH",
            "The token's assessment_cluster_id is not the body's assessment_cluster_id.",
        )
    cluster = Cluster.objects.filter(cluster_id=assessment_cluster_id, is_active=True).first()
    if cluster is None:
        raise LaunchError("CLUSTER_NOT_FOUND", f"No active cluster {assessment_cluster_id!r}.")
    if not partner.cluster_allowed:
        raise LaunchError(
            "CLUSTER_NOT_ALLOWED", f"Cluster {assessment_cluster_id!r} is not open to you."
        )
    return_url = check_partner_url(return_url, partner, field="return_url")
    # Recorded, so results of a launch that named none follow the partner's default later.
    results_url_is_default = not results_url
    if results_url:
        results_url = check_partner_url(results_url, partner, field="results_url")
    else:
        results_url = partner.default_results_url()

    ticket = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                UsedToken.objects.create(
                    token_hash=token_fingerprint(auth_token),
                    expires_at=datetime.fromtimestamp(claims["exp"], UTC) + LEEWAY,
                )
        except IntegrityError:
            raise LaunchError("TOKEN_REPLAYED", "This auth_token has already been used.") from None
        assessment = _open_assessment(
            partner=partner,
            cluster=cluster,
            user_id=user_id,
            user_name=user_name,
            return_url=return_url,
            results_url=results_url,
            results_url_is_default=results_url_is_default,
        )
        LaunchTicket.objects.create(
            assessment=assessment, ticket_hash=sha256(ticket), expires_at=now + TICKET_LIFETIME
        )
    start = reverse("api:roleplay_assessment_start")
    redirect_url = f"{settings.PUBLIC_BASE_URL}{start}?{urlencode({'ticket': ticket})}"
    return RoleplayLaunch(assessment=assessment, redirect_url=redirect_url)


def verify_launch_token(*, token: str, cluster_id: str) -> tuple["_LaunchingPartner", dict]:
    """The partner whose secret signed `token`, and the token's verified claims.

    The request names no partner, so each active partner's secret is tried: first those of
    partners the cluster is open to, then the others, so that a token of a partner the
    cluster is not open to is told CLUSTER_NOT_ALLOWED rather than INVALID_TOKEN. A partner
    whose JWT secret was rotated has its previous secret tried too while the grace period
    lasts (Partner.jwt_secrets). The partner comes back with `cluster_allowed` set. Secrets
    shorter than MIN_JWT_SECRET_BYTES are never used (validate_jwt_secret, the rule the admin
    and the console apply; the system check refuses to start with one).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LaunchError("INVALID_TOKEN", "auth_token is not a well-formed JWT.") from None
    if header.get("alg") != ALGORITHM:
        raise LaunchError("INVALID_TOKEN", f"auth_token must be signed with {ALGORITHM}.")

    open_to = Partner.clusters.through.objects.filter(
        partner_id=OuterRef("pk"), cluster__cluster_id=cluster_id
    )
    partners = (
        Partner.objects.filter(is_active=True)
        .annotate(cluster_allowed=Exists(open_to))
        .order_by("-cluster_allowed", "pk")
    )
    tried: set[str] = set()
    candidates = ((partner, secret) for partner in partners for secret in partner.jwt_secrets)
    for partner, secret in candidates:
        if secret in tried or not _long_enough(secret):
            continue
        tried.add(secret)
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY,
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            # Signed by this secret, but PyJWT reads an `exp` of true as 1: not a number.
            _check_numbers(jwt.decode(token, options={"verify_signature": False}))
            raise LaunchError("TOKEN_EXPIRED", "auth_token has expired.") from None
        except jwt.MissingRequiredClaimError as error:
            raise LaunchError(
                "INVALID_TOKEN", f"auth_token has no {error.claim!r} claim."
            ) from None
        except jwt.ImmatureSignatureError:
            raise LaunchError("INVALID_TOKEN", "auth_token is issued in the future.") from None
        except jwt.PyJWTError as error:
            raise LaunchError("INVALID_TOKEN", f"auth_token is invalid: {error}") from None
        _check_lifetime(claims)
        return cast("_LaunchingPartner", partner), claims
    raise LaunchError("INVALID_TOKEN", "auth_token's signature does not verify.")


def _long_enough(secret: str) -> bool:
    try:
        validate_jwt_secret(secret)
    except ValidationError:
        return False
    return True


def _check_numbers(claims: dict) -> None:
    # PyJWT reads "123" as a number, and true as 1; the seed's iat and exp are JSON numbers.
    values = (claims.get("iat"), claims.get("exp"))
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise LaunchError("INVALID_TOKEN", "auth_token's iat and exp must be numbers.")


def _check_lifetime(claims: dict) -> None:
    _check_numbers(claims)
    iat, exp = claims["iat"], claims["exp"]
    if not 0 < exp - iat <= MAX_TOKEN_LIFETIME.total_seconds():
        raise LaunchError("INVALID_TOKEN", "auth_token must expire within 15 minutes of its iat.")


def check_partner_url(url: str, partner: Partner, *, field: str) -> str:
    """`url` if it is http(s) on one of the partner's hosts and resolves to a safe address."""
    url = url.strip()
    # Browsers read a backslash as "/" and drop tabs and newlines, so such a URL can lead
    # somewhere other than the host checked here ("https://evil\\@allowed/" goes to evil).
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in url):
        raise LaunchError("URL_NOT_ALLOWED", f"{field} holds characters a URL may not.")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise LaunchError("URL_NOT_ALLOWED", f"{field} must be an absolute http(s) URL.")
    hosts = partner.hosts
    if parts.hostname.rstrip(".") not in hosts:
        raise LaunchError(
            "URL_NOT_ALLOWED", f"{field} host {parts.hostname!r} is not one of your hosts."
        )
    try:
        check_url(url, hosts)
    except UnsafeURL as error:
        raise LaunchError("URL_NOT_ALLOWED", f"{field} is refused: {error.message}") from None
    return url


def _open_assessment(
    *,
    partner: Partner,
    cluster: Cluster,
    user_id: str,
    user_name: str,
    return_url: str,
    results_url: str,
    results_url_is_default: bool,
) -> Assessment:
    """The user's in-progress assessment of the cluster, created if missing, else updated.
    A launch is activity: a re-launched assessment is not swept as abandoned."""
    fields = {
        "user_name": user_name,
        "return_url": return_url,
        "results_url": results_url,
        "results_url_is_default": results_url_is_default,
        "last_activity_at": timezone.now(),
    }
    key = {"partner": partner, "cluster": cluster, "user_id": user_id}
    in_progress = Assessment.objects.filter(**key, status=Assessment.Status.IN_PROGRESS)
    while True:
        assessment = in_progress.first()
        if assessment is None:
            try:
                with transaction.atomic():
                    return Assessment.objects.create(**key, **fields)
            except IntegrityError:
                # Another launch of this user into this cluster won the race: resume its assessment.
                assessment = in_progress.get()
        if in_progress.filter(pk=assessment.pk).update(**fields):
            break
        # Completed in between (its last roleplay closed, or the idle sweep): launch afresh.
    for name, value in fields.items():
        setattr(assessment, name, value)
    return assessment


# ---------------------------------------------------------------------------------------------
# The browser's form post


def assessment_start(*, ticket: str, assessment_cluster_id: str) -> Assessment:
    """Spend the ticket of redirect_url and return its assessment.

    The ticket must exist, be unused and unexpired, and belong to an assessment of the posted
    cluster. A single conditional UPDATE spends it, so of two posts of one ticket one wins.
    """
    found = (
        LaunchTicket.objects.select_related("assessment__cluster")
        .filter(ticket_hash=sha256(ticket))
        .first()
        if ticket
        else None
    )
    if found is None:
        raise TicketError("unknown")
    if found.assessment.cluster.cluster_id != assessment_cluster_id:
        raise TicketError("cluster_mismatch")
    now = timezone.now()
    if found.used_at is None and found.expires_at <= now:
        raise TicketError("expired")
    spent = LaunchTicket.objects.filter(
        pk=found.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not spent:
        raise TicketError("used")
    record_activity(found.assessment_id)
    return found.assessment


def forget_expired_launch_records() -> int:
    """Delete used tokens past their expiry (a replay is refused by `exp` by then anyway) and
    tickets expired more than a day ago. Returns how many rows went."""
    now = timezone.now()
    tokens, _ = UsedToken.objects.filter(expires_at__lt=now).delete()
    tickets, _ = LaunchTicket.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return tokens + tickets
