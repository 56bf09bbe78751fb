"""Real processes for integration tests: Celery workers and the whole Procfile stack, started as
subprocesses the way production starts them (PYTHONPATH=platform), never in eager mode."""

import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for subprocesses to share it."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update({"PYTHONPATH": "platform", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@functools.cache  # one fresh process per session
def worker_task_names() -> frozenset[str]:
    """The task names a worker registers when it starts (the app's autodiscovery imports every
    app's tasks.py), read in a fresh process: whatever this test process has imported so far, or
    not, does not count."""
    code = (
        "from config.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print('\\n'.join(name for name in app.tasks if not name.startswith('celery.')))"
    )
    env = base_env(DJANGO_SETTINGS_MODULE="config.settings.test")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return frozenset(out.stdout.split())


class Worker:
    """A `celery worker` subprocess sharing the test database and broker."""

    def __init__(
        self, *, name: str, queues: str = "grading,sandbox,events", concurrency: int = 2, env=None, beat=False
    ):
        ARTIFACTS.mkdir(exist_ok=True)
        self.name = name
        self.log_path = ARTIFACTS / f"worker-{name}.log"
        self.env = env or base_env(DATABASE_URL=test_database_url(), DJANGO_SETTINGS_MODULE="config.settings.test")
        self.cmd = [
            str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queues, "-n", f"{name}@%h",
            "--concurrency", str(concurrency), "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ]  # fmt: skip
        # Its own `celery beat` process beside it (the sweeper), as the Procfile runs one. Not the
        # worker's embedded --beat: that one shuts down for good when the broker connection drops.
        self.beat = beat
        self.beat_proc: subprocess.Popen | None = None
        self.proc: subprocess.Popen | None = None

    def _start_beat(self) -> None:
        schedule = ARTIFACTS / f"beat-{self.name}.schedule"
        for old in ARTIFACTS.glob(f"beat-{self.name}.schedule*"):
            old.unlink()
        log = open(ARTIFACTS / f"beat-{self.name}.log", "w")  # noqa: SIM115 - closed with the process
        cmd = [str(VENV_BIN / "celery"), "-A", "config", "beat", "--schedule", str(schedule), "--loglevel", "INFO"]
        self.beat_proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, timeout: float = 120) -> "Worker":
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited early:\n{self.log_path.read_text()[-3000:]}")
            if " ready." in self.log_path.read_text():
                if self.beat:
                    self._start_beat()
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> None:
        if self.beat_proc is not None and self.beat_proc.poll() is None:
            os.killpg(self.beat_proc.pid, signal.SIGKILL)
            self.beat_proc.wait(10)
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children, as a crashed host would."""
        self.stop(sig=signal.SIGKILL)

    def pool_children(self) -> list[int]:
        """The pids of the prefork pool's children (and of the embedded beat, if any)."""
        return children(self.proc.pid)

    def kill_pool_child(self, pid: int) -> None:
        """SIGKILL one pool child, as the kernel's OOM killer would; the main process lives on."""
        os.kill(pid, signal.SIGKILL)


class RedisServer:
    """A Redis server of the test's own (no persistence), that a test can stop and start again on
    the same port: a broker outage that no other test or engineer shares."""

    def __init__(self, port: int | None = None):
        ARTIFACTS.mkdir(exist_ok=True)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "RedisServer":
        import redis

        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = open(ARTIFACTS / f"redis-{self.port}.log", "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=timeout, message=f"redis on port {self.port}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class TcpProxy:
    """A TCP forwarder from a local port to a server (RabbitMQ, shared by everyone here): stopping
    it closes every connection through it and refuses new ones, as a broker outage does, without
    touching the server; starting it again listens on the same port."""

    def __init__(self, upstream: tuple[str, int], port: int | None = None):
        self.upstream = upstream
        self.port = port or free_port()
        self._server: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _addr = server.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            with self._lock:
                self._conns -= {src, dst}

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            conns, self._conns = set(self._conns), set()
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def rabbitmq_vhost(url: str) -> None:
    """Create the RabbitMQ virtual host named in an amqp:// URL, with full rights for its user, so
    a test run has a broker of its own on the shared RabbitMQ (rabbitmqctl; idempotent)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    vhost = unquote(parts.path.lstrip("/")) or "/"
    user = unquote(parts.username or "guest")
    listed = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, check=True)
    if vhost not in listed.stdout.split():
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], capture_output=True, check=True
    )


class publishing_to:  # noqa: N801 - used as a context manager, like a function
    """Point this process's Celery app (what services publish through) at another broker, then
    back: the producer and connection pools are dropped so the next publish opens the new one."""

    def __init__(self, url: str):
        self.url = url

    def _switch(self, url: str | None, transport: str | None, read_url: str | None = None) -> None:
        from kombu import pools

        from config.celery import app

        try:
            pools.reset()  # kombu's registry of connection and producer pools, keyed by broker
        except Exception:  # a broker that is gone cannot be closed politely
            pass
        app._pool = None
        app.amqp._producer_pool = None
        # (Under the CELERY_ settings namespace, assigning broker_url does not reach the
        # connection; the read and write URLs do.)
        app.conf.broker_write_url = url
        app.conf.broker_read_url = read_url or url
        app.conf.broker_transport = transport

    def __enter__(self):
        from config.celery import app

        self.previous = (app.conf.broker_write_url, app.conf.broker_transport, app.conf.broker_read_url)
        # The transport the settings choose for Redis URLs (config/broker.py), none for others.
        redis_transport = getattr(settings, "CELERY_BROKER_TRANSPORT", None)
        self._switch(self.url, redis_transport if self.url.startswith("redis") else None)
        return self

    def __exit__(self, *exc):
        self._switch(*self.previous)


def purge_broker(url: str) -> None:
    """Start from an empty broker so a previous run's messages cannot leak into this one."""
    if url.startswith("redis"):
        import redis

        redis.Redis.from_url(url).flushdb()


def purge_queues(url: str, queues=("grading", "sandbox", "events")) -> None:
    """Drop the messages waiting in the platform's queues (left over by a finished test)."""
    from config.celery import app

    with app.connection_for_write(url) as conn:
        for queue in queues:
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # a queue never declared on this broker has nothing to purge
                pass


def children(pid: int) -> list[int]:
    """The child processes of `pid`, whichever of its threads forked them (/proc lists a child
    under the thread that forked it: the sandbox's zygotes are forked by a thread of their own)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return found


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def wait_until_worker_idle(
    worker_name: str, url: str, *, timeout: float = 30, queues=("grading", "sandbox", "events")
) -> bool:
    """Best effort: wait until no message waits in the queues and the named worker runs no task
    (a finishing task may enqueue a follow-up: an e-mail, a certificate). Returns whether it saw
    the worker idle; never raises, so a busy broker cannot fail a test that already passed."""
    import socket

    from config.celery import app

    destination = [f"{worker_name}@{socket.gethostname()}"]
    client = None
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)

    def idle() -> bool:
        if client is not None and any(client.llen(q) for q in queues):
            return False
        active = app.control.inspect(destination=destination, timeout=1).active() or {}
        return not any(active.values())

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if idle():
            time.sleep(0.3)
            if idle():
                return True
        time.sleep(0.2)
    return False
