"""A test-only emulator of Ascend's TensorFlow 1.15 adapter, npu_bridge, on a CPU.

Never installed for users and never imported by the project: tests put ``test/npu_emulator`` on
``sys.path`` (the ``npu_emulator`` fixture of test/conftest.py), so that ``--device npu`` runs the
project's NPU-only host code (the loss-scale wrapper, the loop op, the session config) for real.
Each module sits at the adapter's import path and reproduces what the adapter's source does, as
read at Ascend/tensorflow, branch master, commit 085a7b2e7feac20dae2e3371fe08ea34296ea9fc
(2023-12-15), under ``tf_adapter/``; each docstring cites its file and lines.

Importing the real package loads the adapter's library, which registers the NpuOptimizer graph
pass and the device loop; importing this one makes ``tf.Session`` check NpuOptimizer configs and
run the loop on the CPU instead (``_emulator.install``). What only a 910 can tell (fp16 compute,
compile errors, speed) is not emulated; ``_emulator`` lists the knobs that inject overflows.
"""
from npu_bridge import _emulator

_emulator.install()
