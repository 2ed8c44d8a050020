"""Deliveries in the staff console (placeholder: the area's pages come next)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portal.staff.access import staff_view


@staff_view()
def deliveries(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/placeholder.html", {"title": "Deliveries"})


urlpatterns = [path("deliveries/", deliveries, name="deliveries")]
