from django.urls import path

from portal.roleplays import views

app_name = "roleplays"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("done/", views.thanks, name="thanks"),
    path("<str:roleplay_id>/", views.play, name="play"),
    path("<str:roleplay_id>/start/", views.start, name="start"),
    path("<str:roleplay_id>/respond/", views.respond, name="respond"),
    path("<str:roleplay_id>/rate/", views.rate, name="rate"),
]
