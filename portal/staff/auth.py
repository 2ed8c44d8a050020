"""Staff sign-in: the address a staff member types, in the one form staff user names are kept."""

from django.contrib.auth.forms import AuthenticationForm


def normalise_staff_email(value: str) -> str:
    """A staff member's e-mail as their user name is stored: trimmed, lower-case (as
    `manage.py create_staff_user` stores it, refusing a second that differs only in case)."""
    return value.strip().lower()


class StaffAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, the address normalised first: `Operator@Example.com` signs in
    `operator@example.com`, as the mail system would deliver to either."""

    def clean_username(self) -> str:
        return normalise_staff_email(self.cleaned_data["username"])
