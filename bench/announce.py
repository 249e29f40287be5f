"""Benchmark 5: an announcement mailed to N members by a real Celery worker (2 processes, as in
`make run`) through an SMTP sink on loopback (aiosmtpd, in this process).

    python bench/announce.py N     (prints one JSON line; the bench's settings and database)

Reports messages per second from the enqueue to the last delivery recorded, the worker's peak
memory, and whether anybody got the mail twice or not at all.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUEUE = "quorum-bench"
BROKER = "redis://127.0.0.1:6379/7"
os.environ.update(CELERY_BROKER_URL=BROKER, CELERY_TASK_DEFAULT_QUEUE=QUEUE)


class Sink:
    """Counts the recipients of every message the worker sends."""

    def __init__(self):
        self.recipients = Counter()

    async def handle_DATA(self, server, session, envelope):
        self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid):
    """The high-water mark of a process and its pool children (VmHWM, read before they end)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    peaks = {}
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[one] = int(line.split()[1]) / 1024
    return max(peaks.values()), sum(peaks.values())


def start_worker(smtp_port):
    env = {**os.environ, "QUORUM_TEST_SMTP_PORT": str(smtp_port)}
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            QUEUE,
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"bench-{os.getpid()}@localhost",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[f"bench-{os.getpid()}@localhost"], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start")
    return worker


def main(members):
    import django

    django.setup()
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line-by-line log

    from bench.seed import seed_tenant
    from config.celery import app
    from tenancy.models import AnnouncementDelivery, User
    from tenancy.services.announcements import create_announcement
    from tenancy.tasks import queue_announcement

    app.control.purge()
    author = User.objects.select_related("membership__tenant").get(
        pk=seed_tenant(f"mail{members}-{int(time.time())}.bench", members)
    )
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    worker = start_worker(smtp.port)
    try:
        started = time.perf_counter()
        announcement = create_announcement(
            tenant=author.membership.tenant,
            actor=author,
            subject="Quorum is now our company's meeting service",
            body="Your licence is ready: sign in as usual.",
        )
        created = time.perf_counter() - started
        started = time.perf_counter()
        queue_announcement(announcement.pk)
        unsent = AnnouncementDelivery.objects.unscoped().filter(
            announcement=announcement, sent_at=None
        )
        deadline = time.monotonic() + 900
        while unsent.exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"{unsent.count()} recipients were never mailed")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        largest_process_mb, worker_total_mb = peak_rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        smtp.stop()
    mailed_twice = sum(1 for count in sink.recipients.values() if count > 1)
    print(
        json.dumps(
            {
                "members": members,
                "recipients_written_seconds": round(created, 2),
                "seconds": round(seconds, 1),
                "messages_per_second": round(members / seconds, 1),
                "mails_received": sum(sink.recipients.values()),
                "distinct_recipients": len(sink.recipients),
                "mailed_twice": mailed_twice,
                "peak_rss_mb_largest_worker_process": round(largest_process_mb, 1),
                "peak_rss_mb_worker_total": round(worker_total_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
