"""The page states of tests/browser/site.py cover the URL matrix: every URL name that some role may
GET (status 200 in tests/security/url_matrix.py) has a state in site.py, which the axe and reflow
checks visit, or a reason in site.EXCUSED to be left out (files, JSON, fragments)."""

import pytest
from django.urls import resolve

from tests.security.url_matrix import MATRIX, NAMESPACE_RULES

from .site import EXCUSED, EXCUSED_NAMESPACES, build, groups

pytestmark = pytest.mark.django_db


def _gettable(rule: dict) -> bool:
    return any(200 in (v if isinstance(v, set) else {v}) for v in rule["expect"].values())


def test_every_page_of_the_url_matrix_has_a_state_in_site_py_or_a_reason_to_be_left_out():
    site = build()
    visited = {resolve(url.split("?")[0]).view_name for _user, urls in groups(site) for url in urls.values()}
    gettable = {name for name, rule in MATRIX.items() if _gettable(rule)}
    missing = sorted(gettable - visited - set(EXCUSED) - {n for n in gettable if n.split(":")[0] in EXCUSED_NAMESPACES})
    assert not missing, f"add a state for these pages to tests/browser/site.py (or excuse them): {missing}"
    assert not set(EXCUSED) & visited, "an excused URL has a state: drop its excuse"
    assert not set(EXCUSED) - set(MATRIX), "EXCUSED names URLs the matrix does not have"
    assert set(EXCUSED_NAMESPACES) <= set(NAMESPACE_RULES)
    assert all(EXCUSED.values()) and all(EXCUSED_NAMESPACES.values()), "every excuse says why"
