"""Floating-point work of a graph's dense ops, counted from their static shapes: what a matmul
peak applies to (elementwise work is not counted)."""
import numpy as np

from tflib.compat import tf

DENSE = ('MatMul', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter')


def op_flops(op):
    """Multiply-adds x 2 of one dense op from its static shapes (0 for other ops)."""
    if op.type == 'MatMul':
        a = op.inputs[0].shape.as_list()
        inner = a[0] if op.get_attr('transpose_a') else a[1]
        return 2 * int(np.prod(op.outputs[0].shape.as_list())) * inner
    if op.type in DENSE:
        # The forward output (or its gradient) times the filter's receptive field.
        out = op.outputs[0] if op.type == 'Conv2D' else op.inputs[2]
        if op.type == 'Conv2DBackpropFilter':
            kh, kw, c_in, _ = op.outputs[0].shape.as_list()
        else:
            kh, kw, c_in, _ = op.inputs[1].shape.as_list()
        return 2 * int(np.prod(out.shape.as_list())) * kh * kw * c_in
    return 0


def ops_run_by(*targets):
    """The ops a session.run of ``targets`` (ops or tensors) executes: their transitive data
    and control inputs."""
    seen, stack = set(), [t if isinstance(t, tf.Operation) else t.op for t in targets]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def graph_flops(target):
    """FLOPs of the ops ``target`` runs."""
    return sum(op_flops(op) for op in ops_run_by(target))
