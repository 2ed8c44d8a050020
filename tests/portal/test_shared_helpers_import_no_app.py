"""The model-free helpers at the top of portal/ (docs/architecture.md, "The layers") sit below
every app: none imports one, so no app and helper import each other (issue 13: the rate
limiter once imported the scorecard's Counter; the scorecard app now gives it the model)."""

from tests.portal.test_import_layers import app_of, apps, our_modules

HELPERS = (
    "portal.text",
    "portal.hashing",
    "portal.htmx",
    "portal.documents",
    "portal.admin",
    "portal.ratelimit",
    "portal.errors",
)


def test_the_shared_helpers_import_no_app():
    graph, app_names = our_modules(), apps()
    assert set(HELPERS) <= set(graph)
    upward = sorted(
        f"{helper} imports {name}"
        for helper in HELPERS
        for name in graph[helper]
        if app_of(name, app_names) is not None
    )
    assert upward == []


def test_the_rate_limiter_counts_in_the_model_it_was_given():
    from portal import ratelimit
    from portal.scorecards.models import Counter

    assert ratelimit._counter_table() is Counter
