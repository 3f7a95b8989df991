"""em_waiter.wait_until: the one poller (read, test, sleep) with a clock only sleeping advances."""
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_waiter import wait_until


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reader(values):
    values = list(values)
    reads = []

    def read():
        reads.append(1)
        return values.pop(0) if len(values) > 1 else values[0]
    return read, reads


def test_reads_first_when_nothing_is_known_and_stops_when_done():
    clock = Clock()
    read, reads = reader([1, 2, 3])
    assert wait_until(read, lambda v: v == 3, 60, 2, sleep=clock.sleep, clock=clock) == (True, 3, 4.0)
    assert len(reads) == 3 and clock.sleeps == [2, 2]


def test_a_known_value_is_tested_before_any_read():
    clock = Clock()
    read, reads = reader([9])
    assert wait_until(read, lambda v: v == 0, 60, 2, value=0, sleep=clock.sleep, clock=clock) == (True, 0, 0.0)
    assert reads == [] and clock.sleeps == []


def test_no_sleep_ends_past_the_timeout_and_the_last_value_is_returned():
    clock = Clock()
    read, reads = reader(["a", "b", "c", "d", "e"])
    satisfied, value, waited = wait_until(read, lambda v: False, 10, 3, sleep=clock.sleep, clock=clock)
    # reads at 0, 3, 6, 9 s; a sleep from 9 s would end at 12 s, past 10
    assert (satisfied, value, waited) == (False, "d", 9.0) and clock.sleeps == [3, 3, 3]


def test_timeout_zero_reads_once_and_never_sleeps():
    clock = Clock()
    read, reads = reader(["x"])
    assert wait_until(read, lambda v: False, 0, 1, sleep=clock.sleep, clock=clock) == (False, "x", 0.0)
    assert len(reads) == 1 and clock.sleeps == []
