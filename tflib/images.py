"""Image grids and PNG files."""
import io

import numpy as np
from PIL import Image

from tflib import files


def to_uint8(images):
    """Float images in [-1, 1] -> uint8 in [0, 255] by improved_wgan_training's conversion,
    ``((x + 1) * (255.99 / 2)).astype('int32')``, which published Inception Scores use: the
    project's one float-to-pixel conversion, so saved images (grids, images.npz) are the pixels
    that were scored (values outside [-1, 1], from PGAN's linear output, are clipped)."""
    pixels = np.floor((np.asarray(images, np.float64) + 1.) * (255.99 / 2))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def resize_float(images, size):
    """Float images [N, H, W, C] bilinearly resized to [N, size, size, C] (unchanged if they
    are that size already)."""
    images = np.asarray(images, np.float32)
    if images.shape[1:3] == (size, size):
        return images
    return np.stack([np.stack([np.asarray(Image.fromarray(image[..., c]).resize(
        (size, size), Image.BILINEAR)) for c in range(image.shape[2])], axis=2)
        for image in images])


def grid(images, columns=None, min_size=1):
    """uint8 [N, H, W, C] -> one [rows*H, columns*W, C] image, row-major, as square as N
    allows (the original save_images' layout); images smaller than ``min_size`` pixels are
    enlarged by an integer factor (nearest neighbour) to reach it."""
    factor = max(1, -(-min_size // images.shape[1]))
    images = images.repeat(factor, axis=1).repeat(factor, axis=2)
    n, h, w, c = images.shape
    if columns is None:
        rows = int(np.sqrt(n))
        while n % rows:
            rows -= 1
        columns = n // rows
    rows = -(-n // columns)
    canvas = np.zeros((rows * h, columns * w, c), np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        canvas[r * h:(r + 1) * h, col * w:(col + 1) * w] = image
    return canvas


def encode_png(image):
    """uint8 [H, W, C] (C 1 or 3) -> PNG bytes (grey or RGB)."""
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, 'PNG')
    return buffer.getvalue()


def save_png(path, image):
    """Write uint8 [H, W, C] (C 1 or 3) as PNG, atomically; returns the PNG bytes."""
    data = encode_png(image)
    files.write_atomic(path, lambda f: f.write(data))
    return data
