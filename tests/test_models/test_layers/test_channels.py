from mmshallow.models.layers.channels import make_divisible


def test_make_divisible_rounds_to_the_nearest_multiple_but_never_below_90_percent():
    # GhostNet / ParameterNet widths (divisor 4): 16 * 1.9, 24 * 1.9, 200 * 1.9, 960 * 1.9
    assert [make_divisible(v, 4) for v in (30.4, 45.6, 380.0, 1824.0, 30.0)] == [
        32, 44, 380, 1824, 32]
    # MobileNeXt widths (divisor 8) and its hidden-width floor (divisor 16)
    assert [make_divisible(v, 8) for v in (33.6, 50.4, 201.6, 11.2, 3)] == [32, 48, 200, 16, 8]
    assert make_divisible(214, 16) == 208
    assert make_divisible(1.0, 4) == 4  # at least the divisor
    assert make_divisible(10, 8) == 16  # 8 would lose more than 10 %
    assert make_divisible(12, 8, min_value=16) == 16
