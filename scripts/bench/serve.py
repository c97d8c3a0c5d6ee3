"""The server under test: the Dockerfile's command or another one, started and stopped."""

import dataclasses
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .config import BIN, HOST, ROOT

# Server commands ---------------------------------------------------------------------------


@dataclasses.dataclass
class ServerSpec:
    kind: str  # dockerfile, gunicorn-sync, gunicorn-gthread, granian
    workers: int | None = None
    threads: int | None = None

    @property
    def name(self):
        if self.kind == "dockerfile":
            return "dockerfile"
        if self.kind == "gunicorn-sync":
            return f"gunicorn-sync:{self.workers}"
        return f"{self.kind}:{self.workers}x{self.threads}"


SERVER_KINDS = ("dockerfile", "gunicorn-sync", "gunicorn-gthread", "granian")


def parse_server_spec(text, *, workers=2, threads=None):
    """'granian:2x1', 'gunicorn-gthread:2x4', 'gunicorn-sync:4' or a bare kind."""
    kind, _sep, size = text.partition(":")
    if kind not in SERVER_KINDS:
        raise ValueError(f"unknown server {kind!r}: choose from {', '.join(SERVER_KINDS)}")
    if kind == "dockerfile":
        if size:
            raise ValueError("the Dockerfile's command takes no size")
        return ServerSpec(kind)
    default_threads = {"granian": 1, "gunicorn-gthread": 4, "gunicorn-sync": 1}[kind]
    threads = threads or default_threads
    if size:
        match = re.fullmatch(r"(\d+)(?:x(\d+))?", size)
        if not match:
            raise ValueError(f"bad size {size!r}: write WORKERS or WORKERSxTHREADS")
        workers = int(match[1])
        threads = int(match[2]) if match[2] else threads
    if kind == "gunicorn-sync" and threads != 1:
        raise ValueError("gunicorn's sync workers have one thread each: use gunicorn-gthread")
    return ServerSpec(kind, workers, threads)


def server_command(spec, port, *, dockerfile=ROOT / "Dockerfile", environ=None):
    if spec.kind == "dockerfile":
        return dockerfile_command(Path(dockerfile).read_text(), port, environ=environ)
    app = "outreach.wsgi:application"
    if spec.kind == "granian":
        return [
            "granian",
            "--interface=wsgi",
            f"--host={HOST}",
            f"--port={port}",
            f"--workers={spec.workers}",
            f"--blocking-threads={spec.threads}",
            app,
        ]
    worker_class = (
        ["--worker-class=sync"]
        if spec.kind == "gunicorn-sync"
        else [
            "--worker-class=gthread",
            f"--threads={spec.threads}",
        ]
    )
    return ["gunicorn", app, f"--bind={HOST}:{port}", f"--workers={spec.workers}", *worker_class]


SHELL_SEPARATORS = {";", "&&", "||", "|", "&", ";;"}
SHELL_CLAUSE_WORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!"}


def last_simple_command(shell):
    """The words of the last simple command of a shell line (quotes removed, as sh reads them)."""
    lexer = shlex.shlex(shell.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands = [[]]
    for word in lexer:
        if word in SHELL_SEPARATORS:
            commands.append([])
        elif word in SHELL_CLAUSE_WORDS and not commands[-1]:
            continue  # a keyword where a command starts: the command follows it
        else:
            commands[-1].append(word)
    return next((words for words in reversed(commands) if words), [])


def dockerfile_command(text, port, *, environ=None):
    """The server command of the Dockerfile's CMD, listening on HOST:port instead.

    The server is the last simple command of the CMD's shell line, after `exec` (whatever runs
    before it, migrations in an `if`, `&&` or `;`, is done already): the line is split into
    words as the shell would, then into commands at `;`, `&&`, `||`, `|`, `&` and the words
    that open a clause (`then`, `else`, `do`, ...). ${VAR:-default} is expanded from
    `environ`; --bind, --host and --port are rewritten.
    """
    environ = os.environ if environ is None else environ
    text = re.sub(r"\\\n", " ", text)
    lines = [line for line in text.splitlines() if re.match(r"\s*CMD\b", line)]
    if not lines:
        raise ValueError("the Dockerfile has no CMD")
    cmd = lines[-1].strip()[3:].strip()
    if cmd.startswith("["):
        argv = json.loads(cmd)
        if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash") and argv[1] == "-c":
            shell = argv[2]
        else:
            shell = shlex.join(argv)
    else:
        shell = cmd

    def expand(match):
        name, default = match[1] or match[3], match[2] or ""
        return environ.get(name, default)

    shell = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", expand, shell)
    argv = last_simple_command(shell)
    if argv[:1] == ["exec"]:
        argv = argv[1:]
    if not argv:
        raise ValueError(f"no server command in the Dockerfile's CMD: {shell}")
    rewritten, skip = [], False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        name, eq, _value = arg.partition("=")
        if name in ("--bind", "-b", "--host", "--port"):
            new = {"--host": HOST, "--port": str(port)}.get(name, f"{HOST}:{port}")
            rewritten.append(f"{name}={new}" if eq else name)
            if not eq:
                rewritten.append(new)
                skip = index + 1 < len(argv)
            continue
        rewritten.append(arg)
    if not any(a.split("=")[0] in ("--bind", "-b", "--port") for a in rewritten):
        raise ValueError(f"cannot tell where the Dockerfile's server listens: {shell}")
    return rewritten


class Server:
    """The app under a server command, in its own process group, logging to a file."""

    def __init__(self, command, env, log_path):
        self.command, self.env, self.log_path = command, env, log_path
        self.process = None

    def start(self, url, timeout=60):
        executable = BIN / self.command[0]
        command = [str(executable) if executable.exists() else self.command[0], *self.command[1:]]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({self.process.returncode}); see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer /healthz in {timeout}s; see {self.log_path}")

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()
        self.process = None


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
