"""Real brokers on free loopback ports for the browser tests: Debian's mosquitto
and mqdash's embedded broker (tools/devbroker). Each is stopped on close().

A broker is ready when it says so in its log (mosquitto's "running" line,
devbroker's "listening" line), never because a port answers: a probe would
count as a connection in the broker's log, and an open port can belong to
another process. Output of the devbroker tools is read up to date on every
query, so a count never lags behind what the process has written, and waits
are for the lines themselves, with deadlines that only run out when the line
never comes."""

import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# How long to wait for something that should happen (a broker starting, a
# line in a log) before failing: generous, a loaded machine is slow, not broken.
PATIENCE = 60.0

# How many times a broker is started on fresh ports when one of the ports it
# was given was taken by another process between choosing and binding it.
PORT_RETRIES = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_free_ports() -> tuple[int, int]:
    a = free_port()
    while (b := free_port()) == a:
        pass
    return a, b


def wait_until(what: str, cond, timeout: float = PATIENCE, interval: float = 0.02):
    """Polls `cond()` until it returns something truthy, and returns that;
    raises TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := cond()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
    return result


def stop_process(proc: subprocess.Popen | None, grace: float = 30.0) -> None:
    """Terminates a broker (SIGTERM, so mosquitto writes its persistence file),
    killing it if it has not exited within `grace` seconds."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_log(proc: subprocess.Popen) -> str:
    log = getattr(proc, "log_path", None)
    if log and os.path.exists(log):
        return Path(log).read_text(errors="replace")[-2000:]
    return ""


def _give_to_mosquitto_user(directory: str) -> None:
    """Started as root, mosquitto drops to the `mosquitto` user, which must then
    read the password file and write the persistence file in `directory`."""
    if os.geteuid() != 0:
        return
    try:
        import pwd
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in [directory, *(os.path.join(directory, f) for f in os.listdir(directory))]:
        os.chown(path, user.pw_uid, user.pw_gid)


class _LoggedBroker:
    """A broker process whose stdout and stderr go to `self.log_path` (appended
    across restarts), ready once `ready(line)` holds for a line it wrote since
    this start."""

    log_path: str
    proc: subprocess.Popen | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self, line: str) -> bool:
        raise NotImplementedError

    def _launch(self, what: str) -> None:
        """Starts the process and waits for its ready line. Raises
        `_PortTaken` if it exits because a port is in use."""
        start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT)
        self.proc.log_path = self.log_path
        deadline = time.monotonic() + PATIENCE
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                written = f.read().decode(errors="replace")
            if any(self._ready(line) for line in written.splitlines()):
                return
            if self.proc.poll() is not None:
                if "in use" in written:
                    raise _PortTaken(f"{what}: a port is in use:\n{written[-2000:]}")
                raise RuntimeError(f"{what} exited with code {self.proc.returncode}:\n{written[-2000:]}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"{what} did not say it was ready within {PATIENCE} s:\n{written[-2000:]}")
            time.sleep(0.02)

    def _first_launch(self, what: str, configure) -> None:
        """Chooses free ports (`configure()` writes them where the command
        reads them) and starts; on fresh ports again if another process took
        one before the broker bound it. Removes `self.dir` if it fails."""
        try:
            for attempt in range(1, PORT_RETRIES + 1):
                self.tcp_port, self.ws_port = two_free_ports()
                configure()
                try:
                    self._launch(what)
                    return
                except _PortTaken:
                    if attempt == PORT_RETRIES:
                        raise
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def log(self) -> str:
        """Everything the broker wrote so far (all starts)."""
        return Path(self.log_path).read_text(errors="replace")

    def count_in_log(self, needle: str) -> int:
        """Log lines containing `needle` so far."""
        return sum(needle in line for line in self.log().splitlines())

    def wait_for_log(self, needle: str, count: int = 1, timeout: float = PATIENCE) -> None:
        """Waits until at least `count` log lines contain `needle`."""
        try:
            wait_until(f"{count} log lines with {needle!r}", lambda: self.count_in_log(needle) >= count, timeout)
        except TimeoutError as e:
            raise AssertionError(f"{e}; log:\n{self.log()[-3000:]}") from None


class _PortTaken(RuntimeError):
    """The broker exited at start because a port it was given is in use."""


class Mosquitto(_LoggedBroker):
    """Debian's mosquitto with a TCP and a WebSocket listener on loopback.

    Its log is `self.log_path` (`self.proc.log_path` too), with mosquitto's
    default log types: "New client connected from … as ID (p2, c1, k60)" for
    each accepted MQTT connection over either listener, "New connection from"
    only for TCP ones (WebSocket connections never log it)."""

    def __init__(self, password: tuple[str, str] | None = None, persistence: bool = False):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            raise RuntimeError("mosquitto is not installed (scripts/test.sh installs it)")
        self.dir = tempfile.mkdtemp(prefix="mqdash-mosq-")
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.exe = exe
        self.proc = None
        self._password = password
        self._persistence = persistence
        if password:
            pw = os.path.join(self.dir, "passwd")
            subprocess.run(["mosquitto_passwd", "-b", "-c", pw, *password], check=True, capture_output=True)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self._first_launch("mosquitto", self._write_conf)

    def _write_conf(self) -> None:
        lines = [
            "per_listener_settings false",
            f"listener {self.tcp_port} 127.0.0.1",
            f"listener {self.ws_port} 127.0.0.1",
            "protocol websockets",
            "socket_domain ipv4",
        ]
        if self._password:
            lines += ["allow_anonymous false", f"password_file {os.path.join(self.dir, 'passwd')}"]
        else:
            lines.append("allow_anonymous true")
        if self._persistence:
            lines += ["persistence true", f"persistence_location {self.dir}/"]
        Path(self.conf).write_text("\n".join(lines) + "\n")
        _give_to_mosquitto_user(self.dir)

    def _command(self) -> list[str]:
        return [self.exe, "-c", self.conf]

    def _ready(self, line: str) -> bool:
        # "mosquitto version 2.0.11 running", written once every listener is open.
        return "mosquitto version" in line and line.rstrip().endswith(" running")

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/mqtt"

    def start(self) -> None:
        """Starts mosquitto again (after stop()) on the same ports and
        configuration (appended to, e.g. by bench/flood.py)."""
        self._launch("mosquitto")

    def stop(self) -> None:
        stop_process(self.proc)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class DevBroker(_LoggedBroker):
    """mqdash's embedded broker (rumqttd) from tools/devbroker."""

    def __init__(self):
        exe = os.environ.get("MQDASH_DEVBROKER") or str(ROOT / "target" / "debug" / "devbroker")
        if not os.path.exists(exe):
            raise RuntimeError(f"the embedded broker is not built at {exe} (cargo build -p devbroker)")
        self.dir = tempfile.mkdtemp(prefix="mqdash-devbroker-")
        self.log_path = os.path.join(self.dir, "devbroker.log")
        self.exe = exe
        self.proc = None
        # Fixed ports rather than 0: a restart (stop(), start()) must come back
        # where the page reconnects to.
        self._first_launch("devbroker", lambda: None)

    def _command(self) -> list[str]:
        return [self.exe, "broker", "--tcp-port", str(self.tcp_port), "--ws-port", str(self.ws_port)]

    def _ready(self, line: str) -> bool:
        # Printed once both listeners answer MQTT.
        return line.startswith("devbroker: listening ")

    def start(self) -> None:
        """Starts (or restarts, after stop()) the broker on the same ports."""
        self._launch("devbroker")

    def stop(self) -> None:
        stop_process(self.proc)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/mqtt"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class DevbrokerTool:
    """`devbroker hostile …` or `devbroker proxy …` (tools/devbroker): started with
    `args`, its stdout collected line by line (`lines`), `url` taken from its
    ready line (`… listening ws://…/mqtt`). Stopped on close().

    Every query (`lines`, `matching`, `text`, `wait_for`) first reads whatever
    the process has written so far, so a line the tool wrote before the call
    is always counted: a count can lag the process only by what it has not
    written yet, never by a reader thread that has not caught up. A thread
    keeps draining the pipe in between so the tool never blocks on it. Each
    line is stamped (`time.monotonic()`) when read; `wait_for` returns it."""

    def __init__(self, *args: str):
        exe = os.environ.get("MQDASH_DEVBROKER") or str(ROOT / "target" / "debug" / "devbroker")
        if not os.path.exists(exe):
            raise RuntimeError(f"devbroker is not built at {exe} (cargo build -p devbroker)")
        self.args = args
        self.proc = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._lines: list[tuple[float, str]] = []
        self._partial = b""
        self._eof = False
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()
        try:
            self.url = self.wait_for(" listening ws://", timeout=PATIENCE, ready_line=True)
        except AssertionError:
            self.close()
            raise RuntimeError(f"devbroker {' '.join(args)} did not start: {self.text()}") from None

    def _pump(self) -> None:
        """Reads everything written so far (caller holds the lock)."""
        while not self._eof:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
                if self._partial:
                    self._lines.append((time.monotonic(), self._partial.decode(errors="replace")))
                    self._partial = b""
                return
            now = time.monotonic()
            *complete, self._partial = (self._partial + chunk).split(b"\n")
            self._lines += [(now, line.decode(errors="replace").rstrip("\r")) for line in complete]

    def _drain(self) -> None:
        while True:
            with self._lock:
                self._pump()
                if self._eof:
                    return
            try:
                select.select([self._fd], [], [], 0.5)
            except (OSError, ValueError):
                return

    @property
    def lines(self) -> list[str]:
        """Every line the tool has written so far."""
        with self._lock:
            self._pump()
            return [line for _, line in self._lines]

    def matching(self, needle: str) -> list[str]:
        """The lines written so far that contain `needle`."""
        return [line for line in self.lines if needle in line]

    def wait_for(self, needle: str, count: int = 1, timeout: float = PATIENCE, ready_line: bool = False):
        """Waits until `count` lines contain `needle` and returns the
        `time.monotonic()` at which the `count`-th was read (with `ready_line`,
        the URL in it). Raises AssertionError with the output if the tool
        exits or `timeout` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._pump()
                hits = [(t, line) for t, line in self._lines if needle in line]
                eof = self._eof
            if len(hits) >= count:
                t, line = hits[count - 1]
                if ready_line:
                    return line.split(" listening ", 1)[1].split()[0]
                return t
            if eof:
                raise AssertionError(f"devbroker {' '.join(self.args)} ended before {count} lines with "
                                     f"{needle!r}:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(hits)} of {count} lines with {needle!r} after {timeout} s:\n{self.text()}")
            try:
                select.select([self._fd], [], [], 0.01)
            except (OSError, ValueError):
                time.sleep(0.01)

    def text(self) -> str:
        return "\n".join(self.lines[-60:])

    def close(self) -> None:
        stop_process(self.proc, grace=10.0)
