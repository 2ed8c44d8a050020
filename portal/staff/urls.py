"""The staff console at /staff/: each area's views module brings its own URLs."""

from portal.staff.views import (
    attempts,
    audit,
    customers,
    deliveries,
    exam_results,
    exams,
    home,
    leads,
    overview,
    partners,
    roleplays,
)

app_name = "staff"

urlpatterns = [
    *home.urlpatterns,
    *overview.urlpatterns,
    *customers.urlpatterns,
    *exams.urlpatterns,
    *exam_results.urlpatterns,
    *attempts.urlpatterns,
    *partners.urlpatterns,
    *roleplays.urlpatterns,
    *leads.urlpatterns,
    *deliveries.urlpatterns,
    *audit.urlpatterns,
]
