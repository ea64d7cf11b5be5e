"""The DCGAN paper's representation test: critic features per layer, pooling, the linear SVM,
and gan_eval.py --representation end to end (trained critic against the untrained one)."""
import numpy as np
import pytest

import gan_eval
import gan_train
from conftest import new_session
from models import dcgan, transfer_gan
from tflib import gan as gan_lib
from tflib.compat import tf
from tflib.metrics import representation

TINY_DCGAN = ['--preset', 'dcgan_imagenet32', '--dataset', 'mnist_builtin', '--CHANNELS', '1',
              '--data_path', '', '--feature_size', '16', '--latent_size', '32', '--batch_size', '64',
              '--device', 'cpu', '--LOG_STEP', '100']


def test_dcgan_critic_features_per_layer_and_pooled(data_format):
    cfg = dcgan.config(IMAGE_SIZE=32, CHANNELS=1, feature_size=4, data_format=data_format)
    with new_session() as session:
        dcgan.discriminator(cfg, tf.zeros([3, 32, 32, 1]))
        features = gan_lib.critic_features()
        assert [f.shape.as_list() for f in features] == [[3, 16, 16, 8], [3, 8, 8, 16],
                                                         [3, 4, 4, 32]]
        pooled = representation.pooled(features)
        session.run(tf.global_variables_initializer())
        values, first = session.run([pooled, features[0]])
    assert values.shape == (3, 8 * 16 + 16 * 16 + 32 * 16)
    np.testing.assert_allclose(values[:, :8], first[:, :4, :4].max(axis=(1, 2)))


def test_flagship_critic_marks_its_blocks():
    cfg = transfer_gan.config(IMAGE_SIZE=32, DIM_D=8, DIM_G=8)
    with new_session():
        transfer_gan.discriminator(cfg, tf.zeros([2, 32, 32, 3]))
        shapes = [f.shape.as_list() for f in gan_lib.critic_features()]
    assert shapes == [[2, 16, 16, 8], [2, 8, 8, 8], [2, 8, 8, 8], [2, 8, 8, 8]]


def test_linear_svm_separates_separable_features():
    rng = np.random.RandomState(0)
    centres = rng.randn(3, 20) * 3
    labels = rng.randint(0, 3, 300)
    x = centres[labels] + rng.randn(300, 20)
    accuracy, c = representation.linear_accuracy(x[:200], labels[:200], x[200:], labels[200:])
    assert accuracy > .95 and c in representation.C_GRID


@pytest.mark.slow
def test_representation_end_to_end_and_the_trained_critic_wins(tmp_path, capsys):
    """1,500 DCGAN steps on the built-in digits (critic 32-64-128 maps, about 80 s), then
    gan_eval.py --representation with 300 labels: trained 88.5% against 85.0% untrained on
    TF 2.21, 88.2 / 86.4 on TF 1.15. At 800 steps the margin was within the test set's noise
    (about 1%): 86.3 / 85.0 and 88.3 / 86.4 with one data order and draws, 87.1 / 85.0 and
    85.8 / 86.4 with another. With all 4,000 labels the untrained critic's random features
    caught up on digits in one of the two TFs; at width 8 and 600 steps the critic won the
    game outright and its features were no better than random."""
    run = str(tmp_path / 'dcgan')
    assert gan_train.main(TINY_DCGAN + ['--ITERS', '1500', '--output_path', run]) == 0
    capsys.readouterr()
    assert gan_eval.main(['--ckpt', run, '--representation', '--representation_labels',
                          '300', '--batch', '500']) == 0
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith('representation')]
    assert len(lines) == 2 and '3584 features, 300 train / 1000 test images' in lines[0]
    trained, untrained = [float(l.split(': ')[1].split('%')[0]) for l in lines]
    assert trained > untrained + .5, lines


def test_representation_refuses_a_conditional_critic(tmp_path, capsys):
    run = str(tmp_path / 'cgan')
    assert gan_train.main(['--preset', 'cgan_mnist', '--batch_size', '8', '--ITERS', '1',
                           '--output_path', run]) == 0
    capsys.readouterr()
    assert gan_eval.main(['--ckpt', run, '--representation']) == 2
    assert 'needs a critic that sees images alone; the cgan critic' in capsys.readouterr().err
