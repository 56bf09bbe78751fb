"""Privacy: the learner's rights over their data. An export of everything the platform holds
about them, an erasure (asked for, after a grace period, or by retention), and the retention
rules the beat task enforces. Every app gives its own part of an export and of an erasure through
a hook (privacy.hooks): this app reads and writes only its own tables (exports, erasure requests)."""

from .erasure import account_erase, deletion_cancel, deletion_request
from .exports import export_build, export_file, export_request, export_sections, exports_expire
from .retention import deletions_run_due, inactive_accounts_erase, retention_enforce

__all__ = [
    "account_erase",
    "deletion_cancel",
    "deletion_request",
    "deletions_run_due",
    "export_build",
    "export_file",
    "export_request",
    "export_sections",
    "exports_expire",
    "inactive_accounts_erase",
    "retention_enforce",
]
