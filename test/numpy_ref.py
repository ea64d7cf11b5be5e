"""NumPy references for the ops and for the original networks' forward passes (NHWC, float64).

Written from the original code's definitions (improved_wgan_training tflib, gan_cifar_resnet.py,
transfer_gan.py), independently of the TF graph, so the graph can be checked against them.
"""
import numpy as np

EPS = 1e-5


def _same_pads(size, k, stride):
    """TF's 'SAME' rule: output size, padding before, padding in all."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, total // 2, total


def conv2d(x, w, b=None, stride=1):
    """'SAME' convolution, x [N, H, W, Cin], w [k, k, Cin, Cout]."""
    k = w.shape[0]
    out_h, top, pad_h = _same_pads(x.shape[1], k, stride)
    out_w, left, pad_w = _same_pads(x.shape[2], k, stride)
    xp = np.pad(x, [(0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)])
    y = np.zeros((x.shape[0], out_h, out_w, w.shape[3]))
    for a in range(k):
        for c in range(k):
            patch = xp[:, a:a + stride * out_h:stride, c:c + stride * out_w:stride, :]
            y += patch @ w[a, c]
    return y if b is None else y + b


def deconv2d(x, w, b=None):
    """Stride-2 'SAME' transposed convolution, w [k, k, Cout, Cin]: the adjoint of conv2d."""
    n, h, wd, _ = x.shape
    k = w.shape[0]
    _, top, _ = _same_pads(2 * h, k, 2)
    _, left, _ = _same_pads(2 * wd, k, 2)
    y = np.zeros((n, 2 * h + k, 2 * wd + k, w.shape[2]))
    for a in range(k):
        for c in range(k):
            y[:, a:a + 2 * h:2, c:c + 2 * wd:2, :] += x @ w[a, c].T
    y = y[:, top:top + 2 * h, left:left + 2 * wd, :]
    return y if b is None else y + b


def batchnorm(x, offset, scale, mean=None, var=None):
    axes = tuple(range(x.ndim - 1))
    if mean is None:
        mean, var = x.mean(axes), x.var(axes)
    return (x - mean) / np.sqrt(var + EPS) * scale + offset


def cond_batchnorm(x, offset, scale, labels):
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    return (x - mean) / np.sqrt(var + EPS) * scale[labels][:, None, None] + \
        offset[labels][:, None, None]


def layernorm(x, offset, scale):
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * scale + offset


def mean_pool(x):
    return (x[:, ::2, ::2] + x[:, 1::2, ::2] + x[:, ::2, 1::2] + x[:, 1::2, 1::2]) / 4.


def upsample(x):
    return x.repeat(2, axis=1).repeat(2, axis=2)


def relu(x):
    return np.maximum(x, 0.)


class Forward(object):
    """The original networks, run on a {checkpoint key: array} dict."""

    def __init__(self, values, cfg):
        self.v, self.cfg = values, cfg
        self.good = cfg['ARCH'] == 'good_resnet'

    def conv(self, name, x, biases=True):
        b = self.v[name + '/' + name + '.Biases'] if biases else None
        return conv2d(x, self.v[name + '/' + name + '.Filters'], b)

    def linear(self, name, x):
        return x @ self.v[name + '/' + name + '.W'] + self.v[name + '/' + name + '.b']

    def norm(self, name, x, labels):
        if name.startswith('Discriminator'):
            if not self.cfg['NORMALIZATION_D']:
                return x
            return layernorm(x, self.v[name + '.offset'], self.v[name + '.scale'])
        if not self.cfg['NORMALIZATION_G']:
            return x
        if labels is not None:
            return cond_batchnorm(x, self.v[name + '.offset'], self.v[name + '.scale'], labels)
        return batchnorm(x, self.v[name + '.offset'], self.v[name + '.scale'])

    def block(self, name, x, resample, labels=None):
        n1, n2 = ('.BN1', '.BN2') if self.good else ('.N1', '.N2')
        if resample == 'up':
            shortcut = self.conv(name + '.Shortcut', upsample(x))
        elif resample == 'down' and self.good:
            shortcut = self.conv(name + '.Shortcut', mean_pool(x))
        elif resample == 'down':
            shortcut = mean_pool(self.conv(name + '.Shortcut', x))
        else:
            shortcut = x
        y = relu(self.norm(name + n1, x, labels))
        if resample == 'up':
            y = upsample(y)
        y = self.conv(name + '.Conv1', y, biases=not self.good)
        y = relu(self.norm(name + n2, y, labels))
        y = self.conv(name + '.Conv2', y)
        return shortcut + (mean_pool(y) if resample == 'down' else y)

    def generator(self, noise, labels=None):
        labels = labels if self.cfg['CONDITIONAL'] else None
        names = ['Generator.Res%d' % i for i in range(1, 5)] if self.good else \
            ['Generator.%d' % i for i in range(1, 4)]
        size = self.cfg['IMAGE_SIZE'] // 2 ** len(names)
        x = self.linear('Generator.Input', noise)
        x = x.reshape(len(noise), -1, size, size).transpose(0, 2, 3, 1)
        for name in names:
            x = self.block(name, x, 'up', labels)
        x = relu(self.norm('Generator.OutputN', x, labels if self.good else None))
        return np.tanh(self.conv('Generator.Output', x))

    def discriminator(self, images):
        if self.good:
            x = self.conv('Discriminator.Input', images)
            for i in range(1, 5):
                x = self.block('Discriminator.Res%d' % i, x, 'down')
            features = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
        else:
            shortcut = self.conv('Discriminator.1.Shortcut', mean_pool(images))
            y = relu(self.conv('Discriminator.1.Conv1', images))
            x = shortcut + mean_pool(self.conv('Discriminator.1.Conv2', y))
            x = self.block('Discriminator.2', x, 'down')
            x = self.block('Discriminator.3', x, None)
            x = self.block('Discriminator.4', x, None)
            features = relu(x).mean((1, 2))
        scores = self.linear('Discriminator.Output', features)[:, 0]
        logits = self.linear('Discriminator.ACGANOutput', features) if self.cfg['ACGAN'] else None
        return scores, logits


def diffaug_color(x, brightness, saturation, contrast):
    """DiffAugment_tf.py's rand_brightness, rand_color and rand_contrast with the given
    uniform draws [N, 1, 1, 1]."""
    x = x + (brightness - 0.5)
    mean = x.mean(axis=3, keepdims=True)
    x = (x - mean) * (saturation * 2) + mean
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (contrast + 0.5) + mean


def diffaug_translation(x, shift_h, shift_w, fill=0.):
    """rand_translation with shifts [N] (in [-size/8, size/8]): each axis padded by one pixel of
    ``fill`` (the paper's 0) and read at clip(index + shift + 1, 0, size + 1)."""
    n, h, w, _ = x.shape
    out = np.empty_like(x)
    for b in range(n):
        padded = np.pad(x[b], [(1, 1), (1, 1), (0, 0)], constant_values=fill)
        rows = np.clip(np.arange(h) + shift_h[b] + 1, 0, h + 1)
        cols = np.clip(np.arange(w) + shift_w[b] + 1, 0, w + 1)
        out[b] = padded[rows][:, cols]
    return out


def diffaug_cutout(x, offset_h, offset_w, fill=0.):
    """rand_cutout with offsets [N] in [0, size + 1 - (size // 2) % 2): the cells of a
    (size // 2)-square at offset - size // 4, clipped into the image, set to ``fill`` (the
    paper's mask multiplies by 0)."""
    n, h, w, _ = x.shape
    side_h, side_w = h // 2, w // 2
    out = x.copy()
    for b in range(n):
        for i in range(side_h):
            for j in range(side_w):
                r = min(max(i + offset_h[b] - side_h // 2, 0), h - 1)
                c = min(max(j + offset_w[b] - side_w // 2, 0), w - 1)
                out[b, r, c] = fill
    return out
