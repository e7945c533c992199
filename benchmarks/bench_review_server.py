"""The review server under load: 500 subjects x 2 readers x 6 timepoints, 20 concurrent clients on loopback.

Goals (issue 15): saving a draft <= 100 ms at the 95th percentile, and status <= 1 s, with 20 clients
at once. Each figure is measured as the client waits (HTTP request to response, httpx), against a
baseline in the same run: the same request from a single client with nothing else running.

The project is built with the library (every read saved and signed by both readers, the server key
signing each audit entry), then served by ``recist review serve`` on 127.0.0.1 (plain HTTP on
loopback, as behind a TLS reverse proxy). Each load phase lasts ``--seconds`` (bounded). Each client
sends one request every ``--interval`` seconds (default 1 s, far faster than a radiologist saves or looks
at a worklist), never more than one at a time; ``--interval 0`` sends them back to back, which measures
throughput (the latency is then the queue of all clients).

Saves are written by group commit (:mod:`recist.review.commit`): the saves waiting at the same moment
share one batch of fsyncs, so the figure with 20 clients measures that, against one client alone.

    .venv/bin/python benchmarks/bench_review_server.py [--subjects 500] [--clients 20] [--seconds 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from recist.review.accounts import Accounts
from recist.review.keys import SigningKey, project_state_dir
from recist.review.workflow import ReviewProject, SubjectTimepoint

CHARTER = {"format": "recist.charter/1", "trial": "BENCH", "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
           "administrators": ["PM1"]}
PASSWORD = "benchmark passphrase"
N_TIMEPOINTS = 6
PROBES_PER_CLIENT = 5


def _case(project: ReviewProject, subject: str, pseudonym: str, seed: int) -> dict:
    """A two-target read on the package's labels and shifted dates."""
    base = dt.date(2023, 1, 2)
    shift = dt.timedelta(days=project.date_shift_days(subject))
    sizes = [40.0 - (seed % 7) * k * 0.8 + (seed % 3) * k * 3 for k in range(N_TIMEPOINTS)]
    return {
        "format": "recist.case/1", "subject": pseudonym,
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}, {"id": "T2", "role": "target", "site": "lung"}],
        "timepoints": [{"label": project.charter.package_label(k, "baseline" if k == 0 else f"week {8 * k}"),
                        "date": (base + dt.timedelta(days=56 * k) + shift).isoformat(),
                        "targets": {"T1": {"long_axis_mm": max(s, 0.0)}, "T2": {"long_axis_mm": 15.0}}}
                       for k, s in enumerate(sizes)],
    }


def _build(root: Path, home: Path, subjects: int, probes: int) -> dict[str, dict]:
    """The project; returns pseudonym -> a draft case for each probe subject (no read yet)."""
    key = SigningKey.load_or_create(home)
    ReviewProject.init(root, CHARTER, as_="PM1")
    project = ReviewProject.open(root, signer=key)
    project.install_server_key(as_="PM1")
    base = dt.date(2023, 1, 2)
    tps = [SubjectTimepoint("baseline" if k == 0 else f"week {8 * k}", base + dt.timedelta(days=56 * k), ("/data",))
           for k in range(N_TIMEPOINTS)]
    for i in range(subjects):
        subject = f"SUBJ-{i:04d}"
        p = project.add_subject(subject, tps, as_="PM1", check_images=False)  # no images in the benchmark
        for reader_no, reader in enumerate(("R1", "R2")):
            project.save_read(p, _case(project, subject, p, i + reader_no), as_=reader)
            project.sign(p, as_=reader)
    drafts = {}
    for i in range(probes):
        subject = f"PROBE-{i:04d}"
        p = project.add_subject(subject, tps, as_="PM1", check_images=False)  # no images in the benchmark
        drafts[p] = _case(project, subject, p, i)
    accounts = Accounts(project_state_dir(root, home))
    for user in ("R1", "R2", "ADJ1", "PM1"):
        accounts.add(user, role=project.charter.role_of(user) or "", name=f"Bench {user}", password=PASSWORD,
                     charter_role=project.charter.role_of(user), now=dt.datetime.now(dt.timezone.utc))
    return drafts


def _serve(root: Path, home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "recist", "review", "serve", str(root), "--port", str(port),
                                 "--server-home", str(home)], stdout=out, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            httpx.get(url + "/api/me", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def _client(url: str, user: str) -> httpx.Client:
    token = httpx.post(url + "/api/login", json={"user": user, "password": PASSWORD}, timeout=60).json()["token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def _load(url: str, users: list[str], seconds: float, request, interval: float) -> list[float]:
    """Each user's client sends ``request(client, k, n)`` every ``interval`` s (0: back to back) for
    ``seconds``; all latencies (s)."""
    clients = [_client(url, user) for user in users]
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients))
    until = [0.0]

    def run(k: int) -> None:
        start.wait()
        if k == 0:
            until[0] = time.monotonic() + seconds
        while until[0] == 0.0:
            time.sleep(0.001)
        n = 0
        next_at = time.monotonic() + interval * k / len(clients)  # clients spread over one interval
        while next_at < until[0]:
            time.sleep(max(0.0, next_at - time.monotonic()))
            t0 = time.perf_counter()
            response = request(clients[k], k, n)
            elapsed = time.perf_counter() - t0
            response.raise_for_status()
            with lock:
                latencies.append(elapsed)
            n += 1
            next_at = max(next_at + interval, time.monotonic())  # never more than one request in flight

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return latencies


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=500)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between two requests of one client (0: back to back, a throughput test)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = tmp
        root, home = Path(tmp) / "review", Path(tmp) / "home"
        t0 = time.perf_counter()
        drafts = _build(root, home, args.subjects, PROBES_PER_CLIENT * (args.clients + 1))
        print(f"built {args.subjects} subjects x 2 signed reads x {N_TIMEPOINTS} timepoints "
              f"(+{len(drafts)} probe subjects) in {time.perf_counter() - t0:.0f} s")
        probes = sorted(drafts)
        proc, url = _serve(root, home, Path(tmp) / "server.log")
        try:
            readers = ["R1" if k % 2 == 0 else "R2" for k in range(args.clients)]

            def save(client: httpx.Client, k: int, n: int) -> httpx.Response:
                # each client saves drafts on its own probe subjects (the baseline client on the last ones)
                p = probes[k * PROBES_PER_CLIENT + n % PROBES_PER_CLIENT]
                return client.put(f"/api/subjects/{p}/read", json=drafts[p])

            def save_alone(client: httpx.Client, _k: int, n: int) -> httpx.Response:
                return save(client, args.clients, n)

            def status(client: httpx.Client, _k: int, _n: int) -> httpx.Response:
                return client.get("/api/status")

            os.sync()
            load_before = os.getloadavg()
            rows = [
                ("save a draft, 1 client (baseline)", _load(url, ["R1"], args.seconds / 3, save_alone, args.interval), 0.100),
                (f"save a draft, {args.clients} clients", _load(url, readers, args.seconds, save, args.interval), 0.100),
                ("status as a reader, 1 client (baseline)", _load(url, ["R1"], args.seconds / 3, status, args.interval), 1.0),
                (f"status as readers, {args.clients} clients", _load(url, readers, args.seconds, status, args.interval), 1.0),
                ("status as the administrator, 1 client (baseline)", _load(url, ["PM1"], args.seconds / 3, status, args.interval),
                 1.0),
                (f"status as the administrator, {args.clients} clients",
                 _load(url, ["PM1"] * args.clients, args.seconds, status, args.interval), 1.0),
            ]
            verify = _client(url, "PM1").get("/api/verify").json()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    print(f"{'request (as the client waits)':<52} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} "
          f"{'goal ms':>8}  ok (p95)")
    for name, values, goal in rows:
        p95 = _p95(values)
        print(f"{name:<52} {len(values):>6} {statistics.median(values) * 1e3:>10.1f} {p95 * 1e3:>8.1f} "
              f"{max(values) * 1e3:>8.1f} {goal * 1e3:>8.0f}  {'yes' if p95 <= goal else 'NO'}")
    print(f"verify after the load: {'intact' if verify['intact'] else verify['problems'][:5]}")
    print("machine load average (1, 5, 15 min) before the load phases: {:.2f} {:.2f} {:.2f}, after: "
          "{:.2f} {:.2f} {:.2f} ({} cores)".format(*load_before, *os.getloadavg(), os.cpu_count()))


if __name__ == "__main__":
    main()
