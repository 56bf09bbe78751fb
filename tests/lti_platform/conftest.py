# The platform's fixtures for its own tests here (the lead wires them for the LTI tests elsewhere).
from .fixtures import lti_platform, lti_platform_factory, lti_platform_server  # noqa: F401 - pytest fixtures
