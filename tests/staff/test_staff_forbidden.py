"""The console's 403 page says which role would allow the page or action, and the user's own."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_refused_action_names_the_role_it_needs_and_the_users_roles(viewer_client, customer):
    response = viewer_client.post(f"/staff/customers/{customer.pk}/active/", {"active": "0"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Allowed with the role: operator." in html and "Your roles: viewer." in html


def test_an_author_page_names_the_author_role(operator_client):
    response = operator_client.get("/staff/exams/new/")
    assert response.status_code == 403
    assert "Allowed with the role: author." in response.content.decode()
