"""pytest fixtures for the test LTI platform. Wire them into a conftest with
`from tests.lti_platform.fixtures import lti_platform, lti_platform_factory, lti_platform_server  # noqa: F401`.

- `lti_platform_server`: one platform subprocess for the session.
- `lti_platform`: that server, reset before the test (only the pre-made client, no tool, no links).
- `lti_platform_factory`: call it for more platforms of one's own (stopped after the test).
"""

import pytest

from .harness import LtiPlatformServer


@pytest.fixture(scope="session")
def lti_platform_server(tmp_path_factory):
    server = LtiPlatformServer(state_dir=tmp_path_factory.mktemp("lti-platform")).start()
    yield server
    server.stop()


@pytest.fixture
def lti_platform(lti_platform_server) -> LtiPlatformServer:
    if lti_platform_server.proc is not None and lti_platform_server.proc.poll() is not None:
        pytest.fail(f"the session LTI platform died; see {lti_platform_server.log_path}")
    lti_platform_server.reset()
    return lti_platform_server


@pytest.fixture
def lti_platform_factory(tmp_path_factory):
    started: list[LtiPlatformServer] = []

    def make(**kwargs) -> LtiPlatformServer:
        kwargs.setdefault("state_dir", tmp_path_factory.mktemp("lti-platform"))
        server = LtiPlatformServer(**kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
