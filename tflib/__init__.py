"""ganzoo-ascend's shared layer library (after improved_wgan_training's tflib)."""
from tflib.params import all_params, param, params_with_name  # noqa: F401
