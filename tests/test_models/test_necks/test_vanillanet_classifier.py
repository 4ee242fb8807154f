import warnings

import pytest
import torch

from mmshallow.models.necks import VanillaNetClassifier, VanillaNetClsNeck
from mmshallow.models.necks.vanillanet_classifier import warn_renamed
from mmshallow.registry import MODELS


def test_returns_the_logits_of_the_last_feature():
    classifier = VanillaNetClassifier(8, 5, dropout=0.1).eval()
    feats = (torch.rand(2, 4, 6, 6), torch.rand(2, 8, 3, 3))
    (logits, ) = classifier(feats)
    assert logits.shape == (2, 5)
    assert classifier.dropout.p == 0.1
    with pytest.raises(ValueError, match='VanillaNetClassifier was built for in_channels=8 but '
                                         'got 4 channels'):
        classifier(feats[:1])


def test_old_name_still_builds_the_classifier_and_warns_once():
    warn_renamed.cache_clear()
    with pytest.warns(FutureWarning, match="'VanillaNetClsNeck' is deprecated: it is the "
                                           "classifier VanillaNetClassifier"):
        old = MODELS.build(dict(type='mmshallow.VanillaNetClsNeck', in_channels=8,
                                num_classes=5))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        VanillaNetClsNeck(8, 5)  # the second time says nothing
    assert isinstance(old, VanillaNetClassifier)
    new = VanillaNetClassifier(8, 5)
    new.load_state_dict(old.state_dict(), strict=True)
    x = (torch.rand(1, 8, 2, 2), )
    assert torch.equal(new.eval()(x)[0], old.eval()(x)[0])
