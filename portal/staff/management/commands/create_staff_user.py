"""Create (or update) a staff user with a role, and print a one-time link to set a password."""

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.audit import log
from portal.documents import checked
from portal.staff.auth import normalise_staff_email
from portal.staff.roles import ROLES


class Command(BaseCommand):
    help = (
        "Create a staff user with a role (viewer, operator, author) or a superuser, and print a "
        "one-time link where they set their password (valid PASSWORD_RESET_TIMEOUT, 3 days)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="The staff member's e-mail; also their user name.")
        role = parser.add_mutually_exclusive_group(required=True)
        role.add_argument("--role", choices=sorted(ROLES), help="The staff role to give.")
        role.add_argument(
            "--superuser", action="store_true", help="Make a superuser (every right)."
        )
        parser.add_argument(
            "--password",
            help="Set this password now instead of printing a set-password link.",
        )

    def handle(self, *args, email: str, role: str | None, superuser: bool, **options) -> None:
        email = normalise_staff_email(email)
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"Not an e-mail address: {email!r}") from error
        User = get_user_model()
        # The user model's own rules for both columns the address goes into.
        for name in ("username", "email"):
            checked(User, name, email, repr(email))
        password = options.get("password")
        found = User.objects.filter(username__iexact=email).first()
        created = found is None
        user = User(username=email, email=email) if found is None else found
        if password:
            # AUTH_PASSWORD_VALIDATORS, as the console's set-password page applies them.
            try:
                password_validation.validate_password(password, user)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        with transaction.atomic():
            user.is_staff = True
            user.is_active = True
            user.is_superuser = superuser or user.is_superuser
            if password:
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.save()
            if role:
                user.groups.remove(*Group.objects.filter(name__in=ROLES))
                user.groups.add(Group.objects.get(name=role))
            log.record(
                actor=None,
                action="staff_user.create" if created else "staff_user.update",
                target=user,
                after={"role": "superuser" if superuser else role, "is_staff": True},
                note="manage.py create_staff_user",
            )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {email} ({'superuser' if superuser else role}).")
        if password:
            self.stdout.write("Password set. Sign in at /staff/login/.")
            return
        # Django's password-reset token: valid once (it changes with the password) and for
        # PASSWORD_RESET_TIMEOUT.
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        path = reverse("staff:set_password", args=[uid, default_token_generator.make_token(user)])
        self.stdout.write(f"Set-password link (one use): {settings.PUBLIC_BASE_URL}{path}")
