import pytest

from .urlwalk import build_world


@pytest.fixture
def url_world(db):
    """The world the URL matrix walks (tests/security/urlwalk.py)."""
    return build_world()
