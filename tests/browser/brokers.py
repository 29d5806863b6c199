"""Real brokers on free loopback ports for the browser tests: Debian's mosquitto
and mqdash's embedded broker (tools/devbroker). Each is stopped on close()."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}: {read_log(proc)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s: {read_log(proc)}")


def stop_process(proc: subprocess.Popen | None) -> None:
    """Terminates a broker, killing it if it has not exited within 5 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
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


class Mosquitto:
    """Debian's mosquitto with a TCP and a WebSocket listener on loopback."""

    def __init__(self, password: tuple[str, str] | None = None, persistence: bool = False):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            raise RuntimeError("mosquitto is not installed (scripts/test.sh installs it)")
        self.dir = tempfile.mkdtemp(prefix="mqdash-mosq-")
        self.tcp_port = free_port()
        self.ws_port = free_port()
        lines = [
            "per_listener_settings false",
            f"listener {self.tcp_port} 127.0.0.1",
            f"listener {self.ws_port} 127.0.0.1",
            "protocol websockets",
            "socket_domain ipv4",
        ]
        if password:
            pw = os.path.join(self.dir, "passwd")
            subprocess.run(["mosquitto_passwd", "-b", "-c", pw, *password], check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if persistence:
            lines += ["persistence true", f"persistence_location {self.dir}/"]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        Path(self.conf).write_text("\n".join(lines) + "\n")
        _give_to_mosquitto_user(self.dir)
        self.exe = exe
        self.proc = None
        self.start()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/mqtt"

    def start(self) -> None:
        log = os.path.join(self.dir, "mosquitto.log")
        self.proc = subprocess.Popen([self.exe, "-c", self.conf], stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        self.proc.log_path = log
        wait_for_port(self.tcp_port, self.proc, "mosquitto")
        wait_for_port(self.ws_port, self.proc, "mosquitto (websockets)")

    def stop(self) -> None:
        stop_process(self.proc)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class DevBroker:
    """mqdash's embedded broker (rumqttd) from tools/devbroker."""

    def __init__(self):
        exe = os.environ.get("MQDASH_DEVBROKER") or str(ROOT / "target" / "debug" / "devbroker")
        if not os.path.exists(exe):
            raise RuntimeError(f"the embedded broker is not built at {exe} (cargo build -p devbroker)")
        self.tcp_port = free_port()
        self.ws_port = free_port()
        self.dir = tempfile.mkdtemp(prefix="mqdash-devbroker-")
        self.exe = exe
        self.proc = None
        self.start()

    def start(self) -> None:
        """Starts (or restarts, after stop()) the broker on the same ports."""
        log = os.path.join(self.dir, "devbroker.log")
        self.proc = subprocess.Popen(
            [self.exe, "broker", "--tcp-port", str(self.tcp_port), "--ws-port", str(self.ws_port)],
            stdout=open(log, "ab"), stderr=subprocess.STDOUT,
        )
        self.proc.log_path = log
        wait_for_port(self.tcp_port, self.proc, "devbroker")
        wait_for_port(self.ws_port, self.proc, "devbroker (websockets)")

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
    ready line (`… listening ws://…/mqtt`). Stopped on close()."""

    def __init__(self, *args: str):
        import threading
        exe = os.environ.get("MQDASH_DEVBROKER") or str(ROOT / "target" / "debug" / "devbroker")
        if not os.path.exists(exe):
            raise RuntimeError(f"devbroker is not built at {exe} (cargo build -p devbroker)")
        self.args = args
        self.proc = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 15
        while (url := self._ready_url()) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"devbroker {' '.join(args)} did not start: {self.text()}")
            time.sleep(0.02)
        self.url = url

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def _ready_url(self) -> str | None:
        with self._lock:
            for line in self.lines:
                if line.startswith("devbroker:") and " listening " in line:
                    return line.split(" listening ", 1)[1].split()[0]
        return None

    def matching(self, needle: str) -> list[str]:
        """The output lines so far that contain `needle`."""
        with self._lock:
            return [line for line in self.lines if needle in line]

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines[-60:])

    def close(self) -> None:
        stop_process(self.proc)
