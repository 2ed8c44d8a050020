"""A candidate in a roleplay cluster (tests/factories.py's make_cluster), signed in as the
launch leaves them: the assessment in the Django session."""

import pytest

from portal.roleplays.views import SESSION_KEY
from tests.factories import make_assessment, make_cluster


@pytest.fixture
def world():
    cluster, partner, options = make_cluster()
    return {"cluster": cluster, "options": options, "assessment": make_assessment(cluster, partner)}


@pytest.fixture
def candidate(client, world):
    session = client.session
    session[SESSION_KEY] = world["assessment"].pk
    session.save()
    return client
