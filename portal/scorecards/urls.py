"""The AI Reality Check visitor pages, under /assessment/ (the seed's page URLs)."""

from django.urls import path

from portal.scorecards import views

app_name = "scorecards"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("start/", views.start, name="start"),
    path("step/<int:number>/", views.step, name="step"),
    path("step/<int:number>/choice/", views.choice, name="choice"),
    path("contact/", views.contact, name="contact"),
    path("results/<str:assessment_id>/", views.results, name="results"),
    path("results/<str:assessment_id>/share/", views.share, name="share"),
    path("shared/<str:token>/", views.shared, name="shared"),
]
