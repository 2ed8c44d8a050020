"""Partners in the staff console (placeholder: the area's pages come next)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portal.staff.access import staff_view


@staff_view()
def partners(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/placeholder.html", {"title": "Partners"})


urlpatterns = [path("partners/", partners, name="partners")]
