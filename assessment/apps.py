from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = "Assessment"  # no models, so shown nowhere (as kernel's)
