import pytest

from solo_ext.schedules import WindowedWeight


def test_window():
    w = WindowedWeight(weight=2.0, start_epoch=10, duration=100)
    assert [w(e) for e in (0, 9, 10, 109, 110)] == [0.0, 0.0, 2.0, 2.0, 0.0]


def test_open_ended_step():
    w = WindowedWeight(weight=0.025, start_epoch=200, duration=None)
    assert [w(e) for e in (0, 199, 200, 10_000)] == [0.0, 0.0, 0.025, 0.025]


def test_zero_duration_never_on():
    w = WindowedWeight(weight=1.0, start_epoch=0, duration=0)
    assert all(w(e) == 0.0 for e in range(5))


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"weight": -1}, "weight"),
        ({"weight": 1, "duration": -5}, "duration"),
        ({"weight": 1, "start_epoch": 1.5}, "start_epoch"),
    ],
)
def test_bad_values(kwargs, key):
    with pytest.raises(ValueError, match=key):
        WindowedWeight(**kwargs)
