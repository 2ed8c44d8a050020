"""`manage.py seed_demo`: the demo customer, its two exams, the sandbox's account, the demo
roleplay cluster and its partner (the sandbox's Q3), an admin."""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from portal.customers.models import ClientToken, Customer
from portal.exams import transfer
from portal.exams.models import Exam
from portal.partners.models import Partner
from portal.roleplays import services as roleplay_services
from portal.roleplays import transfer as cluster_transfer
from portal.roleplays.models import Cluster
from portal.sandbox.models import ExamCustomerAccount, Q3Account
from portal.scorecards import content as scorecard_content
from portal.scorecards.management.commands.load_scorecard import (
    DEFAULT_FILE as SCORECARD_FIXTURE,
)
from portal.scorecards.models import Scorecard
from portal.staff.roles import ROLES

DEMO_CUSTOMER = "Demo Academy"
FIXTURES_DIR = Path(transfer.__file__).resolve().parent / "fixtures"
# In the order the sandbox lists them: English first.
DEMO_EXAM_FILES = ("demo_exam_en.json", "demo_exam_fa.json")
SANDBOX_TOKEN_LABEL = "sandbox"
ADMIN_USERNAME = "admin"
CLUSTER_FIXTURE = (
    Path(cluster_transfer.__file__).resolve().parent / "fixtures" / "demo_cluster.json"
)
DEMO_PARTNER = "Demo Q3"
# The sandbox's Q3-like receiver, at .../api/receive-cluster-metadata and
# .../api/receive-assessment-results under it.
SANDBOX_Q3_PATH = "/sandbox/q3"
JWT_SECRET_CHARS = 48


def sandbox_callback_hosts() -> list[str]:
    """Hosts the sandbox's callbacks come back to: PUBLIC_BASE_URL's, and loopback for dev."""
    hosts = [urlsplit(settings.PUBLIC_BASE_URL).hostname or "", "127.0.0.1", "localhost"]
    return list(dict.fromkeys(host.lower() for host in hosts if host))


def absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def demo_customer() -> Customer:
    customer, _created = Customer.objects.get_or_create(name=DEMO_CUSTOMER)
    if not customer.is_active:
        raise CommandError(
            f"Customer {DEMO_CUSTOMER!r} is deactivated, so the sandbox could not call the API. "
            "Reactivate it in the admin (or delete it), then run seed_demo again."
        )
    return customer


def demo_exam(customer: Customer, filename: str) -> Exam:
    """The customer's exam titled as in the fixture, imported from it when there is none."""
    data = json.loads((FIXTURES_DIR / filename).read_text(encoding="utf-8"))
    exam = Exam.objects.filter(customer=customer, title=data["exam"]["title"]).first()
    return exam or transfer.import_exam(data, customer=customer)


def sandbox_token(
    customer: Customer, account: ExamCustomerAccount | None
) -> tuple[ClientToken, str]:
    """The client token the sandbox uses, and its plain value: the stored one while it works."""
    hosts = sandbox_callback_hosts()
    token = ClientToken.authenticate(account.client_token) if account else None
    if account is None or token is None or token.customer_id != customer.pk:
        return ClientToken.issue(
            customer=customer, label=SANDBOX_TOKEN_LABEL, allowed_callback_hosts=",".join(hosts)
        )
    # PUBLIC_BASE_URL may have changed since the token was issued; the sandbox's callbacks
    # must stay allowed. (No allowed hosts means any host, which already covers them.)
    allowed = token.allowed_hosts
    missing = [host for host in hosts if host not in allowed]
    if allowed and missing:
        token.allowed_callback_hosts = ",".join(allowed + missing)
        token.save(update_fields=["allowed_callback_hosts"])
    return token, account.client_token


def sandbox_account(
    customer: Customer, exams: list[Exam]
) -> tuple[ExamCustomerAccount, ClientToken]:
    """Write the sandbox's account row (pk=1) only where it differs from what it should be."""
    account = ExamCustomerAccount.current()
    token, raw = sandbox_token(customer, account)
    values = {
        "customer_name": customer.name,
        "client_token": raw,
        "signing_secret": customer.signing_secret,
        "exam_eurls": [exam.pk for exam in exams],
    }
    if account is None:
        return ExamCustomerAccount.objects.create(pk=1, **values), token
    if any(getattr(account, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(account, name, value)
        account.save()
    return account, token


def demo_cluster() -> Cluster:
    """The demo cluster, imported from its fixture when no cluster has the fixture's id."""
    data = json.loads(CLUSTER_FIXTURE.read_text(encoding="utf-8"))
    cluster = Cluster.objects.filter(cluster_id=data["cluster_id"]).first()
    if cluster is not None:
        return cluster
    try:
        return cluster_transfer.import_cluster(data)
    except cluster_transfer.ClusterFormatError as error:
        # e.g. its roleplay ids were taken by a copy imported under another cluster_id.
        raise CommandError(f"Cannot import the demo cluster: {error.message}") from error


def demo_partner(cluster: Cluster, *, repoint: bool = False) -> tuple[Partner, str]:
    """The sandbox's Q3 as a roleplay partner, changed only where it differs from what it
    should be; its JWT secret is kept once set. A partner newly given the cluster is sent the
    cluster's metadata, as any partner would be.

    An existing partner keeps its base URL (where its webhooks go) unless `repoint`: on a
    shared host, a run without PUBLIC_BASE_URL must not send them to someone else's server on
    the default port. Returns the partner and the base URL PUBLIC_BASE_URL gives, when it was
    not followed ("" otherwise)."""
    base_url = absolute(SANDBOX_Q3_PATH)
    not_followed = ""
    partner = Partner.objects.filter(name=DEMO_PARTNER).first()
    if partner is None:
        partner = Partner.objects.create(
            name=DEMO_PARTNER,
            # token_urlsafe(36) is 48 characters: 288 random bits, well over HS256's minimum.
            jwt_secret=secrets.token_urlsafe(JWT_SECRET_CHARS * 3 // 4),
            base_url=base_url,
            allowed_hosts=",".join(sandbox_callback_hosts()),
        )
    elif not partner.is_active:
        raise CommandError(
            f"Partner {DEMO_PARTNER!r} is deactivated, so the sandbox's Q3 could not launch "
            "anyone. Reactivate it in the admin (or delete it), then run seed_demo again."
        )
    else:
        changed = []
        if len(partner.jwt_secret.encode()) < settings.MIN_JWT_SECRET_BYTES:
            partner.jwt_secret = secrets.token_urlsafe(JWT_SECRET_CHARS * 3 // 4)
            changed.append("jwt_secret")
        if partner.base_url != base_url and repoint:  # PUBLIC_BASE_URL changed since
            partner.base_url = base_url
            changed.append("base_url")
        elif partner.base_url != base_url:
            not_followed = base_url
        hosts = [h.strip() for h in partner.allowed_hosts.split(",") if h.strip()]
        missing = [host for host in sandbox_callback_hosts() if host not in hosts]
        if missing:
            partner.allowed_hosts = ",".join(hosts + missing)
            changed.append("allowed_hosts")
        if changed:
            partner.save(update_fields=changed)
    if not partner.clusters.filter(pk=cluster.pk).exists():
        partner.clusters.add(cluster)
        roleplay_services.push_cluster_metadata(cluster, [partner])
    return partner, not_followed


def sandbox_q3_account(partner: Partner, clusters: list[Cluster]) -> Q3Account:
    """The sandbox Q3's own copy of its secrets (pk=1), written only where it differs."""
    values = {
        "partner_name": partner.name,
        "jwt_secret": partner.jwt_secret,
        "webhook_secret": partner.webhook_secret,
        "cluster_ids": [cluster.cluster_id for cluster in clusters],
    }
    account = Q3Account.current()
    if account is None:
        return Q3Account.objects.create(pk=1, **values)
    if any(getattr(account, name) != value for name, value in values.items()):
        Q3Account.objects.filter(pk=1).update(**values)
        account.refresh_from_db()
    return account


def demo_scorecard() -> Scorecard:
    """The AI Reality Check content: the bundled version, loaded when it is not there yet."""
    data = json.loads(SCORECARD_FIXTURE.read_text(encoding="utf-8"))
    existing = Scorecard.objects.filter(version=data["version"]).first()
    return existing or scorecard_content.load_scorecard(data)


def admin_user() -> str:
    """Create or refresh the "admin" superuser from DEMO_ADMIN_PASSWORD; say what happened."""
    password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
    if not password:
        return f"skipped (set DEMO_ADMIN_PASSWORD to create {ADMIN_USERNAME!r})"
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        user_model.objects.create_superuser(username=ADMIN_USERNAME, email="", password=password)
        return f"{ADMIN_USERNAME} (created)"
    changed = not (user.is_active and user.is_staff and user.is_superuser)
    user.is_active = user.is_staff = user.is_superuser = True
    if not user.check_password(password):
        user.set_password(password)
        changed = True
    if changed:
        user.save()
        return f"{ADMIN_USERNAME} (updated to match DEMO_ADMIN_PASSWORD)"
    return f"{ADMIN_USERNAME} (unchanged)"


DEMO_STAFF_DOMAIN = "demo.example.com"


def staff_users() -> list[str]:
    """One demo staff user per console role (viewer@…, operator@…, author@…) with
    DEMO_STAFF_PASSWORD; say what happened."""
    password = os.environ.get("DEMO_STAFF_PASSWORD", "")
    if not password:
        return []
    user_model = get_user_model()
    made = []
    for role in ROLES:
        username = f"{role}@{DEMO_STAFF_DOMAIN}"
        user = user_model.objects.filter(username=username).first() or user_model(
            username=username, email=username
        )
        user.is_active = user.is_staff = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        made.append(username)
    return made


class Command(BaseCommand):
    help = (
        f"Set up the demo: customer {DEMO_CUSTOMER!r}, its two demo exams, the sandbox's client "
        f"token, the demo roleplay cluster and its partner {DEMO_PARTNER!r} (the sandbox's Q3) "
        "and, when DEMO_ADMIN_PASSWORD is set, an 'admin' superuser; when DEMO_STAFF_PASSWORD is "
        "set, one staff console user per role. Safe to run again: it only "
        "creates what is missing, and keeps the partner's URL unless --repoint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object and nothing else."
        )
        parser.add_argument(
            "--repoint",
            action="store_true",
            help=(
                f"Point an existing {DEMO_PARTNER!r} (where its webhooks go) at PUBLIC_BASE_URL. "
                "Without it the stored URL is kept."
            ),
        )

    def handle(self, *args, **options) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError(
                "seed_demo sets up the sandbox's demo customer and partner, and the sandbox is "
                "off: set SANDBOX_ENABLED=true (make run does) on a demo or trial instance only."
            )
        with transaction.atomic():
            customer = demo_customer()
            exams = [demo_exam(customer, filename) for filename in DEMO_EXAM_FILES]
            account, token = sandbox_account(customer, exams)
            cluster = demo_cluster()
            partner, not_followed = demo_partner(cluster, repoint=options["repoint"])
            sandbox_q3_account(partner, [cluster])
            scorecard = demo_scorecard()
            admin = admin_user()
            staff = staff_users()

        summary = {
            "customer": {
                "name": customer.name,
                "client_token": account.client_token,
                "signing_secret": customer.signing_secret,
                "allowed_callback_hosts": token.allowed_hosts,
            },
            "exams": [
                {"eurl": exam.pk, "title": exam.title, "language": exam.language} for exam in exams
            ],
            "partner": {
                "name": partner.name,
                "jwt_secret": partner.jwt_secret,
                "webhook_secret": partner.webhook_secret,
                "base_url": partner.base_url,
                "allowed_hosts": partner.hosts,
            },
            "clusters": [
                {
                    "cluster_id": cluster.cluster_id,
                    "cluster_name": cluster.cluster_name,
                    "roleplays": list(
                        cluster.roleplays.order_by("position", "id").values_list(
                            "roleplay_id", flat=True
                        )
                    ),
                }
            ],
            "scorecard": {
                "version": scorecard.version,
                "active": scorecard.is_active,
                "url": absolute("/assessment/"),
            },
            "urls": {
                "sandbox": absolute(reverse("sandbox:index")),
                "api_docs": absolute(reverse("api:openapi-view")),
                "admin": absolute(reverse("admin:index")),
                "staff": absolute(reverse("staff:overview")),
            },
            "staff_users": staff,
        }
        if not_followed:
            # On stderr: --json keeps stdout to the one object.
            self.stderr.write(
                f"Kept {DEMO_PARTNER}'s URL {partner.base_url} (its webhooks go there); "
                f"PUBLIC_BASE_URL gives {not_followed}. Run with --repoint to follow it."
            )
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.write_text(summary, admin)

    def write_text(self, summary: dict, admin: str) -> None:
        customer = summary["customer"]
        partner = summary["partner"]
        scorecard = summary["scorecard"]
        lines = [
            f"Customer:       {customer['name']}",
            f"Client token:   {customer['client_token']}",
            f"Signing secret: {customer['signing_secret']}",
            f"Callback hosts: {', '.join(customer['allowed_callback_hosts']) or 'any'}",
            "Exams:",
            *(
                f"  eurl {exam['eurl']}: {exam['title']} ({exam['language']}) "
                f"{absolute(reverse('sandbox:exam_intro', kwargs={'eurl': exam['eurl']}))}"
                for exam in summary["exams"]
            ),
            f"Partner:        {partner['name']}",
            f"JWT secret:     {partner['jwt_secret']}",
            f"Webhook secret: {partner['webhook_secret']}",
            f"Partner URL:    {partner['base_url']}",
            f"Partner hosts:  {', '.join(partner['allowed_hosts'])}",
            "Clusters:",
            *(
                f"  {cluster['cluster_id']}: {cluster['cluster_name']} "
                f"(roleplays {', '.join(cluster['roleplays'])})"
                for cluster in summary["clusters"]
            ),
            f"Sandbox:        {summary['urls']['sandbox']}",
            f"Sandbox Q3:     {absolute(SANDBOX_Q3_PATH + '/')}",
            f"AI scorecard:   {scorecard['url']} (version {scorecard['version']})",
            f"API docs:       {summary['urls']['api_docs']}",
            f"Admin:          {summary['urls']['admin']}",
            f"Admin user:     {admin}",
            f"Staff console:  {summary['urls']['staff']}",
            "Staff users:    "
            + (
                ", ".join(summary["staff_users"]) + " (password: DEMO_STAFF_PASSWORD)"
                if summary["staff_users"]
                else "skipped (set DEMO_STAFF_PASSWORD to create one per role)"
            ),
        ]
        for line in lines:
            self.stdout.write(line)
