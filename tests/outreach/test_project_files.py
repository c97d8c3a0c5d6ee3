"""The files around the code: compose, Dockerfile, lock files, README."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_a_postgres_db_with_a_named_volume_and_healthcheck():
    db = compose()["services"]["db"]

    image, _sep, version = db["image"].partition(":")
    assert image == "postgres"
    assert int(version.split(".")[0]) >= 15
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]


def test_compose_web_waits_for_a_healthy_db_and_reads_env():
    web = compose()["services"]["web"]

    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert web["env_file"] == ".env"
    assert web["ports"] == ["127.0.0.1:8000:8000"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["CACHE_URL"].startswith("redis://")


def test_compose_environment_names_are_settings_the_app_reads():
    source = (ROOT / "outreach" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))

    names = set(compose()["services"]["web"]["environment"])

    assert names <= read


def test_dockerfile_runs_migrations_then_gunicorn_on_port_8000():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "migrate" in dockerfile
    assert "gunicorn outreach.wsgi:application" in dockerfile
    assert "0.0.0.0:8000" in dockerfile
    assert "collectstatic" in dockerfile


def pinned(lock_name):
    versions = {}
    for line in (ROOT / lock_name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _sep, version = line.partition("==")
            versions[name.lower().replace("_", "-")] = version
    return versions


def test_lock_files_pin_versions_that_pyproject_accepts():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = pinned("requirements.lock") | pinned("requirements-dev.lock")
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]

    for spec in declared:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in locked, f"{name} is not pinned"
        assert requirement.specifier.contains(locked[name]), f"{name}=={locked[name]} vs {spec}"


def test_runtime_lock_holds_only_runtime_dependencies():
    assert "pytest" not in pinned("requirements.lock")
    assert "django" in pinned("requirements.lock")


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]

    commands = re.findall(r"^(make \w+)", quick_start, re.M)
    assert commands == ["make run", "make test"]
