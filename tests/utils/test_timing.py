import torch

from pointhmr.utils.timing import device_synchronizer, time_interleaved


def test_calls_alternate_and_each_timed_call_is_synchronised():
    order, syncs = [], []
    calls = dict(a=lambda: order.append('a'), b=lambda: order.append('b'))
    timed = time_interleaved(calls, iters=3, warmup=1, synchronize=lambda: syncs.append(len(order)))
    assert order == ['a', 'b'] * 4  # one warm-up round, then 3 alternating timed rounds
    assert len(syncs) == 2 * 2 * 3  # before and after each of the 6 timed calls, not around warm-up calls
    assert set(timed) == {'a', 'b'}
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in timed.values())


def test_median_of_the_timed_calls():
    durations = iter([0.0, 0.03, 0.01, 0.02])  # warm-up, then three timed calls

    def sleepy():
        import time
        time.sleep(next(durations))

    wall, _ = time_interleaved(dict(s=sleepy), iters=3, warmup=1)['s']
    assert 0.015 < wall < 0.03


def test_cpu_synchronizer_is_a_no_op():
    assert device_synchronizer(torch.device('cpu'))() is None
