"""The console's views, a module per area; each module's `urlpatterns` joins portal.staff.urls."""
