"""`keras_s2s.compat`: the private Keras methods keras_s2s overrides still exist, each
override is where the models use it, and a Keras version change is said."""

import keras
import pytest

from keras_s2s import compat
from keras_s2s.models import Adam, Seq2Seq


def test_every_overridden_private_method_exists_in_this_keras():
    assert compat.check_keras() == []
    for cls, name in compat.OVERRIDES:
        assert callable(getattr(cls, name)), name


def test_the_mixins_override_the_listed_methods_and_the_models_use_them():
    overridden = {name for _, name in compat.OVERRIDES}
    mixins = {compat.ReplicaSafeBuild: Seq2Seq, compat.GlobalGradientClipping: Adam}
    if keras.backend.backend() != "tensorflow":
        del mixins[compat.ReplicaSafeBuild]
    for mixin, user in mixins.items():
        own = {name for name in vars(mixin) if name.startswith("_") and not name.startswith("__")}
        assert own <= overridden, f"{mixin.__name__} overrides {own - overridden} unlisted"
        assert user.__mro__.index(mixin) < user.__mro__.index(
            keras.Model if user is Seq2Seq else keras.optimizers.Optimizer)
        for name in own:
            assert getattr(user, name) is vars(mixin)[name]


def test_another_keras_version_is_warned_about(monkeypatch):
    monkeypatch.setattr(keras, "__version__", "9.0.0")
    with pytest.warns(UserWarning, match=r"verified with Keras 3\.15; this is Keras 9\.0\.0"):
        compat.check_keras()


def test_a_renamed_private_method_is_named(monkeypatch):
    monkeypatch.setattr(compat, "OVERRIDES", ((keras.Model, "_no_such_method"),))
    assert compat.check_keras() == ["Model._no_such_method"]
