"""The portal's URL map plus the floor, which is mounted here only (never in portal.urls)."""

from django.urls import path

from bench.floor import floor
from portal import urls as portal_urls

urlpatterns = [path("bench/floor/", floor), *portal_urls.urlpatterns]

handler400 = portal_urls.handler400
handler404 = portal_urls.handler404
handler500 = portal_urls.handler500
