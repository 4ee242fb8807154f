"""relative_error: one definition, two norms, each with the thresholds that use it."""
import pytest
import torch

from mmshallow import testing
from mmshallow.utils.numerics import flatten_tensors, relative_error


def test_max_norm_is_the_worst_element_over_the_largest_reference_element():
    expected = torch.tensor([[4.0, -2.0], [1.0, 0.0]])
    actual = expected + torch.tensor([[0.0, 0.0], [0.0, 0.5]])
    assert relative_error(actual, expected) == pytest.approx(0.5 / 4.0)
    assert relative_error(actual, expected, norm='max') == relative_error(actual, expected)


def test_l2_norm_is_the_ratio_of_euclidean_norms():
    expected = torch.tensor([3.0, 4.0])
    actual = torch.tensor([3.0, 4.5])
    assert relative_error(actual, expected, norm='l2') == pytest.approx(0.5 / 5.0)
    # one bad element among many: the max norm counts it in full, l2 dilutes it
    expected = torch.ones(10000)
    actual = expected.clone()
    actual[0] += 0.01
    assert relative_error(actual, expected) == pytest.approx(1e-2)
    assert relative_error(actual, expected, norm='l2') == pytest.approx(1e-4)


def test_nested_outputs_give_the_worst_tensor():
    expected = dict(a=torch.ones(3), b=(torch.full((2, ), 10.0), [torch.ones(1)]))
    actual = dict(a=torch.ones(3), b=(torch.full((2, ), 10.0), [torch.full((1, ), 1.2)]))
    assert len(flatten_tensors(actual)) == 3
    assert relative_error(actual, expected) == pytest.approx(0.2)
    assert relative_error(actual, expected, norm='l2') == pytest.approx(0.2)


def test_bad_requests_name_what_is_wrong():
    x = torch.ones(2)
    with pytest.raises(ValueError, match=r"norm 'fro' not in \('max', 'l2'\)"):
        relative_error(x, x, norm='fro')
    with pytest.raises(ValueError, match='outputs differ in structure: 1 vs 2 tensors'):
        relative_error(x, (x, x))
    with pytest.raises(ValueError, match=r'output shapes differ: \(2,\) vs \(3,\)'):
        relative_error(x, torch.ones(3))


def test_testing_reexports_the_library_definition():
    assert testing.relative_error is relative_error
    assert testing.flatten_tensors is flatten_tensors
