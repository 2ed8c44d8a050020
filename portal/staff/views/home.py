"""Signing in and out, and the console's language."""

from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal.staff.access import LANGUAGE_SESSION_KEY, LANGUAGES, staff_language
from portal.staff.auth import StaffAuthenticationForm


class StaffLanguage:
    """A view of Django's auth that answers in the console's language, its template rendered
    inside it (a TemplateResponse would otherwise render later, in the request's language)."""

    def dispatch(self, request, *args, **kwargs):
        with translation.override(staff_language(request)):
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            return response


class StaffLoginView(StaffLanguage, auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = False


class SetPasswordView(StaffLanguage, auth_views.PasswordResetConfirmView):
    """The one-time link `create_staff_user` prints: choose a password, then sign in."""

    template_name = "staff/set_password.html"
    post_reset_login = True

    def get_success_url(self) -> str:
        return reverse("staff:overview")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    language = staff_language(request)
    auth_logout(request)
    request.session[LANGUAGE_SESSION_KEY] = language
    return HttpResponseRedirect(reverse("staff:login"))


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the console between English and Persian; back to the page it was asked from."""
    chosen = request.POST.get("language", "")
    if chosen in LANGUAGES:
        request.session[LANGUAGE_SESSION_KEY] = chosen
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("staff:overview")
    return HttpResponseRedirect(target)


urlpatterns = [
    path("login/", StaffLoginView.as_view(), name="login"),
    path("logout/", logout, name="logout"),
    path("set-password/<uidb64>/<token>/", SetPasswordView.as_view(), name="set_password"),
    path("language/", language, name="language"),
]
