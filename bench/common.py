"""What every benchmark needs: the repository's paths and Django on a throwaway database."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOUNDARIES = ROOT.parent / "shared" / "data" / "boundaries"


def setup_django(scratch: Path) -> None:
    """Django on a throwaway SQLite database in ``scratch``, migrated."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "convive.settings"
    os.environ["CONVIVE_DATA_DIR"] = str(scratch)
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def machine_summary() -> str:
    """For docs/benchmarks.md: cores, CPU model, date, commit (``+``: with uncommitted changes)."""
    import datetime
    import platform
    import subprocess

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD"], capture_output=True, check=False)
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), Python {platform.python_version()}; "
        f"{today}; commit {commit or 'unknown'}{'+' if dirty.returncode else ''}"
    )


def start_server(
    command: list[str], env: dict[str, str], log: Path, *, health_url: str
) -> subprocess.Popen:
    """Start the real server as its own process group and wait (60 s at most) until
    ``health_url`` answers 200; exit with the end of its log if it stops or never answers."""
    import time
    import urllib.request

    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole at the end
    )
    request = urllib.request.Request(health_url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310 (http://)
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    sys.exit(f"the server did not answer {health_url} within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server's whole process group: TERM, then KILL after 20 s."""
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
