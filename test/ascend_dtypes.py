"""The dtype every op of a graph computes in on an Ascend AI Core under a precision mode, and
whether CANN's op-info table of a chip has a kernel column for it (test_ascend_graph.py).

Precision (CANN's precision_mode documentation; the lists are each op's ``precision_reduce``):
``allow_mix_precision`` computes white-list ops in fp16, black-list ops in fp32, and a gray op
(no flag) as its inputs come: fp16 when a float input comes from an op that computes in fp16;
``force_fp16`` computes every float op in fp16 where its table has fp16; and
``must_keep_origin_dtype`` keeps the graph's fp32. Variables, constants and the input pipeline
give fp32; ops GE handles itself (reshapes, identities, control flow) pass their input's on.

The entry of a TF op is its TF parser IR op's, or that op's const-to-attr 'D' variant where the
table has one (GE's ConstToAttr passes produce it when the shape-like inputs are constants). A
table column fits an op when every float input and output has the op's dtype there (but an input
every column takes in fp32, such as BatchNorm's statistics, stays fp32 in any mode), and every
format it names can be reached from the tensor's rank (GE converts NCHW to NC1HWC0 or FRACTAL_Z
for 4-D tensors, and anything to ND). An op is unproven, whatever its columns say, when its
table defers to the op's Python (``dynamicFormat``: dtypes and formats chosen at compile time;
``needCheckSupport``: a compile-time support check on shapes and attributes), or when its TF
type maps to no table entry (ops a graph-fusion pass or GE rewrites).
"""
import collections
import gzip
import json
import os
import re

from tflib.compat import tf

HERE = os.path.dirname(os.path.abspath(__file__))
with gzip.open(os.path.join(HERE, 'data', 'ascend', 'ops_info.json.gz')) as _f:
    TABLES = json.loads(_f.read().decode('utf-8'))['tables']
with open(os.path.join(HERE, 'data', 'ascend', 'ascend_tf_ops.json')) as _f:
    _OPS = json.load(_f)
PARSER = _OPS['tf_parser_mapping']
PASS_THROUGH = set(_OPS['ge_builtin_tf_ops']) | set(_OPS['host_ops']) | {
    'VariableV2', 'VarHandleOp', 'ReadVariableOp', 'Placeholder', 'PlaceholderWithDefault',
    'IteratorGetNext', 'IteratorV2', 'NoOp', 'Const'}
SOURCES = ('VariableV2', 'VarHandleOp', 'Const', 'Placeholder', 'IteratorGetNext')
CANN_DTYPES = {'float': 'fp32', 'float32': 'fp32', 'float16': 'fp16', 'bfloat16': 'bf16'}
RANKS = {'NC1HWC0': (4,), 'C1HWNCoC0': (4,), 'FRACTAL_Z': (4,), 'NCHW': (4,), 'NHWC': (4,),
         'NDC1HWC0': (5,), 'FRACTAL_Z_3D': (5,), 'FRACTAL_NZ': (2, 3, 4, 5)}
MODES = ('allow_mix_precision', 'force_fp16', 'must_keep_origin_dtype')  # what dtype_map knows
# NPULossScaleOptimizer's name scopes (one per update it wraps, TF numbering the later ones _1,
# _2, ...): on a 910 they hold the float-status ops (NpuGetFloatStatusV2, NpuClearFloatStatusV2),
# which test/npu_emulator stands TF ops in for.
FLOAT_STATUS = re.compile(r'^NPULossScaleOptimizermodule(_\d+)?$')


def is_float_status(op):
    return any(FLOAT_STATUS.match(scope) for scope in op.name.split('/'))


Verdict = collections.namedtuple('Verdict', [
    'op',        # the TF op
    'cann',      # the table entry's name, or None (no entry)
    'dtype',     # 'fp16' or 'fp32': what it computes in
    'fits',      # a column fits (None: no dtypes in the table to judge by)
    'unproven',  # why the table cannot prove it ('' when it does)
])


def cann_entries(op_type, table):
    """[(name, entry)] of the table entries a TF op type becomes: per TF parser IR op, its
    const-to-attr 'D' variant where the table has one (GE's ConstToAttr passes turn an op whose
    shape-like inputs are constants, as all of these are, into it), else the IR op."""
    found = []
    for name in PARSER.get(op_type, [op_type]):
        for candidate in (name + 'D', name):
            if candidate in table:
                found.append((candidate, table[candidate]))
                break
    return found


def _static(tensor):
    """Whether GE's constant folding gives ``tensor`` a value before it compiles."""
    if tensor.op.type in ('Shape', 'ShapeN', 'Size', 'Rank'):
        return all(t.shape.is_fully_defined() for t in tensor.op.inputs)
    return tf.get_static_value(tensor) is not None


def _tensors(entry, key, op):
    """The TF tensors at an entry's ``inputN`` or ``outputN``: a dynamic input takes as many as
    the op has beyond the entry's other required inputs; an entry with fewer inputs than the
    op (a 'D' variant) has the op's constant inputs (static shapes included: GE folds them)
    as attributes."""
    if key.startswith('output'):
        index = int(key[6:])
        return list(op.outputs[index:index + 1])
    keys = sorted((k for k in entry if k.startswith('input')), key=lambda k: int(k[5:]))
    inputs = list(op.inputs)
    if len(keys) < len(inputs) and not any(entry[k].get('paramType') == 'dynamic'
                                           for k in keys):
        inputs = [t for t in inputs if not _static(t)]
    start = 0
    for position, other in enumerate(keys):
        count = 1
        if entry[other].get('paramType') == 'dynamic':
            count = len(inputs) - start - sum(1 for k in keys[position + 1:]
                                              if entry[k].get('paramType') == 'required')
        if other == key:
            return inputs[start:start + count]
        start += count
    return []


def _columns(entry):
    """[(key, [dtype per column], [format per column] or None)] of an entry's inputs/outputs."""
    found = []
    for key in sorted(k for k in entry if k.startswith(('input', 'output'))):
        dtypes = entry[key].get('dtype')
        if dtypes:
            formats = entry[key].get('format')
            found.append((key, dtypes.split(','), formats.split(',') if formats else None))
    return found


def _fits(entry, op, dtype):
    """Whether a column of ``entry`` computes ``op`` in ``dtype`` (see the module)."""
    columns = _columns(entry)
    if not columns:
        return None
    tensors = {key: _tensors(entry, key, op) for key, _, _ in columns}
    for column in range(len(columns[0][1])):
        if all(_column_fits(tensors[key], dtypes, formats, column, dtype)
               for key, dtypes, formats in columns):
            return True
    return False


def _column_fits(tensors, dtypes, formats, column, dtype):
    wanted = CANN_DTYPES.get(dtypes[column])
    fixed_fp32 = set(CANN_DTYPES.get(d) for d in dtypes) == {'fp32'}
    for tensor in tensors:
        if tensor.dtype.base_dtype.is_floating and wanted != dtype and not fixed_fp32:
            return False
        if formats and tensor.shape.ndims is not None:
            ranks = RANKS.get(formats[column])
            if ranks is not None and tensor.shape.ndims not in ranks:
                return False
    return True


def dtype_map(ops, soc, mode):
    """{op: Verdict} of the table ops among ``ops`` (a set of tf.Operations) on chip ``soc``
    (e.g. 'ascend910') under precision ``mode``; other ops pass dtypes through."""
    if mode not in MODES:
        raise ValueError('the check knows the precision modes {}, not {!r}'.format(MODES, mode))
    table = TABLES[soc]
    precision, verdicts = {}, {}
    order = {}
    for op in ops:
        if op.graph not in order:
            order[op.graph] = {o: i for i, o in enumerate(op.graph.get_operations())}
    for op in sorted(ops, key=lambda o: order[o.graph][o]):
        if is_float_status(op):
            continue
        floats = [precision.get(t) for t in op.inputs if t.dtype.base_dtype.is_floating]
        entries = cann_entries(op.type, table)
        if op.type in SOURCES:
            dtype = 'fp32'
        elif op.type in PASS_THROUGH or not entries:
            dtype = 'fp16' if 'fp16' in floats else 'fp32'
        else:
            reduce = entries[0][1].get('precision_reduce')
            if mode == 'must_keep_origin_dtype':
                dtype = 'fp32'
            elif mode == 'force_fp16':
                dtype = 'fp16' if any(_fits(e, op, 'fp16') is not False
                                      for _, e in entries) else 'fp32'
            elif reduce is not None:
                dtype = 'fp16' if reduce == 'true' else 'fp32'
            else:
                dtype = 'fp16' if 'fp16' in floats else 'fp32'
        for t in op.outputs:
            if t.dtype.base_dtype.is_floating:
                precision[t] = dtype
        if op.type in PASS_THROUGH or op.type in SOURCES:
            continue
        if not entries:
            verdicts[op] = Verdict(op, None, dtype, None, 'no table entry (a fusion pass or '
                                                              'GE rewrites it)')
            continue
        judged = [(name, entry, _fits(entry, op, dtype)) for name, entry in entries]
        name, entry, fits = next((j for j in judged if j[2]), judged[0])
        deferred = [flag for flag in ('dynamicFormat', 'needCheckSupport')
                    if entry.get(flag) == 'true']
        verdicts[op] = Verdict(op, name, dtype, fits, ', '.join(deferred))
    return verdicts


def problems(verdicts, where):
    """One line per op no table column fits."""
    return ['{}: {} ({}) computes in {}, but {} has no such column'.format(
        where, v.op.type, v.op.name, v.dtype, v.cann) for v in verdicts.values()
        if v.fits is False]


def summary(verdicts):
    """{op type: (dtype, count)} of fp16 and fp32 table ops, and the unproven op types with
    their counts."""
    by_type = collections.Counter((v.op.type, v.dtype) for v in verdicts.values())
    unproven = collections.Counter(v.op.type for v in verdicts.values() if v.unproven or
                                   v.fits is None)
    return by_type, unproven
