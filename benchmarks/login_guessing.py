"""A password guesser against a real server: what does the back-off save?

    python benchmarks/login_guessing.py [--database-url URL] [--clients N]
                                        [--guesses N] [--repeats N]

Starts gunicorn (2 workers, 4 threads, production settings) on a fresh database
with one account whose password is hashed with scrypt as in production. Each
repeat clears the login counters, then ``--clients`` threads each send
``--guesses`` wrong passwords for that account to ``POST /api/v1/tokens`` over a
kept-alive connection, as a guessing script would. The
server's CPU time over the burst (user + system of the gunicorn master and its
workers, from /proc) is set beside what checking every one of those passwords
would cost: the CPU time of the same number of scrypt checks, measured in this
process. Then it waits out the ``Retry-After`` and logs in with the right
password. Prints each repeat and the medians; exit code 0 when the median ratio
is under the 5% target and the right password worked every time.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, delete  # noqa: E402
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: E402

from crowd import migrate  # noqa: E402
from crowd.persistence import LoginThrottle, User  # noqa: E402
from tests.system.server import GunicornServer  # noqa: E402

USERNAME, PASSWORD = "guessed", "the-right-password-1"
TARGET_RATIO = 0.05


def post_token(conn: http.client.HTTPConnection, password: str) -> tuple[int, dict[str, str]]:
    conn.request("POST", "/api/v1/tokens",
                 json.dumps({"username": USERNAME, "password": password}),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status, dict(response.getheaders())


def burst(server: GunicornServer, clients: int, guesses: int) -> tuple[Counter[int], int]:
    """Every client's wrong guesses; the statuses and the longest Retry-After seen."""
    statuses: Counter[int] = Counter()
    waits = [0]
    lock = threading.Lock()

    def guess(client: int) -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)  # kept alive,
        try:  # as a guessing script would
            for n in range(guesses):
                status, headers = post_token(conn, f"wrong-{client}-{n}-guess")
                with lock:
                    statuses[status] += 1
                    waits[0] = max(waits[0], int(headers.get("Retry-After", 0)))
        finally:
            conn.close()

    threads = [threading.Thread(target=guess, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, waits[0]


def hash_cpu_seconds(stored: str, count: int, sample: int = 20) -> float:
    """CPU seconds ``count`` scrypt checks take here (``sample`` timed, scaled)."""
    began = time.process_time()
    for n in range(sample):
        check_password_hash(stored, f"wrong-{n}")
    return (time.process_time() - began) / sample * count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--guesses", type=int, default=50, help="wrong passwords per client")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crowd-guessing-"))
    url = args.database_url or f"sqlite:///{folder / 'crowd.sqlite'}"
    migrate.upgrade(url)
    stored = generate_password_hash(PASSWORD, method="scrypt")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(User).where(User.username == USERNAME))
        conn.execute(User.__table__.insert().values(
            username=USERNAME, password_hash=stored, role="worker", active=True,
            session_version=0))
    sent = args.clients * args.guesses
    ratios, all_right = [], True
    with GunicornServer(url, log_dir=folder, workers=2, threads=4) as server:
        assert server.process is not None
        for repeat in range(1, args.repeats + 1):
            with engine.begin() as conn:
                conn.execute(delete(LoginThrottle))
            before = server.cpu_seconds()
            started = time.monotonic()
            statuses, wait = burst(server, args.clients, args.guesses)
            elapsed = time.monotonic() - started
            spent = server.cpu_seconds() - before
            would = hash_cpu_seconds(stored, sent)
            time.sleep(wait)
            conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
            status, _ = post_token(conn, PASSWORD)
            conn.close()
            all_right &= status == 201
            ratios.append(spent / would)
            print(f"repeat {repeat}: {sent} wrong passwords from {args.clients} clients in "
                  f"{elapsed:.2f} s -> {dict(sorted(statuses.items()))}; server CPU "
                  f"{spent:.3f} s vs {would:.2f} s to hash them all: {spent / would:.1%}; "
                  f"right password after the {wait} s back-off: {status}")
    engine.dispose()
    median = statistics.median(ratios)
    ok = median < TARGET_RATIO and all_right
    print(f"median over {args.repeats} repeats: server CPU is {median:.1%} of hashing every "
          f"guess (target < {TARGET_RATIO:.0%}); right password afterwards: "
          f"{'always 201' if all_right else 'FAILED'} -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
