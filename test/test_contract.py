"""The model contract (models/__init__.py): every model keeps it, and one that does not is
refused by name."""
import types

import pytest

import models
from conftest import new_session
from tflib import gan
from tflib.compat import tf
from zoo import settings


@pytest.mark.parametrize('name', models.NAMES)
def test_every_model_keeps_the_contract(name):
    """Its generator and its critic take the contract's arguments (labels by keyword, for
    every model) and give what its signature says."""
    model = models.get(name)
    cfg = model.config()
    signature = model.signature(cfg)
    with new_session():
        labels = tf.zeros([2], tf.int32) if signature.conditional else None
        images = model.generator(cfg, 2, labels=labels, noise=tf.zeros([2, signature.z_dim]),
                                 is_training=True, phase=None)
        size = signature.image_size
        assert images.shape.as_list() == [2, size, size, signature.channels]
        scores, logits = model.discriminator(cfg, images, labels=labels, phase=None)
        assert scores.shape.as_list() == [2]
        assert logits is None or logits.shape.as_list() == [2, signature.n_classes]
    assert model.phase_at(cfg, cfg['ITERS']) == model.phases(cfg)[-1]
    assert models.Signature.from_dict(signature.as_dict()) == signature
    settings.check_apart(model)
    phase = model.phases(cfg)[0]
    with new_session():
        recipe = model.recipe(cfg, phase)
    assert isinstance(recipe, gan.Recipe)
    assert all(draw.shape[0] == phase.batch_size for draw in recipe.spec.critic.values())


def test_a_model_setting_that_shadows_a_loop_setting_is_refused():
    model = models.get('wgan')
    model.defaults = dict(model.defaults, seed=1)
    with pytest.raises(TypeError, match='models/wgan.py DEFAULTS share seed with the loop'):
        settings.check_apart(model)


def test_a_module_that_breaks_the_contract_is_refused():
    module = types.ModuleType('models.broken')
    module.DEFAULTS, module.ARCHITECTURE = {}, ()
    with pytest.raises(TypeError, match='models.broken breaks the model contract: no config, '
                                        'critic_steps, generator, discriminator, recipe'):
        models.Model(module)
    for member in models.REQUIRED[2:]:
        setattr(module, member, lambda *args, **kwargs: None)
    with pytest.raises(TypeError, match='DEFAULTS lack IMAGE_SIZE, CHANNELS, Z_DIM'):
        models.Model(module)
