from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "portal.scorecards"
    label = "scorecards"
    verbose_name = "AI Reality Check scorecard"
