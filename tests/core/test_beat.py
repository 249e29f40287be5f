"""A second beat started by mistake does not double the schedule: only the beat holding the
lease (core/beat.py) sends; the other takes over when the first stops."""

import time

import pytest
from django.core.cache import cache

from config.celery import app
from core.beat import LEASE_KEY, LEASE_SECONDS, SingleBeatScheduler


class RecordingScheduler(SingleBeatScheduler):
    """Records what it would send instead of publishing to the broker (a boundary: the sweeps
    themselves are tested with a real worker in tests/domains and tests/tenancy)."""

    def __init__(self, *args, **kwargs):
        self.sent = []
        super().__init__(*args, **kwargs)

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        self.sent.append(entry.name)


@pytest.fixture
def beats(tmp_path):
    made = []

    def beat(name):
        scheduler = RecordingScheduler(app=app, schedule_filename=str(tmp_path / name))
        # A sweep due every 10 ms in place of the real minute.
        scheduler.update_from_dict(
            {"sweep": {"task": "domains.requeue_due_claims", "schedule": 0.01}}
        )
        made.append(scheduler)
        return scheduler

    yield beat
    for scheduler in made:
        scheduler.close()
    cache.delete(LEASE_KEY)


def run(schedulers, seconds=0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for scheduler in schedulers:
            scheduler.tick()
        time.sleep(0.011)


def test_a_second_beat_sends_nothing_while_the_first_holds_the_lease(beats):
    first, second = beats("first"), beats("second")
    run([first, second], seconds=2.2)  # beat's clock counts whole seconds
    assert first.sent.count("sweep") >= 2
    assert second.sent == []
    assert second.tick() == LEASE_SECONDS / 3  # it waits, and asks again later


def test_the_second_beat_takes_over_when_the_first_stops(beats):
    first, second = beats("first"), beats("second")
    run([first, second], seconds=0.2)
    assert first.sent and not second.sent
    first.close()
    sent_before = len(first.sent)
    run([second], seconds=0.3)
    assert second.sent.count("sweep") >= 1
    assert len(first.sent) == sent_before


def test_a_beat_whose_lease_expired_is_replaced(beats):
    """A beat that hangs or dies without closing: its lease runs out, and another one sends."""
    first, second = beats("first"), beats("second")
    run([first], seconds=0.1)
    cache.delete(LEASE_KEY)  # what LEASE_SECONDS without a renewal does
    run([second], seconds=0.2)
    assert second.sent
    # The first, back, finds the lease taken and sends nothing more.
    sent_before = len(first.sent)
    run([first], seconds=0.2)
    assert len(first.sent) == sent_before
