from typing import Optional


def make_divisible(value: float, divisor: int, min_value: Optional[int] = None,
                   min_ratio: float = 0.9) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, at least ``min_value``
    (default ``divisor``) and at least ``min_ratio * value`` (TF-slim's ``_make_divisible``,
    which MobileNeXt uses with divisor 8 and 16 and GhostNet/ParameterNet with divisor 4)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < min_ratio * value:
        rounded += divisor
    return rounded
