"""One check for every uploaded file: size-limited and type-checked by its content, not by the
name or the Content-Type the browser sent. Use it as a form or model field validator:

    from kernel.uploads import UploadValidator
    archive = forms.FileField(validators=[UploadValidator(kinds={"zip"}, max_bytes=20 * 1024 * 1024)])
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# The first bytes of each kind we accept. Text kinds are checked by decoding instead.
_MAGIC = {
    "pdf": [b"%PDF-"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "jpeg": [b"\xff\xd8\xff"],
    "zip": [b"PK\x03\x04", b"PK\x05\x06"],
    "gif": [b"GIF87a", b"GIF89a"],
    # libpcap, both byte orders, microsecond and nanosecond timestamps; pcapng's section header.
    "pcap": [b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"],
    "pcapng": [b"\x0a\x0d\x0d\x0a"],
}
_EXTENSIONS = {
    "pdf": {".pdf"}, "png": {".png"}, "jpeg": {".jpg", ".jpeg"}, "zip": {".zip"}, "gif": {".gif"},
    "csv": {".csv"}, "txt": {".txt"}, "py": {".py"}, "json": {".json"}, "yaml": {".yaml", ".yml"},
    "log": {".log"}, "pcap": {".pcap", ".cap"}, "pcapng": {".pcapng"},
}  # fmt: skip
_TEXT_KINDS = {"csv", "txt", "py", "json", "yaml", "log"}


def sniff_kind(head: bytes, name: str = "") -> str | None:
    """The kind of a file from its first bytes (and, for text, its extension), or None."""
    for kind, signatures in _MAGIC.items():
        if any(head.startswith(sig) for sig in signatures):
            return kind
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return None
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return next((k for k in _TEXT_KINDS if ext in _EXTENSIONS[k]), "txt")


@deconstructible
class UploadValidator:
    """Refuse a file over `max_bytes` (default settings.KAFAAT_UPLOAD_MAX_BYTES), or whose content
    is not one of `kinds`, or whose extension does not match its content."""

    def __init__(self, *, kinds: set[str] | frozenset[str], max_bytes: int | None = None):
        unknown = set(kinds) - set(_EXTENSIONS)
        if unknown:
            raise ValueError(f"unknown upload kinds: {sorted(unknown)}")
        self.kinds = frozenset(kinds)
        self.max_bytes = max_bytes

    def __call__(self, file) -> None:
        limit = self.max_bytes or settings.KAFAAT_UPLOAD_MAX_BYTES
        name = getattr(file, "name", "") or ""
        if file.size is not None and file.size > limit:
            raise ValidationError(
                _("%(name)s is too large (%(size)d bytes); the limit is %(limit)d bytes."),
                code="file_too_large",
                params={"name": name, "size": file.size, "limit": limit},
            )
        position = file.tell() if hasattr(file, "tell") else 0
        file.seek(0)
        head = file.read(2048)
        file.seek(position)
        kind = sniff_kind(head, name)
        ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind not in self.kinds or (ext and ext not in _EXTENSIONS[kind]):
            raise ValidationError(
                _("%(name)s is not an accepted file type (accepted: %(kinds)s)."),
                code="file_type",
                params={"name": name, "kinds": ", ".join(sorted(self.kinds))},
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, UploadValidator) and (self.kinds, self.max_bytes) == (other.kinds, other.max_bytes)
