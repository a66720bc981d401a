"""The deployment files (issue 13, item 2): docker-compose.yml as Debian's `docker-compose config` reads it, every
setting passed through from .env and documented in .env.example, the production image and its lock, and the nginx
config as nginx itself reads it. No Docker engine is needed. Without docker-compose or nginx the tests that run them
are skipped, except under CI=true, where they fail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from contestbell.settings import Settings
from tests.processes import REPO

pytestmark = pytest.mark.stack

#: set by the image (Dockerfile ENV), not by the compose file
IMAGE_SETTINGS = {"CONTESTBELL_HTTP_HOST": "0.0.0.0", "CONTESTBELL_HTTP_PORT": "8080",
                  "CONTESTBELL_DATA_DIR": "/data"}
#: where the compose topology decides, not the operator
TOPOLOGY_SETTINGS = {"CONTESTBELL_DATABASE_URL", "CONTESTBELL_REDIS_URL"}
APP_SERVICES = ("migrate", "web", "worker", "scheduler")
TEST_TOOLS = ("pytest", "pytest-asyncio", "ruff", "playwright", "schemathesis", "hypothesis", "aiosmtpd",
              "axe-playwright-python", "openapi-core", "pyyaml")
TEST_ENV = "CONTESTBELL_SECRET_KEY=test-secret-key-not-for-production\nPOSTGRES_PASSWORD=test-password\n"


def unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def clean_environment() -> dict[str, str]:
    """The environment without the settings compose would interpolate (the shell wins over .env)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CONTESTBELL_", "POSTGRES_"))}


def compose_config(tmp_path: Path, *files: str, env_text: str = TEST_ENV) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        unavailable("docker-compose is not installed (scripts/deploy-tools installs Debian's docker-compose)")
    env_file = tmp_path / "test.env"
    env_file.write_text(env_text)
    arguments = [arg for name in files or ("docker-compose.yml",) for arg in ("-f", str(REPO / name))]
    return subprocess.run([binary, *arguments, "--project-directory", str(REPO), "--env-file", str(env_file),
                           "config"], capture_output=True, text=True, env=clean_environment(), timeout=60)


@pytest.fixture(scope="module")
def compose_file() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def settings_environment(compose: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in compose["x-contestbell-environment"].items()}


def compose_default(raw: str) -> str:
    """What `${VAR:-default}` gives when VAR is unset."""
    match = re.fullmatch(r"\$\{[A-Z0-9_]+:-([^}]*)\}", raw)
    assert match, f"{raw!r} is not ${{VAR:-default}}"
    return match[1]


def test_docker_compose_accepts_the_file_with_a_test_env(tmp_path):
    result = compose_config(tmp_path)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    always = {name for name, spec in services.items() if not spec.get("profiles")}
    assert {"postgres", "redis", "migrate", "web", "worker", "scheduler", "nginx"} <= always

    # no host ports but nginx's (an optional profile may publish its own, on 127.0.0.1 only)
    assert [name for name in always if services[name].get("ports")] == ["nginx"]
    for name, spec in services.items():
        if spec.get("profiles"):
            assert all(port.startswith("127.0.0.1:") if isinstance(port, str) else port.get("host_ip") == "127.0.0.1"
                       for port in spec.get("ports", [])), name

    # healthchecks everywhere (migrate is a one-shot that others wait to have completed) and healthy dependencies
    for name in always - {"migrate"}:
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert services["migrate"]["healthcheck"]["test"] == ["NONE"]
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"}}, name
        assert services[name]["deploy"]["replicas"] == 2
    assert services["nginx"]["depends_on"] == {"web": {"condition": "service_healthy"}}

    # the secrets come from the env file, and only from there
    web = services["web"]["environment"]
    assert web["CONTESTBELL_SECRET_KEY"] == "test-secret-key-not-for-production"
    assert web["CONTESTBELL_DATABASE_URL"] == "postgres://contestbell:test-password@postgres:5432/contestbell"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "test-password"
    text = (REPO / "docker-compose.yml").read_text()
    assert "test-password" not in text and "PASSWORD: contestbell" not in text


def test_docker_compose_refuses_to_run_without_the_secrets(tmp_path):
    result = compose_config(tmp_path, env_text="")
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD" in result.stderr or "set CONTESTBELL_SECRET_KEY" in result.stderr


def test_the_tls_override_adds_port_443_and_the_certificates(tmp_path):
    result = compose_config(tmp_path, "docker-compose.yml", "docker-compose.tls.yml")
    assert result.returncode == 0, result.stderr
    nginx = yaml.safe_load(result.stdout)["services"]["nginx"]
    assert {port["target"] for port in nginx["ports"]} == {80, 443}
    assert any(volume.endswith(":/etc/nginx/certs:ro") for volume in nginx["volumes"])
    assert any(volume.endswith("/nginx/tls.conf:/etc/nginx/conf.d/tls.conf:ro") for volume in nginx["volumes"])


def test_every_setting_is_passed_from_the_env_file_with_contestbells_own_default(compose_file, monkeypatch):
    passed = settings_environment(compose_file)
    names = {f"CONTESTBELL_{name.upper()}" for name in Settings.model_fields}
    missing = names - set(passed) - set(IMAGE_SETTINGS)
    assert not missing, (f"{sorted(missing)}: add them to docker-compose.yml's x-contestbell-environment as "
                         "${NAME:-default} and document them in .env.example")
    assert not set(passed) - names, "docker-compose.yml passes settings that contestbell does not have"

    for key in list(os.environ):
        if key.startswith("CONTESTBELL_"):
            monkeypatch.delenv(key)
    defaults = Settings()
    for key, raw in passed.items():
        if key in TOPOLOGY_SETTINGS or key == "CONTESTBELL_SECRET_KEY":
            continue
        monkeypatch.setenv(key, compose_default(raw))
    from_compose = Settings()
    for name in Settings.model_fields:
        key = f"CONTESTBELL_{name.upper()}"
        if key in TOPOLOGY_SETTINGS | set(IMAGE_SETTINGS) | {"CONTESTBELL_SECRET_KEY"}:
            continue
        assert getattr(from_compose, name) == getattr(defaults, name), (
            f"{key}: docker-compose.yml's default differs from contestbell/settings.py's")
    assert "${CONTESTBELL_SECRET_KEY:?" in passed["CONTESTBELL_SECRET_KEY"]


def test_env_example_documents_every_setting_and_holds_no_secret(compose_file):
    example = (REPO / ".env.example").read_text()
    documented = dict(re.findall(r"(?m)^#?([A-Z][A-Z0-9_]+)=(.*)$", example))
    for key, raw in settings_environment(compose_file).items():
        if key in TOPOLOGY_SETTINGS:
            continue
        assert key in documented, f"{key} is not in .env.example"
        if key != "CONTESTBELL_SECRET_KEY":
            assert documented[key] == compose_default(raw), f"{key}: .env.example shows another default"
    assert documented["CONTESTBELL_SECRET_KEY"] == "" and documented["POSTGRES_PASSWORD"] == ""
    for secret in ("PASSWORD", "SECRET", "API_KEY", "TOKEN", "DSN"):
        assert all(value == "" for key, value in documented.items() if secret in key), secret
    assert ".env" in (REPO / ".gitignore").read_text().split()
    assert ".env" in (REPO / ".dockerignore").read_text().split()


def test_the_image_is_for_production(compose_file):
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "requirements-prod.lock" in dockerfile and "requirements.lock" not in dockerfile.replace(
        "requirements-prod.lock", "")
    assert re.search(r"(?m)^EXPOSE 8080$", dockerfile)
    assert re.search(r"(?m)^HEALTHCHECK ", dockerfile)
    assert re.search(r"(?m)^USER contestbell$", dockerfile)
    for key, value in IMAGE_SETTINGS.items():
        assert f"{key}={value}" in dockerfile
    assert "install -d -o contestbell" in dockerfile  # the data directory is the user's
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".venv", ".git", "var", "tests", "test-artifacts", ".env", "certs"):
        assert entry in ignored, entry


def pins(path: Path) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version
            for name, version in re.findall(r"(?m)^([A-Za-z0-9_.-]+)==(\S+)", path.read_text())}


def test_the_production_lock_is_the_full_lock_without_the_test_tools():
    import tomllib

    production, full = pins(REPO / "requirements-prod.lock"), pins(REPO / "requirements.lock")
    assert not [tool for tool in TEST_TOOLS if tool in production]
    assert {name: version for name, version in production.items() if full.get(name) != version} == {}, \
        "requirements-prod.lock pins other versions than requirements.lock: regenerate it (README, Production)"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", requirement).groups()
        assert production.get(name.lower().replace("_", "-")) == version, (
            f"{requirement} is not in requirements-prod.lock: regenerate it (README, Production)")


def test_nginx_accepts_the_production_config_with_tls(tmp_path):
    """nginx -t on contestbell.conf, server.conf and tls.conf, with a self-signed certificate. Debian's nginx 1.22
    does not know `server ... resolve` (1.27.3+), so that word and the resolver are the only things taken out."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        unavailable("nginx is not installed (scripts/deploy-tools installs Debian's nginx)")
    certs = tmp_path / "certs"
    certs.mkdir()
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                           "/CN=localhost", "-keyout", str(certs / "privkey.pem"), "-out",
                           str(certs / "fullchain.pem")], capture_output=True, text=True)
    if made.returncode != 0:
        unavailable(f"openssl could not make a test certificate: {made.stderr.strip()}")
    conf = tmp_path / "conf"
    conf.mkdir()
    (tmp_path / "cache").mkdir()
    for name in ("contestbell.conf", "server.conf", "tls.conf"):
        text = (REPO / "nginx" / name).read_text()
        text = re.sub(r"(?m)^resolver .*$", "", text).replace(" resolve ", " ")
        text = (text.replace("/etc/nginx/contestbell/", f"{conf}/").replace("/etc/nginx/certs/", f"{certs}/")
                .replace("/var/log/nginx/", f"{tmp_path}/").replace("/var/cache/nginx/", f"{tmp_path}/cache/")
                .replace("server web:8080", "server 127.0.0.1:9")
                .replace("listen 80;", "listen 127.0.0.1:9;").replace("listen 443 ", "listen 127.0.0.1:10 "))
        (conf / name).write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n"
                    f"include {conf}/contestbell.conf;\ninclude {conf}/tls.conf;\n}}\n")
    checked = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-e", "stderr", "-c", str(main)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_healthcheck_tells_an_unreachable_web_process_and_database(tmp_path):
    env = {**clean_environment(), "CONTESTBELL_HTTP_PORT": "9", "CONTESTBELL_DATABASE_URL":
           "postgres://nobody@127.0.0.1:9/nothing", "CONTESTBELL_REDIS_URL": "redis://127.0.0.1:9/0"}
    for kind, expected in (("web", "http://127.0.0.1:9/healthz does not answer"),
                           ("worker", "the database does not answer")):
        result = subprocess.run([sys.executable, "-m", "contestbell.healthcheck", kind], env=env, cwd=REPO,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 1, result.stderr
        assert expected in result.stderr
