"""`./dev stack`: the topology of docker-compose.yml as local processes, without Docker.

Everything comes from the compose file: which services there are, each one's command, environment (with `${VAR}`,
`${VAR:-default}`, `${VAR-default}`, `${VAR:?error}` and `$$` taken from the environment, then `.env`), replicas
(`deploy.replicas`, else 1, or `--scale SERVICE=N`), healthcheck, depends_on conditions, restart policy and
stop_grace_period. What Docker would provide is replaced by this machine's own:

- a service whose image is `postgres` is the local PostgreSQL: the stack's own database (CONTESTBELL_STACK_DB,
  default contestbell_stack) is created there through CONTESTBELL_STACK_PG (default
  postgres://postgres@127.0.0.1:5432/postgres) and kept between runs; every environment value that is an address
  of that service becomes the local database's address;
- a service whose image is `redis` is the local Redis, database CONTESTBELL_STACK_REDIS (default
  redis://127.0.0.1:6379/9), emptied at each start (the compose Redis keeps nothing either);
- a service whose image is `nginx` is Debian's nginx, with the conf files the compose file mounts into
  /etc/nginx/conf.d, rewritten: upstream servers naming a service point at its local processes' ports (without
  `resolve`), the Docker resolver goes, `listen 80` becomes 127.0.0.1:CONTESTBELL_STACK_PORT (default 8088), and
  the other mounted folders, /var/log/nginx and /var/cache/nginx, become the stack's folders. It runs as the
  current user with `-p STACKDIR/nginx -g 'daemon off;'`; its access log is STACKDIR/nginx/logs/access.log;
- every service built from this repository (`build:`) runs its command from the venv, each web process on a free
  local port (CONTESTBELL_HTTP_HOST=127.0.0.1, CONTESTBELL_HTTP_PORT), all sharing STACKDIR/data as the data
  directory. CONTESTBELL_PUBLIC_URL defaults to the stack's address, and CONTESTBELL_SECRET_KEY, when it is set
  nowhere, to a key made once and kept in STACKDIR/secret_key (the stack listens on 127.0.0.1 only).

Each process runs in its own process group; on Ctrl-C, SIGTERM or SIGHUP the stack stops them in the reverse order
of depends_on (nginx first), each with its stop signal and, after its grace period, SIGKILL to the whole group, and
exits once none is left. A process that exits while the stack starts stops the start (its output says why); once
the stack is ready, one that exits is restarted as its restart policy says. The current
processes are written to STACKDIR/processes.json; processes left by a stack that was killed (SIGKILL) are stopped
at the next start. STACKDIR is CONTESTBELL_STACK_DIR (default var/stack).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: `contestbell` and `python` of the compose commands
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DB = "contestbell_stack"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
DEFAULT_PORT = 8088
STARTUP_TIMEOUT = 180.0
#: a process counts as healthy only after running this long (one that dies of a bad setting does so sooner)
STEADY = 3.0
#: compose's default grace period between the stop signal and SIGKILL
DEFAULT_GRACE = 10.0
#: set in every process the stack starts, to the stack's folder: how its processes are found again
MARKER = "CONTESTBELL_STACK"
#: settings that make a process listen: each process of the stack gets a free port of its own for them
LISTEN_SETTINGS = ("CONTESTBELL_HTTP_PORT", "CONTESTBELL_METRICS_PORT")
#: what the official nginx image sets as STOPSIGNAL: a graceful stop that lets requests in flight finish
NGINX_STOP_SIGNAL = "SIGQUIT"


class StackError(Exception):
    """The stack cannot start as asked; the message says why and what to do."""


# --- reading the compose file ---------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:(?P<dollar>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                       r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: str, env: Mapping[str, str], *, strict: bool = True) -> str:
    """Compose's variable substitution. `strict=False` turns `${VAR:?message}` errors into empty values (to look at
    a value the stack replaces anyway)."""

    def substitute(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"] or ""
        present = name in env
        current = env.get(name, "")
        if op in (":-", "-"):
            return current if (current if op == ":-" else present) else arg
        if op in (":?", "?"):
            if not (current if op == ":?" else present):
                if strict:
                    raise StackError(f"{name}: {arg or 'must be set'} (the compose file requires it)")
                return ""
            return current
        return current

    return _VARIABLE.sub(substitute, value)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads .env: comments and blank lines skipped, `export ` and quotes removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def duration(value: Any, default: float) -> float:
    """A compose duration (`10s`, `1m30s`, `500ms`, or a number of seconds)."""
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    total, parts = 0.0, re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(value))
    if not parts:
        raise StackError(f"{value!r} is not a duration")
    for number, unit in parts:
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}[unit]
    return total


def environment_of(spec: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:` as a mapping (compose allows a list of KEY=VALUE too); values not interpolated."""
    raw = spec.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def depends_on(spec: dict[str, Any]) -> dict[str, str]:
    """service -> condition (service_started, service_healthy, service_completed_successfully)."""
    raw = spec.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {name: (value or {}).get("condition", "service_started") for name, value in raw.items()}


def kind_of(spec: dict[str, Any]) -> str:
    if "build" in spec:
        return "app"
    image = str(spec.get("image", "")).rsplit("/", 1)[-1].split(":", 1)[0]
    if image in ("postgres", "redis", "nginx"):
        return image
    raise StackError(f"don't know how to run image {spec.get('image')!r} without Docker")


def ordered(services: dict[str, dict[str, Any]]) -> list[str]:
    """The services in an order where each comes after what it depends on."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise StackError(f"depends_on goes round in a circle: {' -> '.join((*path, name))}")
        if name not in services:
            raise StackError(f"{path[-1]} depends on {name}, which the compose file does not define")
        for dependency in depends_on(services[name]):
            visit(dependency, (*path, name))
        done.append(name)

    for name in services:
        visit(name, ())
    return done


# --- the processes ----------------------------------------------------------------------------------------------

@dataclass
class Process:
    name: str              # web-1
    service: str           # web
    argv: list[str]
    env: dict[str, str]
    one_shot: bool = False
    restart: str = "no"
    grace: float = DEFAULT_GRACE
    stop_signal: signal.Signals = signal.SIGTERM
    healthcheck: list[str] | None = None
    health_timeout: float = 5.0
    port: int | None = None
    address: str = ""
    popen: subprocess.Popen[bytes] | None = None
    healthy: bool = False
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    pumps: list[threading.Thread] = field(default_factory=list)
    extra_ports: dict[str, int] = field(default_factory=dict)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Output:
    """Every process's output on the stack's stdout, each line prefixed with the process's name (as compose does)."""

    def __init__(self, width: int = 12) -> None:
        self.width = width
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        with self.lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def pump(self, name: str, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            self.say(f"{name:<{self.width}}| {raw.decode('utf-8', 'replace').rstrip()}")
        stream.close()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone(pid: int) -> bool:
    """Has this process ended (a zombie that its parent, not the stack, has yet to reap counts as ended)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


# --- the stack --------------------------------------------------------------------------------------------------

@dataclass
class Options:
    compose_file: Path
    env_file: Path
    directory: Path
    port: int
    pg_admin: str
    database: str
    redis: str
    nginx: str
    scale: dict[str, int]
    timeout: float
    profiles: list[str] = field(default_factory=list)


class Stack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.out = Output()
        self.stopping = threading.Event()
        try:
            document = yaml.safe_load(options.compose_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise StackError(f"cannot read {options.compose_file}: {error}") from error
        #: the services of the active profiles, as compose picks them (a service without `profiles` always runs)
        self.services: dict[str, dict[str, Any]] = {
            name: spec for name, spec in (document.get("services") or {}).items()
            if not spec.get("profiles") or set(spec["profiles"]) & set(options.profiles)}
        self.order = ordered(self.services)
        self.kinds = {name: kind_of(spec) for name, spec in self.services.items()}
        self.base = options.compose_file.parent
        self.env = {**read_dotenv(options.env_file), **os.environ}  # the shell wins over .env, as in compose
        self.processes: dict[str, list[Process]] = {}
        self.database_url = options.pg_admin.rsplit("/", 1)[0] + "/" + options.database
        self.nginx_dir = options.directory / "nginx"
        #: set once everything is up: from then on a process that exits is restarted, before that it stops the start
        self.ready = False

    # -- what the compose file says, resolved here

    def value(self, raw: Any) -> str:
        return interpolate(str(raw), self.env)

    def replicas(self, name: str) -> int:
        if name in self.options.scale:
            return self.options.scale[name]
        deploy = self.services[name].get("deploy") or {}
        return int(self.value(deploy.get("replicas", 1)))

    def local_address(self, raw: str) -> str | None:
        """The local replacement of an address that names a postgres or redis service, else None."""
        if "://" not in raw:
            return None
        host = urlsplit(interpolate(raw, self.env, strict=False)).hostname
        kind = self.kinds.get(host or "")
        if kind == "postgres":
            return self.database_url
        if kind == "redis":
            return self.options.redis
        return None

    def app_environment(self, name: str) -> dict[str, str]:
        env = dict(os.environ)
        for key, raw in environment_of(self.services[name]).items():
            env[key] = self.local_address(raw) or self.value(raw)
        env["CONTESTBELL_DATA_DIR"] = str(self.options.directory / "data")
        env["CONTESTBELL_HTTP_HOST"] = "127.0.0.1"
        if not env.get("CONTESTBELL_PUBLIC_URL"):
            env["CONTESTBELL_PUBLIC_URL"] = f"http://127.0.0.1:{self.options.port}"
        env.setdefault("PYTHONUNBUFFERED", "1")
        env[MARKER] = str(self.options.directory)
        return env

    def local_command(self, argv: list[str]) -> list[str]:
        head = argv[0]
        if head in ("python", "python3"):
            return [sys.executable, *argv[1:]]
        if (BIN / head).exists():
            return [str(BIN / head), *argv[1:]]
        return argv

    def healthcheck(self, spec: dict[str, Any]) -> tuple[list[str] | None, float]:
        check = spec.get("healthcheck") or {}
        test = check.get("test")
        if check.get("disable") or not test or test == ["NONE"]:
            return None, 0.0
        timeout = duration(check.get("timeout"), 30.0)
        if isinstance(test, str):
            return ["/bin/sh", "-c", self.value(test)], timeout
        test = [self.value(part) for part in test]
        if test[0] == "CMD-SHELL":
            return ["/bin/sh", "-c", " ".join(test[1:])], timeout
        return self.local_command(test[1:] if test[0] == "CMD" else test), timeout

    # -- set-up

    def secret_key(self) -> None:
        if self.env.get("CONTESTBELL_SECRET_KEY"):
            return
        kept = self.options.directory / "secret_key"
        if not kept.exists():
            kept.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
            kept.chmod(0o600)
        self.env["CONTESTBELL_SECRET_KEY"] = kept.read_text(encoding="utf-8").strip()
        self.out.say(f"CONTESTBELL_SECRET_KEY is not set: using the key kept in {kept}")

    def prepare_postgres(self) -> None:
        import asyncio

        import asyncpg

        async def create() -> bool:
            admin = await asyncpg.connect(self.options.pg_admin, timeout=10)
            try:
                exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.options.database)
                if not exists:
                    await admin.execute(f'CREATE DATABASE "{self.options.database}"')
                return not exists
            finally:
                await admin.close()

        try:
            created = asyncio.run(create())
        except (OSError, asyncpg.PostgresError) as error:
            raise StackError(f"PostgreSQL at {self.options.pg_admin} does not answer ({error}): scripts/services "
                             "starts it, or set CONTESTBELL_STACK_PG") from error
        where = urlsplit(self.options.pg_admin)
        self.out.say(f"{'postgres':<12}  local PostgreSQL {where.hostname}:{where.port or 5432}, database "
                     f"{self.options.database} ({'created' if created else 'kept from the last run'})")

    def prepare_redis(self) -> None:
        import redis

        client = redis.Redis.from_url(self.options.redis, socket_connect_timeout=5)
        try:
            client.flushdb()
        except (OSError, redis.RedisError) as error:
            raise StackError(f"Redis at {self.options.redis} does not answer ({error}): scripts/services starts it, "
                             "or set CONTESTBELL_STACK_REDIS") from error
        finally:
            client.close()
        self.out.say(f"{'redis':<12}  local Redis {self.options.redis} (emptied)")

    def plan_app(self, name: str) -> list[Process]:
        spec = self.services[name]
        command = spec.get("command")
        if isinstance(command, str):
            command = command.split()
        if not command:
            raise StackError(f"service {name} has no command (the image's CMD is not known here)")
        argv = self.local_command([self.value(part) for part in command])
        check, health_timeout = self.healthcheck(spec)
        restart = self.value(spec.get("restart", "no"))
        one_shot = restart == "no" and any(
            depends_on(other).get(name) == "service_completed_successfully" for other in self.services.values())
        listens = name in self.upstream_hosts() or argv[-1] in ("web", "run")
        processes = []
        count = self.replicas(name)
        for index in range(1, count + 1):
            env = self.app_environment(name)
            process = Process(f"{name}-{index}" if count > 1 or not one_shot else name, name, argv, env,
                              one_shot=one_shot, restart=restart, grace=duration(spec.get("stop_grace_period"),
                                                                                   DEFAULT_GRACE),
                              stop_signal=signal.Signals[self.value(spec.get("stop_signal", "SIGTERM"))],
                              healthcheck=check, health_timeout=health_timeout)
            if listens:
                process.port = free_port()
                env["CONTESTBELL_HTTP_PORT"] = str(process.port)
                process.address = f"http://127.0.0.1:{process.port}"
            for setting in LISTEN_SETTINGS:  # each process on a port of its own (or none for a one-shot)
                if setting != "CONTESTBELL_HTTP_PORT" and env.get(setting, "0") not in ("", "0"):
                    env[setting] = "" if one_shot else str(free_port())
                    if not one_shot:
                        process.extra_ports[setting] = int(env[setting])
            processes.append(process)
        return processes

    # -- nginx

    def mounts(self, spec: dict[str, Any]) -> dict[str, Path]:
        """container path -> host path, from the short volume syntax (HOST:CONTAINER[:MODE]) of bind mounts."""
        found = {}
        for volume in spec.get("volumes") or []:
            if not isinstance(volume, str):
                volume = f"{volume['source']}:{volume['target']}"
            parts = self.value(volume).split(":")
            if len(parts) >= 2 and parts[0].startswith((".", "/")):
                found[parts[1].rstrip("/")] = (self.base / parts[0]).resolve()
        return found

    def upstream_hosts(self) -> set[str]:
        """The services that nginx's upstreams name (`server web:8080 ...`): their processes get a local port."""
        hosts = set()
        for name, kind in self.kinds.items():
            if kind != "nginx":
                continue
            for source in self.mounts(self.services[name]).values():
                for path in (sorted(source.glob("*.conf")) if source.is_dir() else [source]):
                    text = path.read_text(encoding="utf-8") if path.is_file() else ""
                    hosts.update(re.findall(r"(?m)^[ \t]*server\s+([A-Za-z0-9_.-]+):\d+[^;{]*;", text))
        return hosts & set(self.services)

    def upstream_servers(self, host: str, params: str) -> list[str] | None:
        """`server 127.0.0.1:PORT params;` for each local process of service `host`, or None if it is no service."""
        if host not in self.processes:
            return None
        params = " ".join(word for word in params.split() if word != "resolve")
        return [f"server {process.address.removeprefix('http://')}{' ' + params if params else ''};"
                for process in self.processes[host] if process.port]

    def rewrite_nginx(self, text: str, mounts: dict[str, Path], written: dict[Path, Path]) -> str:
        def server(match: re.Match[str]) -> str:
            lines = self.upstream_servers(match["host"], match["params"] or "")
            if lines is None:
                return match[0]
            return "\n".join(match["indent"] + line for line in lines)

        text = re.sub(r"(?m)^(?P<indent>[ \t]*)server\s+(?P<host>[A-Za-z0-9_.-]+):\d+(?P<params>[^;{]*);", server,
                      text)
        text = re.sub(r"(?m)^([ \t]*)(resolver\s[^;]*;)", r"\1# \2  (./dev stack: local addresses only)", text)
        text = re.sub(r"(?m)^([ \t]*)listen\s+80(\s+default_server)?\s*;",
                      rf"\1listen 127.0.0.1:{self.options.port}\2;", text)
        text = text.replace("/var/log/nginx/", f"{self.nginx_dir}/logs/")
        text = text.replace("/var/cache/nginx/", f"{self.nginx_dir}/cache/")

        def include(match: re.Match[str]) -> str:
            path = match["path"]
            for target, source in mounts.items():
                if path == target or path.startswith(target + "/"):
                    host_file = source / path[len(target):].lstrip("/") if source.is_dir() else source
                    return f"{match['head']}{self.nginx_file(host_file, mounts, written)};"
            return match[0]

        return re.sub(r"(?P<head>\binclude\s+)(?P<path>/[^;\s]+);", include, text)

    def nginx_file(self, source: Path, mounts: dict[str, Path], written: dict[Path, Path]) -> Path:
        if source not in written:
            target = self.nginx_dir / "conf" / f"{len(written):02d}-{source.name}"
            written[source] = target
            target.write_text(self.rewrite_nginx(source.read_text(encoding="utf-8"), mounts, written),
                              encoding="utf-8")
        return written[source]

    def plan_nginx(self, name: str) -> list[Process]:
        binary = shutil.which(self.options.nginx) or shutil.which(self.options.nginx, path="/usr/sbin:/sbin")
        if not binary:
            raise StackError(f"nginx is not installed ({self.options.nginx} not found): apt-get install nginx, or "
                             "scripts/deploy-tools")
        spec = self.services[name]
        mounts = self.mounts(spec)
        confs = [source for target, source in mounts.items()
                 if target.startswith("/etc/nginx/conf.d/") and target.endswith(".conf")]
        if not confs:
            raise StackError(f"service {name} mounts no .conf file into /etc/nginx/conf.d")
        if self.nginx_dir.exists():
            shutil.rmtree(self.nginx_dir / "conf", ignore_errors=True)
        for folder in ("conf", "logs", "cache", "temp"):
            (self.nginx_dir / folder).mkdir(parents=True, exist_ok=True)
        written: dict[Path, Path] = {}
        includes = "\n".join(f"    include {self.nginx_file(conf, mounts, written)};" for conf in confs)
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        temp = self.nginx_dir / "temp"
        main = self.nginx_dir / "conf" / "nginx.conf"
        main.write_text(
            f"# written by ./dev stack from {self.options.compose_file.name} (service {name})\n"
            f"{user}worker_processes 1;\npid {self.nginx_dir}/nginx.pid;\nerror_log stderr warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            + ("    include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else "")
            + "    default_type application/octet-stream;\n    sendfile on;\n"
            + "".join(f"    {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                                "uwsgi", "scgi"))
            + includes + "\n}\n", encoding="utf-8")
        argv = [binary, "-p", str(self.nginx_dir), "-e", "stderr", "-c", str(main), "-g", "daemon off;"]
        checked = subprocess.run([*argv[:-2], "-t", "-q"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise StackError(f"nginx refuses the rewritten config ({main}):\n{checked.stderr.strip()}")
        address = f"http://127.0.0.1:{self.options.port}"
        if port_open(self.options.port):
            raise StackError(f"port {self.options.port} is taken: set CONTESTBELL_STACK_PORT")
        env = {**os.environ, MARKER: str(self.options.directory)}
        process = Process(name, name, argv, env, restart=self.value(spec.get("restart", "no")),
                          grace=duration(spec.get("stop_grace_period"), DEFAULT_GRACE),
                          stop_signal=signal.Signals[self.value(spec.get("stop_signal", NGINX_STOP_SIGNAL))],
                          port=self.options.port, address=address)
        return [process]

    # -- running

    def start(self, process: Process) -> None:
        process.popen = subprocess.Popen(process.argv, env=process.env, cwd=REPO, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        process.healthy = False
        process.started_at = time.monotonic()
        pump = threading.Thread(target=self.out.pump, args=(process.name, process.popen.stdout), daemon=True)
        pump.start()
        process.pumps.append(pump)
        where = f"  {process.address}" if process.address else ""
        where += "".join(f"  {setting.removeprefix('CONTESTBELL_').lower()}={port}"
                         for setting, port in process.extra_ports.items())
        again = f" (restart {process.restarts})" if process.restarts else ""
        self.out.say(f"{'started':<12}  {process.name:<12} pid {process.pid:<8}{where}  "
                     f"{' '.join(process.argv[-2:] if process.service != 'nginx' else ['nginx'])}{again}")
        self.save()

    def check_health(self, process: Process) -> bool:
        if time.monotonic() - process.started_at < STEADY:
            return False
        if process.service in self.kinds and self.kinds[process.service] == "nginx":
            process.healthy = http_ok(f"{process.address}/healthz")
        elif process.healthcheck is None:
            process.healthy = process.running()
        elif process.port and not port_open(process.port):
            process.healthy = False  # not listening yet: no need to run the healthcheck
        else:
            try:
                result = subprocess.run(process.healthcheck, env=process.env, cwd=REPO, capture_output=True,
                                        timeout=process.health_timeout)
                process.healthy = result.returncode == 0
            except subprocess.TimeoutExpired:
                process.healthy = False
        return process.healthy

    def satisfied(self, service: str, condition: str) -> bool:
        kind = self.kinds[service]
        if kind in ("postgres", "redis"):
            return True  # checked (and prepared) before anything starts
        processes = self.processes.get(service)
        if not processes:
            return False
        if condition == "service_completed_successfully":
            for process in processes:
                code = process.popen.poll() if process.popen else None
                if code not in (None, 0):
                    raise StackError(f"{process.name} exited with status {code}; nothing that needs it is started")
            return all(p.popen is not None and p.popen.poll() == 0 for p in processes)
        if condition == "service_healthy":
            return all(p.healthy or (p.running() and self.check_health(p)) for p in processes)
        return all(p.running() for p in processes)

    def wait_for(self, what: str, ready: Any) -> None:
        deadline = time.monotonic() + self.options.timeout
        while not ready():
            self.supervise()
            if self.stopping.wait(0.3):
                raise KeyboardInterrupt
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {self.options.timeout:.0f} s waiting for {what}")

    def up(self) -> None:
        for name in self.order:
            kind = self.kinds[name]
            if kind == "postgres":
                self.prepare_postgres()
                continue
            if kind == "redis":
                self.prepare_redis()
                continue
            needs = depends_on(self.services[name])
            self.wait_for(f"{name}'s dependencies ({', '.join(f'{s}: {c}' for s, c in needs.items())})",
                          lambda needs=needs: all(self.satisfied(s, c) for s, c in needs.items()))
            self.processes[name] = self.plan_nginx(name) if kind == "nginx" else self.plan_app(name)
            for process in self.processes[name]:
                self.start(process)
        everything = [p for processes in self.processes.values() for p in processes if not p.one_shot]
        self.wait_for("every service to be healthy",
                      lambda: all(p.healthy or (p.running() and self.check_health(p)) for p in everything))

    def supervise(self) -> None:
        """Restart what exited by itself, as its restart policy says (with a growing delay, as Docker does)."""
        now = time.monotonic()
        for processes in self.processes.values():
            for process in processes:
                if process.popen is None or process.running() or process.one_shot:
                    continue
                if process.next_start == 0.0:
                    code = process.popen.returncode
                    if not self.ready:
                        raise StackError(f"{process.name} exited with status {code} while the stack was starting "
                                         "(its output is above)")
                    if process.restart in ("always", "unless-stopped") or (
                            process.restart.startswith("on-failure") and code != 0):
                        delay = min(0.5 * 2 ** process.restarts, 15.0)
                        process.next_start = now + delay
                        self.out.say(f"{'exited':<12}  {process.name:<12} pid {process.pid:<8} status {code}; "
                                     f"restarting in {delay:.1f} s")
                    else:
                        process.next_start = float("inf")
                        self.out.say(f"{'exited':<12}  {process.name:<12} pid {process.pid:<8} status {code}")
                    self.save()
                elif now >= process.next_start:
                    process.restarts += 1
                    process.next_start = 0.0
                    self.start(process)

    def all_processes(self) -> Iterator[Process]:
        for name in reversed(self.order):
            yield from self.processes.get(name, [])

    def save(self) -> None:
        state = {"stack_pid": os.getpid(), "port": self.options.port, "processes": [
            {"name": p.name, "service": p.service, "pid": p.pid, "pgid": p.pid, "port": p.port,
             "ports": {k.removeprefix("CONTESTBELL_").lower(): v for k, v in p.extra_ports.items()},
             "argv": p.argv, "running": p.running()}
            for p in self.all_processes() if p.popen is not None]}
        path = self.options.directory / "processes.json"
        path.with_suffix(".tmp").write_text(json.dumps(state, indent=1), encoding="utf-8")
        path.with_suffix(".tmp").replace(path)

    def down(self) -> None:
        """Stop in the reverse order of depends_on, in waves: the services nothing running depends on (nginx) first,
        then those that only they depended on, and so on. Each process gets its stop signal to its whole group, and
        SIGKILL when the group is still there after its grace period."""
        self.out.say("stopping")
        left = {name for name, processes in self.processes.items() if any(p.popen for p in processes)}
        while left:
            wave = {name for name in left if not any(name in depends_on(self.services[other]) for other in left)}
            wave = wave or set(left)
            processes = [p for name in wave for p in self.processes[name] if p.popen is not None]
            for process in processes:
                signal_group(process.popen.pid, process.stop_signal)
            for process in processes:
                self.reap(process, deadline=time.monotonic() + process.grace)
            left -= wave
        (self.options.directory / "processes.json").unlink(missing_ok=True)

    def reap(self, process: Process, deadline: float) -> None:
        assert process.popen is not None
        while group_alive(process.popen.pid) and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(0.05)
            if process.popen.poll() is not None:
                time.sleep(0.05)  # the leader is gone; other members of its group may still be finishing
        if group_alive(process.popen.pid):
            self.out.say(f"{'killed':<12}  {process.name:<12} (still there after {process.grace:.0f} s)")
            signal_group(process.popen.pid, signal.SIGKILL)
        process.popen.wait()
        while group_alive(process.popen.pid):  # SIGKILL is not instant
            time.sleep(0.02)
        for pump in process.pumps:
            pump.join(timeout=2)
        self.out.say(f"{'stopped':<12}  {process.name:<12} pid {process.pid:<8} status {process.popen.returncode}")

    def leftovers(self) -> None:
        """Stop what a stack killed without a chance to clean up left in this folder; refuse to run twice."""
        path = self.options.directory / "processes.json"
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if state.get("stack_pid") and Path(f"/proc/{state['stack_pid']}").exists() and self.is_stack(
                state["stack_pid"]):
            raise StackError(f"a stack is already running in {self.options.directory} (pid {state['stack_pid']})")
        marker = f"{MARKER}={self.options.directory}".encode()
        for entry in state.get("processes", []):
            pgid = entry.get("pgid")
            try:
                ours = marker in Path(f"/proc/{pgid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if ours:
                self.out.say(f"{'leftover':<12}  {entry['name']:<12} pid {pgid}: stopping it (a stack was killed)")
                signal_group(pgid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while not gone(pgid) and time.monotonic() < deadline:
                    time.sleep(0.02)
        path.unlink(missing_ok=True)

    @staticmethod
    def is_stack(pid: int) -> bool:
        try:
            return b"stack.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    def run(self) -> int:
        self.options.directory.mkdir(parents=True, exist_ok=True)
        (self.options.directory / "data").mkdir(exist_ok=True)
        try:
            self.leftovers()
        except StackError as error:
            self.out.say(f"stack: {error}")
            return 1
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            self.secret_key()
            self.up()
            self.ready = True
            if "nginx" in self.kinds.values():
                self.out.say(f"{'ready':<12}  http://127.0.0.1:{self.options.port}/  (nginx access log: "
                             f"{self.nginx_dir / 'logs' / 'access.log'}; Ctrl-C stops everything)")
            else:
                self.out.say(f"{'ready':<12}  (no nginx in {self.options.compose_file.name}; Ctrl-C stops everything)")
            while not self.stopping.wait(0.3):
                self.supervise()
            return 0
        except KeyboardInterrupt:
            return 0
        except StackError as error:
            self.out.say(f"stack: {error}")
            return 1
        finally:
            self.down()


def parse_scale(values: list[str]) -> dict[str, int]:
    scale = {}
    for value in values:
        name, _, count = value.partition("=")
        if not count.isdigit():
            raise StackError(f"--scale {value!r}: use SERVICE=N")
        scale[name] = int(count)
    return scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev stack", description=__doc__.splitlines()[0])
    parser.add_argument("--file", "-f", default=str(REPO / "docker-compose.yml"), help="the compose file")
    parser.add_argument("--env-file", default=None, help="the .env file (default: .env beside the compose file)")
    parser.add_argument("--profile", action="append", default=[], help="also run this profile's services")
    parser.add_argument("--scale", action="append", default=[], metavar="SERVICE=N",
                        help="replicas of a service (default: its deploy.replicas, else 1)")
    args = parser.parse_args(argv)
    compose_file = Path(args.file).resolve()
    env = os.environ
    try:
        options = Options(
            compose_file=compose_file,
            env_file=Path(args.env_file) if args.env_file else compose_file.parent / ".env",
            directory=Path(env.get("CONTESTBELL_STACK_DIR", REPO / "var" / "stack")).resolve(),
            port=int(env.get("CONTESTBELL_STACK_PORT", DEFAULT_PORT)),
            pg_admin=env.get("CONTESTBELL_STACK_PG", DEFAULT_PG),
            database=env.get("CONTESTBELL_STACK_DB", DEFAULT_DB),
            redis=env.get("CONTESTBELL_STACK_REDIS", DEFAULT_REDIS),
            nginx=env.get("CONTESTBELL_STACK_NGINX", "nginx"),
            scale=parse_scale(args.scale),
            timeout=float(env.get("CONTESTBELL_STACK_TIMEOUT", STARTUP_TIMEOUT)),
            profiles=args.profile,
        )
        if not re.fullmatch(r"[A-Za-z0-9_]{1,63}", options.database):
            raise StackError(f"CONTESTBELL_STACK_DB={options.database!r}: letters, digits and _ only")
        stack = Stack(options)
    except (StackError, ValueError) as error:
        print(f"stack: {error}", file=sys.stderr)
        return 2
    return stack.run()


if __name__ == "__main__":
    sys.exit(main())
