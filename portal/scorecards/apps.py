from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "portal.scorecards"
    label = "scorecards"
    verbose_name = "AI Reality Check scorecard"

    def ready(self) -> None:
        from portal import ratelimit
        from portal.scorecards.models import Counter

        # The shared counters (portal.ratelimit, portal.metrics) live in this app's table; the
        # rate limiter is told so here, so that it depends on no app.
        ratelimit.use_counter_model(Counter)
