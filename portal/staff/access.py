"""Who may see and do what in the console: one decorator, checked in every view and action.

Anonymous → the sign-in page (an HTMX request is told to go there); signed in but not a staff
member with a role → 403; a view that needs a role's permission (operate, author) and a user
without it → 403. A partial requested directly goes through the same check. The console's
language (English or Persian) is the staff member's choice, kept in the session.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django_htmx.http import HttpResponseClientRedirect

from portal.http import StaffRequest
from portal.staff import roles

LANGUAGE_SESSION_KEY = "staff_language"
LANGUAGES = ("en", "fa")


@dataclass(frozen=True)
class Rights:
    """What the signed-in staff member may do, for templates to show only usable buttons.

    Templates only hide; every view checks again.
    """

    operate: bool
    author: bool


def is_console_user(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff) and user.has_perm(
        roles.VIEW
    )


def staff_language(request: HttpRequest) -> str:
    language = request.session.get(LANGUAGE_SESSION_KEY, "en")
    return language if language in LANGUAGES else "en"


def forbidden(request: HttpRequest, message: str = "", needed: str = "") -> HttpResponse:
    """The 403 page: `message`, or which roles would allow it (`needed`, a permission) and the
    user's own."""
    context = {
        "message": message,
        "needed": roles.roles_granting(needed) if needed else [],
        "yours": roles.role_names(request.user) if request.user.is_authenticated else [],
    }
    return render(request, "staff/forbidden.html", context, status=403)


def staff_view[**P](
    permission: str = roles.VIEW,
) -> Callable[
    [Callable[Concatenate[StaffRequest, P], HttpResponse]],
    Callable[Concatenate[StaffRequest, P], HttpResponse],
]:
    """Require a console user holding `permission` (roles.VIEW, roles.OPERATE, roles.AUTHOR)."""

    def decorator(
        view: Callable[Concatenate[StaffRequest, P], HttpResponse],
    ) -> Callable[Concatenate[StaffRequest, P], HttpResponse]:
        # `request` is a StaffRequest once `rights` is set below, before the view runs.
        @wraps(view)
        def wrapped(request: StaffRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            with translation.override(staff_language(request)):
                user = request.user
                if not user.is_authenticated:
                    if getattr(request, "htmx", False):
                        login = reverse("staff:login")
                        return HttpResponseClientRedirect(f"{login}?next={request.path}")
                    return redirect_to_login(request.get_full_path(), reverse("staff:login"))
                if not is_console_user(user) or not user.has_perm(permission):
                    return forbidden(request, needed=permission)
                request.rights = Rights(
                    operate=user.has_perm(roles.OPERATE), author=user.has_perm(roles.AUTHOR)
                )
                return view(request, *args, **kwargs)

        wrapped.__dict__["staff_permission"] = permission  # the permission matrix test reads it
        return wrapped

    return decorator
