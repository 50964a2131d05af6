"""The registry is the only list of models, and loading one model never drags in the others."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rosetta import registry


def test_names_are_unique_and_sided() -> None:
    names = [model.name for model in registry.MODELS]
    assert len(names) == len(set(names))
    for model in registry.MODELS:
        assert model.side in ("classic", "modern")
        assert model.jobs <= set(registry.JOBS), model.name
        assert model.module.split(".", 1)[0] == model.side, model.name


def test_counterparts_cross_sides() -> None:
    for model in registry.MODELS:
        for name in model.counterparts:
            assert registry.get(name).side != model.side, (model.name, name)


def test_default_models_serve_their_job() -> None:
    for job, name in registry.DEFAULT_MODEL.items():
        assert job in registry.get(name).jobs


def test_a_missing_dependency_only_affects_its_own_model() -> None:
    broken = registry.Model(
        name="classic.imaginary",
        module="classic.imaginary",
        jobs=frozenset({"echo"}),
        section="§0",
        summary="needs a package nobody has",
        needs=("no_such_package_xyz",),
    )
    assert not broken.available
    assert broken.missing == ("no_such_package_xyz",)
    with pytest.raises(registry.ModelUnavailable, match="no_such_package_xyz"):
        broken.load()
    assert all(model.available for model in registry.MODELS)


def test_unknown_name() -> None:
    with pytest.raises(registry.UnknownModel, match="known:"):
        registry.get("modern.nothing")


def test_variants_cover_listed_options() -> None:
    streams = registry.get("modern.streams")
    assert sorted(v["loop"] for v in streams.variants()) == ["asyncio", "uvloop"]
    assert list(registry.get("classic.blocking").variants()) == [{}]


def test_cli_imports_no_model_or_heavy_library() -> None:
    code = (
        "import sys, rosetta.cli as cli; cli.build_parser(); "
        "heavy = [m for m in ('gevent', 'greenlet', 'uvloop', 'aiohttp', 'libcst') "
        "if m in sys.modules]; "
        "models = [m for m in sys.modules if m.startswith(('classic.', 'modern.'))]; "
        "print(heavy, models)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[] []"


def test_which_http_models_serve_tls() -> None:
    """Every modern server and the classic ones with a flow of control per client serve
    HTTPS; the readiness loops refuse it (classic._tls says why)."""
    tls = {model.name for model in registry.serving("http") if model.tls}
    modern = {model.name for model in registry.serving("http") if model.side == "modern"}
    per_client = {"classic.blocking", "classic.forking", "classic.threads", "classic.gevent_server"}
    assert tls == modern | per_client
