"""An independent LTI 1.3 platform (the LMS side) that the LTI tests launch Kafaat from.

A standalone Django project run as a subprocess (`python -m tests.lti_platform.server`), built on
the `lti1p3platform` package; it never imports Kafaat's apps. `harness.LtiPlatformServer` starts it.
"""
