from django.urls import path

from portal.sandbox import q3, views

app_name = "sandbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("exams/<int:eurl>/", views.exam_intro, name="exam_intro"),
    path("exams/<int:eurl>/start/", views.exam_start, name="exam_start"),
    path("exams/callback/", views.exam_callback, name="exam_callback"),
    path("q3/", q3.dashboard, name="q3_dashboard"),
    path("q3/attempt/", q3.attempt, name="q3_attempt"),
    path("q3/api/receive-cluster-metadata", q3.receive_cluster_metadata, name="q3_metadata"),
    path("q3/api/receive-assessment-results", q3.receive_assessment_results, name="q3_results"),
]
