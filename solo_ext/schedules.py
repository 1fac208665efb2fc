"""Epoch-based loss-weight schedules (pure python)."""

from dataclasses import dataclass
from typing import Optional

__all__ = ["WindowedWeight"]


@dataclass(frozen=True)
class WindowedWeight:
    """``w(epoch) = weight if start_epoch <= epoch < start_epoch + duration else 0`` (MAGMA's schedule).

    ``duration=None`` never ends: a hard step from ``start_epoch`` on (ViC-MAE's contrastive weight).

    ``epoch`` is Lightning's 0-based ``current_epoch``. Because the weight is a pure function of the
    epoch, a resumed run gets exactly the weight an uninterrupted run would have.

    Usage::

        schedule = WindowedWeight(weight=1.0, start_epoch=10, duration=100)
        schedule(9), schedule(10), schedule(110)   # 0.0, 1.0, 0.0
    """

    weight: float
    start_epoch: int = 0
    duration: Optional[int] = 0

    def __post_init__(self):
        numbers = [("weight", self.weight), ("start_epoch", self.start_epoch)]
        if self.duration is not None:
            numbers.append(("duration", self.duration))
        for key, value in numbers:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key}: {value!r} is not allowed; expected a number >= 0")
        for key, value in numbers[1:]:
            if int(value) != value:
                raise ValueError(
                    f"{key}: {value!r} is not allowed; expected a whole number of epochs >= 0"
                )

    def __call__(self, epoch: int) -> float:
        ended = self.duration is not None and epoch >= self.start_epoch + self.duration
        if self.start_epoch <= epoch and not ended:
            return float(self.weight)
        return 0.0
