"""The DCGAN paper's representation test (Radford et al., ICLR 2016, §5.1): a trained critic
as a feature extractor for supervised learning. Each marked conv layer's activations are
max-pooled to a 4x4 grid, flattened and concatenated, and a regularised linear classifier (an
L2-SVM, as the paper's) is fitted on a labelled training split and scored on a held-out one.
"""
import numpy as np

from tflib.compat import tf

GRID = 4
C_GRID = (1e-3, 1e-2, 1e-1)  # SVM regularisation, chosen on a fifth of the training features


def pooled(features):
    """NHWC activations -> one [N, F] tensor: each max-pooled to at most GRID x GRID."""
    flat = []
    for x in features:
        size = int(x.shape[1])
        if size > GRID:
            if size % GRID:
                raise ValueError('a {}x{} feature map does not pool to {}x{}'.format(
                    size, size, GRID, GRID))
            window = [1, size // GRID, size // GRID, 1]
            x = tf.nn.max_pool(x, window, window, 'VALID')
        flat.append(tf.reshape(x, [-1, int(np.prod(x.shape.as_list()[1:]))]))
    return tf.concat(flat, axis=1)


def linear_accuracy(train_x, train_y, test_x, test_y, seed=0):
    """Test accuracy of a standardised L2-SVM (LinearSVC, squared hinge) whose C is chosen on
    a held-out fifth of the training split, then refitted on all of it; and that C."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    def fit(x, y, c):
        scaler = StandardScaler().fit(x)
        svm = LinearSVC(C=c, dual=True, tol=1e-3, max_iter=1000, random_state=seed).fit(
            scaler.transform(x), y)
        return lambda z: svm.predict(scaler.transform(z))

    order = np.random.RandomState(seed).permutation(len(train_x))
    held, kept = order[:len(order) // 5], order[len(order) // 5:]
    best = max(C_GRID, key=lambda c: np.mean(
        fit(train_x[kept], train_y[kept], c)(train_x[held]) == train_y[held]))
    return float(np.mean(fit(train_x, train_y, best)(test_x) == test_y)), best
