"""The run-level services between the models and the programs: settings resolved once
(settings), the training data (data), the training loop and its hooks (loop, hooks, training),
generators rebuilt and sampled from checkpoints, .pb and .onnx (generators), scoring (scoring),
export (export) and what runs report (reports).

Layers, each importing only those below it: tflib (no model, no file format) <- datasets,
models, configs <- zoo <- gan_train.py, gan_eval.py, freeze_graph.py, modelarts_entry_acc.py,
bench/, tools/; no program imports another.
"""
