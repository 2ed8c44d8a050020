"""Moving the browser on after a POST, the same way for a plain form and for HTMX."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect


def redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Post/redirect/get for a plain form; for an HTMX request an `HX-Redirect`, since htmx
    would otherwise follow a 302 itself and swap the next page into the form's target."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
