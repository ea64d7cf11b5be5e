"""Layer ops in improved_wgan_training's style: one function per layer, params by registry name."""
