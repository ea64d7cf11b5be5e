"""The one place that imports TensorFlow.

TF 1.15 (Ascend's stack) is used as it is; on TF 2.x the ``compat.v1`` API is used with v2
behaviour switched off, so every model is the same TF1-style graph on both.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

import tensorflow as _tf  # noqa: E402

TF_VERSION = _tf.__version__
IS_TF2 = not TF_VERSION.startswith('1.')

_tf.compat.v1.logging.set_verbosity(_tf.compat.v1.logging.ERROR)
tf = _tf.compat.v1 if IS_TF2 else _tf
if IS_TF2:
    tf.disable_v2_behavior()

# The proto of a saved_model.pb, to read one before TensorFlow loads it (zoo/generators.py).
from tensorflow.core.protobuf import saved_model_pb2 as _saved_model_pb2  # noqa: E402

SavedModelProto = _saved_model_pb2.SavedModel


def onednn_enabled():
    """Whether this TensorFlow runs oneDNN's CPU kernels and graph rewrites: TF 2.x on x86
    by default (TF_ENABLE_ONEDNN_OPTS=0 turns them off); TF 1.15's pip build never."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return False
    return bool(_pywrap_util_port.IsMklEnabled())
