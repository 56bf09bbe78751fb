from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = "Kernel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import events  # noqa: F401 - registers the batch consumer task (kernel.deferred_run)
