"""Exams in the staff console (placeholder: the authoring pages come next)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portal.staff.access import staff_view


@staff_view()
def exams(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/placeholder.html", {"title": "Exams"})


urlpatterns = [path("exams/", exams, name="exams")]
