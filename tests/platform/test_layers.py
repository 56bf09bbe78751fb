"""The import contracts (pyproject.toml, [tool.importlinter]) name every app: a new app left out of
the layers would be checked by nothing. (import-linter's own `exhaustive` option needs a
container package, and our apps are top-level packages.)"""

import tomllib

from django.apps import apps

from tests.processes import ROOT

WIRING_AND_TESTS = {"config", "tests"}


def _importlinter() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _contract(contract_id: str) -> dict:
    return next(c for c in _importlinter()["contracts"] if c["id"] == contract_id)


def _apps_on_disk() -> set[str]:
    """Every top-level package of ours that is not the wiring, the tests or the benchmarks."""
    return {
        p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in WIRING_AND_TESTS | {"bench"}
    }


def _layered() -> set[str]:
    return {name.strip() for layer in _contract("layers")["layers"] for name in layer.split("|")}


def test_every_app_stands_on_a_layer():
    local = {c.name for c in apps.get_app_configs() if (ROOT / c.name / "__init__.py").is_file()}
    assert local <= _apps_on_disk()
    assert _apps_on_disk() == _layered()


def test_the_contracts_analyse_every_app_and_forbid_config_and_tests_to_all_of_them():
    layered = _layered()
    assert set(_importlinter()["root_packages"]) == layered | WIRING_AND_TESTS
    assert set(_contract("no-config")["source_modules"]) == layered
    assert _contract("no-config")["forbidden_modules"] == ["config"]
    assert set(_contract("no-tests")["source_modules"]) == layered | {"config"}
    assert _contract("no-tests")["forbidden_modules"] == ["tests"]
