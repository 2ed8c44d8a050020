"""The candidate's exam pages; exam_url is the first."""

from django.urls import path

from portal.exams import views

app_name = "exams"
urlpatterns = [
    path("", views.page, name="page"),
    path("<uuid:launch_id>/start/", views.start, name="start"),
    path("<uuid:launch_id>/answer/", views.answer, name="answer"),
    path("<uuid:launch_id>/save/", views.save, name="save"),
    path("<uuid:launch_id>/flag/", views.flag, name="flag"),
    path("<uuid:launch_id>/time/", views.time_left, name="time"),
    path("<uuid:launch_id>/finish/", views.finish, name="finish"),
    path("<uuid:launch_id>/result/", views.result, name="result"),
    path("<uuid:launch_id>/continue/", views.continue_to_customer, name="continue"),
]
