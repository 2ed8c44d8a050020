from django.urls import path

from portal.sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("exams/<int:eurl>/", views.exam_intro, name="exam_intro"),
    path("exams/<int:eurl>/start/", views.exam_start, name="exam_start"),
    path("exams/callback/", views.exam_callback, name="exam_callback"),
]
