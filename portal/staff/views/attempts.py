"""Exam attempts and students' accommodations in the staff console (placeholder)."""

urlpatterns: list = []
