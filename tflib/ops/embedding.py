"""Rows of a table by label, as a one-hot product."""
from tflib.compat import tf


def lookup(table, labels):
    """``table[labels]`` ([n_rows, dim] and int labels [n] -> [n, dim]) by a one-hot matmul:
    its gradient is dense, where a gather's is a sparse row update whose optimizer step needs
    TF's Unique op (AI CPU only on Ascend). The tables here have a row per class, so the
    product costs nothing."""
    return tf.matmul(tf.one_hot(labels, int(table.shape[0]), dtype=table.dtype.base_dtype), table)
