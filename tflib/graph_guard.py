"""Graphs a user hands the project are data: before one runs, the ops that would run are
checked against an allow-list of tensor-math op types.

A frozen generator or classifier, or a SavedModel, exchanged between researchers can hold any
op TensorFlow has: a ``WriteFile`` its output depends on writes files when it is sampled, a
``ReadFile`` reads the machine's files into the samples, a ``PyFunc`` runs Python. So the ops a
run would execute (those its outputs depend on, by data or control edges, down to the tensors
the caller feeds instead, with every function a running op calls taken whole) must all have a
listed type, or the graph is refused with the unlisted types named, and nothing is executed.
"""
from tflib.config import ConfigError

# Tensor math only: no op here touches a file, the network, the clock or Python. What the
# frozen classifiers (inception-2015-12-05's, the digit classifier) and common image CNNs use.
TENSOR_MATH = frozenset([
    'Abs', 'Add', 'AddN', 'AddV2', 'ArgMax', 'AvgPool', 'BatchNormWithGlobalNormalization',
    'BiasAdd', 'Cast', 'Concat', 'ConcatV2', 'Const', 'Conv2D', 'Conv2DBackpropInput',
    'DepthToSpace', 'DepthwiseConv2dNative', 'Elu', 'Erf', 'Exp', 'ExpandDims', 'Fill',
    'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'Identity', 'LeakyRelu', 'Log',
    'MatMul', 'Max', 'MaxPool', 'Maximum', 'Mean', 'Min', 'Minimum', 'Mul', 'Neg', 'NoOp',
    'OneHot', 'Pack', 'Pad', 'Placeholder', 'PlaceholderWithDefault', 'Pow', 'RealDiv',
    'Reciprocal', 'Relu', 'Relu6', 'Reshape', 'ResizeBicubic', 'ResizeBilinear',
    'ResizeNearestNeighbor', 'Rsqrt', 'Selu', 'Shape', 'Sigmoid', 'Slice', 'Softmax', 'Softplus',
    'SpaceToDepth', 'Split', 'SplitV', 'Sqrt', 'Square', 'SquaredDifference', 'Squeeze',
    'StopGradient', 'StridedSlice', 'Sub', 'Sum', 'Tanh', 'Tile', 'Transpose', 'Unpack'])


class UnsafeGraph(ConfigError):
    """A graph would run an op outside the allow-list; the message names the file and types."""


def _tensor(name):
    """'x' -> 'x:0'; 'x:1' as it is."""
    return name if ':' in name else name + ':0'


def _called_functions(node, library):
    """The library functions ``node`` calls: as its op, or through function-valued attrs."""
    names = [node.op] if node.op in library else []
    for attr in node.attr.values():
        if attr.HasField('func'):
            names.append(attr.func.name)
        names += [f.name for f in attr.list.func]
    return [name for name in names if name in library]


def ops_that_run(graph_def, outputs, fed=()):
    """{node or function-node name: op type} of what running ``outputs`` (tensor or op names)
    executes when the tensors ``fed`` are fed: a fed tensor is not computed, but its node still
    runs when a control edge or another of its outputs is needed (as TensorFlow prunes)."""
    nodes = {node.name: node for node in graph_def.node}
    library = {f.signature.name: f for f in graph_def.library.function}
    fed = set(_tensor(name) for name in fed)
    running, seen_functions = {}, set()
    stack = [name.split(':')[0] for name in outputs]
    while stack:
        name = stack.pop()
        if name in running or name not in nodes:
            continue
        node = nodes[name]
        running[name] = node.op
        for source in node.input:
            if source.startswith('^') or _tensor(source) not in fed:
                stack.append(source.lstrip('^').split(':')[0])
        functions = _called_functions(node, library)
        while functions:
            function = functions.pop()
            if function in seen_functions:
                continue
            seen_functions.add(function)
            for inner in library[function].node_def:
                running['{}/{}'.format(function, inner.name)] = inner.op
                functions.extend(_called_functions(inner, library))
    return running


def check(graph_def, outputs, allowed, path, fed=()):
    """Refuse (UnsafeGraph) a graph whose ``outputs`` would run an op type not in
    ``allowed``."""
    unlisted = sorted(set(ops_that_run(graph_def, outputs, fed).values()) - set(allowed))
    if unlisted:
        raise UnsafeGraph('{}: refused: running it would execute {} (only tensor math is '
                          'allowed in a graph file; nothing was run)'.format(
                              path, ', '.join(unlisted)))
