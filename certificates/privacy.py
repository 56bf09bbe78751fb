"""Certificates' part of a learner's export and erasure, collected by the privacy app
(CertificatesConfig.privacy_export and .privacy_erase)."""

from django.apps import apps
from django.forms.models import model_to_dict

from .models import Certificate


def export(*, user) -> dict[str, list[dict]]:
    """Every row of this app's models that points at the user (a `user` or `learner` key)."""
    rows = []
    for model in apps.get_app_config("certificates").get_models():
        field = next((f for f in model._meta.fields if f.name in {"user", "learner"} and f.is_relation), None)
        if field is None:
            continue
        for obj in model.objects.filter(**{field.name: user}).order_by("pk"):
            rows.append({"type": model._meta.model_name, **{k: v for k, v in model_to_dict(obj).items()}})
    return {"certificates": rows}


def erase(*, user, now, reason: str) -> None:
    """A certificate names its holder, in its page and inside its signed credential: revoke it (so
    /verify/ still answers, as revoked) and wipe the name and the credential."""
    Certificate.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason="The holder erased their account (right to erasure)."
    )
    Certificate.objects.filter(user=user).update(learner_name="", credential={})
