"""Reads of certificates and of the issuer's published keys."""

from django.db.models import QuerySet

from . import signing
from .models import Certificate, IssuerKey


def certificate_get(*, certificate_id) -> Certificate | None:
    """A certificate by its public id (the verification page is public); None when unknown."""
    return Certificate.objects.select_related("course", "path", "key", "user").filter(pk=certificate_id).first()


def certificate_list_for_user(*, user) -> QuerySet[Certificate]:
    return Certificate.objects.filter(user=user).select_related("course", "path").order_by("-issued_at")


def issuer_keys() -> list[IssuerKey]:
    return list(IssuerKey.objects.order_by("created_at"))


def resolve_key(verification_method: str):
    """The public key of one of our verification method URLs (active or retired), else None."""
    from .services import key_url

    if not isinstance(verification_method, str) or "/" not in verification_method:
        return None
    kid = verification_method.rstrip("/").rsplit("/", 1)[-1]
    key = IssuerKey.objects.filter(kid=kid).first()
    if key is None or key_url(key) != verification_method:
        return None
    return signing.public_key_from_multibase(key.public_key_multibase)


def credential_is_authentic(*, credential: dict) -> bool:
    """Whether the credential carries a valid proof by one of our keys (says nothing of revocation)."""
    return signing.verify(credential, resolve_key=resolve_key)


def verification_status(*, certificate: Certificate | None) -> str:
    """ "valid", "revoked", "invalid" (signature does not check out) or "unknown"."""
    if certificate is None:
        return "unknown"
    if certificate.is_revoked:
        return "revoked"
    return "valid" if credential_is_authentic(credential=certificate.credential) else "invalid"


def key_document(key: IssuerKey) -> dict:
    from .services import issuer_url, key_url

    return {
        "@context": signing.MULTIKEY_V1,
        "id": key_url(key),
        "type": "Multikey",
        "controller": issuer_url(),
        "publicKeyMultibase": key.public_key_multibase,
    }


def issuer_document() -> dict:
    """The issuer's controller document: every key, retired ones included, may assert credentials."""
    from .services import ISSUER_NAME, issuer_url

    keys = [key_document(k) for k in issuer_keys()]
    return {
        "@context": [signing.DID_V1, signing.MULTIKEY_V1],
        "id": issuer_url(),
        "name": ISSUER_NAME,
        "verificationMethod": keys,
        "assertionMethod": [k["id"] for k in keys],
    }
