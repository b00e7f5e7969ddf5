"""make deploy-check (deploy/check.py): the overlays and the compose file pass, and a broken one
fails with the resource and the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.local_secrets import env_file
from deploy.check import DEPLOY, DeployError, check_compose, check_overlay, interpolated

COMPOSE = DEPLOY / "compose"


@pytest.mark.parametrize("overlay", ["single", "production", "keda"])
def test_every_overlay_renders_and_is_valid(overlay: str) -> None:
    validated, skipped = check_overlay(DEPLOY / "k8s" / "overlays" / overlay)
    assert validated >= 15
    custom = {"TriggerAuthentication/worker-redis", "ScaledObject/worker"}
    assert set(skipped) == (custom if overlay == "keda" else set())


def broken_overlay(folder: Path, patch: str) -> Path:
    """A copy of deploy/k8s with the single overlay patched so."""
    shutil.copytree(DEPLOY / "k8s", folder / "k8s")
    overlay = folder / "k8s" / "overlays" / "single"
    kustomization = overlay / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + patch)
    return overlay


def test_a_misspelt_field_fails_with_its_resource(tmp_path: Path) -> None:
    patch = (
        "  - target:\n      kind: Deployment\n      name: web\n    patch: |-\n"
        "      - op: add\n        path: /spec/template/spec/containers/0/livenesProbe\n"
        "        value: {}\n"
    )
    with pytest.raises(DeployError, match="Deployment/web.*livenesProbe"):
        check_overlay(broken_overlay(tmp_path, patch))


def test_a_wrong_type_fails(tmp_path: Path) -> None:
    patch = (
        "  - target:\n      kind: Service\n      name: web\n    patch: |-\n"
        "      - op: replace\n        path: /spec/ports/0/port\n        value: eighty\n"
    )
    with pytest.raises(DeployError, match="Service/web"):
        check_overlay(broken_overlay(tmp_path, patch))


def test_the_compose_file_is_valid_and_needs_a_public_url() -> None:
    variables = env_file(COMPOSE / "example.env")
    assert "caddy" in check_compose(COMPOSE / "compose.yaml", variables)
    with pytest.raises(DeployError, match="PUBLIC_URL is required"):
        check_compose(COMPOSE / "compose.yaml", {})


def test_a_broken_compose_file_fails(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    text = (COMPOSE / "compose.yaml").read_text()
    broken.write_text(text.replace("stop_grace_period: 60s", "stop_grace_period: a minute"))
    with pytest.raises(DeployError):
        check_compose(broken, env_file(COMPOSE / "example.env"))


def test_variables_are_filled_in_as_compose_does() -> None:
    said = "${A} ${B:-two} ${C:?needed} $${D}"
    assert interpolated(said, {"A": "one", "C": "three"}) == "one two three ${D}"
