"""The console's front page: live figures of the three products and the outbox."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portal.staff.access import staff_view


@staff_view()
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/overview.html", {})


urlpatterns = [path("", overview, name="overview")]
