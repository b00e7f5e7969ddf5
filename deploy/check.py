"""`make deploy-check`: every Kubernetes overlay rendered and validated, and the compose file.

Each overlay under deploy/k8s/overlays/ is rendered with `kubectl kustomize` (offline) and every
resource is validated, strictly (no unknown field), against the schemas of KUBERNETES_VERSION
(kubernetes-validate ships them). Custom resources (KEDA's) have no schema there: they are named as
not validated. deploy/compose/compose.yaml is read as Compose reads it (YAML anchors and merges,
${VARIABLES} from example.env) and validated against the Compose specification (compose-spec).
Prints what it checked; fails on the first broken file with its resource and the reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import compose_spec
import kubernetes_validate
import yaml

from bot.local_secrets import env_file
from bot.redis_server import USERS

DEPLOY = Path(__file__).resolve().parent
# The Kubernetes version the manifests are written for (README, "Kubernetes").
KUBERNETES_VERSION = "1.32.0"
CUSTOM_RESOURCES = {"keda.sh/v1alpha1"}
# ${NAME}, ${NAME:-default}, ${NAME:?error}; "$$" is a "$".
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::?([-?])([^}]*))?\}")


class DeployError(Exception):
    """A manifest or the compose file is broken; the message says which and why."""


def rendered(overlay: Path) -> list[dict[str, Any]]:
    """The resources of an overlay, as `kubectl kustomize` renders them."""
    if not shutil.which("kubectl"):
        raise DeployError(
            "kubectl 1.22 or newer is needed to render the overlays (its kustomize): the `kubectl`"
            " package of the Kubernetes apt repository (pkgs.k8s.io), or kubectl from kubernetes.io"
        )
    done = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise DeployError(f"{overlay.name}: kustomize: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def check_overlay(overlay: Path, version: str = KUBERNETES_VERSION) -> tuple[int, list[str]]:
    """Validates an overlay's resources; the count validated and the custom resources skipped."""
    validated, skipped = 0, []
    for resource in rendered(overlay):
        name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        if resource.get("apiVersion") in CUSTOM_RESOURCES:
            skipped.append(name)
            continue
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            raise DeployError(f"{overlay.name}: {name}: {where}: {error.message}") from error
        except kubernetes_validate.SchemaNotFoundError as error:
            raise DeployError(f"{overlay.name}: {name}: no such kind in {version}") from error
        validated += 1
    return validated, skipped


def interpolated(text: str, variables: dict[str, str]) -> str:
    """${NAME}, ${NAME:-default} and ${NAME:?error} filled in as Compose does."""

    def value(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if name is None:
            return "$"
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise DeployError(f"compose: {name} is required: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(value, text)


def check_compose(path: Path, variables: dict[str, str]) -> list[str]:
    """Validates a compose file against the Compose specification; its services."""
    data = yaml.safe_load(interpolated(path.read_text(encoding="utf-8"), variables))
    spec = {key: value for key, value in data.items() if not key.startswith("x-")}
    try:
        compose = compose_spec.PyCompose.from_json(json.dumps(spec))
        compose.validate()
    except ValueError as error:
        raise DeployError(f"{path.name}: {error}") from error
    return compose.service_names()


def check_redis_values(path: Path) -> list[str]:
    """The Bitnami values give the users the rules of bot/redis_server.py; the users named. (The
    cluster test, tests/cluster.py, reads its Sentinel timings from the same file.)"""
    values = yaml.safe_load(path.read_text())
    users = {user["username"]: user for user in values["auth"]["acl"]["users"]}
    if set(users) != set(USERS):
        raise DeployError(f"{path.name}: users {sorted(users)}, the project has {sorted(USERS)}")
    for name, rules in USERS.items():
        user = users[name]
        said = " ".join(filter(None, (user["keys"], user["channels"], user["commands"])))
        if (
            said.replace("resetchannels ", "").split()
            != rules.replace("resetchannels ", "").split()
        ):
            raise DeployError(f"{path.name}: user {name} has {said!r}, the project {rules!r}")
    return sorted(users)


def main() -> int:
    """Check every overlay and the compose file, printing what was checked."""
    try:
        for overlay in sorted((DEPLOY / "k8s" / "overlays").iterdir()):
            validated, skipped = check_overlay(overlay)
            extra = f"; not validated (custom): {', '.join(skipped)}" if skipped else ""
            print(
                f"k8s {overlay.name}: {validated} resources valid for {KUBERNETES_VERSION}{extra}"
            )
        compose = DEPLOY / "compose"
        services = check_compose(compose / "compose.yaml", env_file(compose / "example.env"))
        print(f"compose: valid, services {', '.join(services)}")
        users = check_redis_values(DEPLOY / "k8s" / "redis" / "values.yaml")
        print(f"redis values: users {', '.join(users)} with the project's rules")
    except DeployError as error:
        print(f"deploy-check: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
