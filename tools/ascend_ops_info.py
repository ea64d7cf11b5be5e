"""CANN's AI Core op-info tables, cut to what test_ascend_graph.py's dtype and format check reads.

    python tools/ascend_ops_info.py OPS_INFO_DIR test/data/ascend/ops_info.json.gz

OPS_INFO_DIR holds ``aic-<soc>-ops-info.json`` (CANN 8.1.RC1,
``opp/built-in/op_impl/ai_core/tbe/config/<soc>/``). For each op: its inputs' and outputs' dtype
and format columns, its mixed-precision list (``precision_reduce``: true white, false black,
absent gray), and the flags that defer support to the op's Python (``dynamicFormat``,
``needCheckSupport``).
"""
import glob
import gzip
import json
import os
import sys

KEPT_FIELDS = ('name', 'dtype', 'format', 'paramType')
FLAGS = ('precision_reduce', 'dynamicFormat', 'needCheckSupport')


def trim(entry):
    """One op's entry with only the fields the check reads."""
    kept = {}
    for key, value in entry.items():
        if key.startswith(('input', 'output')) and isinstance(value, dict):
            kept[key] = {k: value[k] for k in KEPT_FIELDS if k in value}
        elif key in FLAGS:
            kept[key] = value.get('flag')
    return kept


def main(source, target):
    tables = {}
    for path in sorted(glob.glob(os.path.join(source, 'aic-*-ops-info.json'))):
        soc = os.path.basename(path)[len('aic-'):-len('-ops-info.json')]
        with open(path) as f:
            tables[soc] = {op: trim(entry) for op, entry in json.load(f).items()}
    if not tables:
        raise SystemExit('{}: no aic-<soc>-ops-info.json here'.format(source))
    data = {'source': 'CANN 8.1.RC1 ops-info (leideng/CANN-8.1.RC1 commit 551ed27c), cut by '
                      'tools/ascend_ops_info.py', 'tables': tables}
    with gzip.GzipFile(target, 'wb', mtime=0) as f:
        f.write(json.dumps(data, sort_keys=True, separators=(',', ':')).encode('utf-8'))
    print('wrote {}: {}'.format(target, ', '.join('{} ({} ops)'.format(k, len(v))
                                                   for k, v in tables.items())))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
