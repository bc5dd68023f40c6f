"""A private Apache instance: one configuration file written from scratch, its own pid file,
logs, mutexes and port. It never reads or touches ``/etc/apache2`` beyond ``ServerRoot``
(for relative paths; nothing is included from there) and never the system service, so
several instances (webmail, test relying parties) run side by side on different ports.

Usage::

    site = ApacheInstance(root=Path("/srv/x/apache"), port=8025,
                          modules=["php", "rewrite", "headers"],
                          body='DocumentRoot "/usr/share/roundcube"\\n...')
    site.start()          # renders ROOT/apache2.conf, checks it, starts, waits for the port
    site.running()        # True while the master process of *this* configuration lives
    site.error_log        # ROOT/logs/error.log
    site.stop()

Apache must be started as root: it binds the port, opens the logs, then its children run
as ``user``/``group`` (``www-data`` by default). ``body`` is appended verbatim after the
generated head (``DocumentRoot``, ``<Directory>``, ``SetEnv``, module directives...).
Module names are Debian's (``rewrite``, ``headers``, ``auth_openidc``, ``php``); the
instance always loads ``mpm_prefork`` (mod_php requires it), ``authz_core``,
``authn_core``, ``mime``, ``dir`` and ``env``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

APACHE = "/usr/sbin/apache2"
MODULE_DIR = Path("/usr/lib/apache2/modules")
BASE_MODULES = ("mpm_prefork", "authz_core", "authn_core", "mime", "dir", "env")
#: Module names whose file or symbol do not follow ``mod_NAME.so`` / ``NAME_module``.
_SPECIAL = {"php": "php_module"}


class ApacheError(RuntimeError):
    """Apache refused the configuration or did not start; the message says why."""


def module_line(name: str) -> str:
    """The ``LoadModule`` line of a Debian module name (``php`` finds libphpX.Y.so)."""
    if name.startswith("php"):
        found = sorted(MODULE_DIR.glob("libphp*.so"))
        if not found:
            raise ApacheError(f"mod_php is not installed ({MODULE_DIR}/libphp*.so)")
        return f"LoadModule {_SPECIAL['php']} {found[-1]}"
    path = MODULE_DIR / f"mod_{name}.so"
    if not path.exists():
        raise ApacheError(f"Apache module {name!r} is not installed ({path})")
    return f"LoadModule {name}_module {path}"


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


class ApacheInstance:
    """One private Apache (prefork) serving ``body`` on ``listen:port``."""

    def __init__(self, root: Path, port: int, modules: Sequence[str], body: str, *,
                 listen: str = "127.0.0.1", server_name: str = "127.0.0.1",
                 user: str = "www-data", group: str = "www-data",
                 env: Mapping[str, str] | None = None, max_workers: int = 16) -> None:
        self.root = Path(root)
        self.port = port
        self.modules = list(dict.fromkeys([*BASE_MODULES, *modules]))
        self.body = body
        self.listen = listen
        self.server_name = server_name
        self.user = user
        self.group = group
        self.env = dict(env or {})
        self.max_workers = max_workers

    # Paths -----------------------------------------------------------------------------
    @property
    def conf_file(self) -> Path:
        return self.root / "apache2.conf"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "apache2.pid"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "error.log"

    @property
    def access_log(self) -> Path:
        return self.log_dir / "access.log"

    @property
    def url(self) -> str:
        return f"http://{self.server_name}:{self.port}"

    # Configuration ---------------------------------------------------------------------
    def config_text(self) -> str:
        loads = "\n".join(module_line(m) for m in self.modules)
        env = "\n".join(f'SetEnv {k} "{v}"' for k, v in self.env.items())
        return f"""# Rendered by congvu (congvu/webmail/apache.py): a private Apache instance.
# Nothing from /etc/apache2 is included; ServerRoot only anchors relative paths.
ServerRoot /etc/apache2
ServerName {self.server_name}
PidFile {self.pid_file}
DefaultRuntimeDir {self.run_dir}
Mutex file:{self.run_dir} default
Listen {self.listen}:{self.port}
User {self.user}
Group {self.group}
Timeout 60
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
HostnameLookups Off
ServerTokens Prod
ServerSignature Off
TraceEnable Off

{loads}

<IfModule mpm_prefork_module>
    StartServers 2
    MinSpareServers 2
    MaxSpareServers 4
    MaxRequestWorkers {self.max_workers}
    MaxConnectionsPerChild 0
</IfModule>

ErrorLog {self.error_log}
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
CustomLog {self.access_log} combined

TypesConfig /etc/mime.types
AddDefaultCharset UTF-8
DirectoryIndex index.html index.php
AccessFileName .htaccess

<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
{env}

{self.body}
"""

    def render(self) -> Path:
        """Write the configuration (and create its folders); returns the file."""
        for d in (self.root, self.run_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)
        self.conf_file.write_text(self.config_text(), encoding="utf-8")
        return self.conf_file

    def check(self) -> None:
        """``apache2 -t`` on the rendered file; raises ApacheError with Apache's words."""
        proc = subprocess.run([APACHE, "-f", str(self.conf_file), "-t"],
                              capture_output=True, text=True, timeout=60, env=self._env())
        if proc.returncode != 0:
            raise ApacheError(f"apache2 -t {self.conf_file}: "
                              f"{(proc.stderr or proc.stdout).strip()[-1500:]}")

    # Processes -------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The master's pid, only if that process runs this configuration file."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if str(self.conf_file).encode() in cmdline else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, timeout: float = 30) -> None:
        """Render, check and start (or gracefully restart when already running), then
        wait until the port answers."""
        if os.geteuid() != 0:
            raise ApacheError("a private Apache instance must be started as root")
        self.render()
        self.check()
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGUSR1)  # graceful restart: re-reads the file
        else:
            self.pid_file.unlink(missing_ok=True)
            proc = subprocess.run([APACHE, "-f", str(self.conf_file), "-k", "start"],
                                  capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL, env=self._env())
            if proc.returncode != 0:
                raise ApacheError(f"apache2 -k start: {(proc.stderr or proc.stdout).strip()}"
                                  f"\n{self._log_tail()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running() and port_answers(self.port, self._connect_host()):
                return
            time.sleep(0.1)
        raise ApacheError(f"Apache did not answer on port {self.port} within {timeout:g}s"
                          f"\n{self._log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        """Stop the master and its children (SIGTERM, then SIGKILL after ``timeout``)."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(OSError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> ApacheInstance:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Helpers ---------------------------------------------------------------------------
    def _connect_host(self) -> str:
        return "127.0.0.1" if self.listen in ("*", "0.0.0.0") else self.listen  # noqa: S104

    def _env(self) -> dict[str, str]:
        # The configuration sets every path itself; keep Debian's envvars out of it.
        return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                "LANG": "C"}

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.error_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (our own child not yet reaped) counts as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True
