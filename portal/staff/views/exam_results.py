"""An exam's results and item analysis in the staff console (placeholder)."""

urlpatterns: list = []
