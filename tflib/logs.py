"""Training logs: the ModelZoo-style line, a CSV history, the loss-curve PNG, a progress bar."""
import csv
import io
import os
import sys
import time

from tflib import files


def format_duration(seconds):
    seconds = int(max(seconds, 0))
    return '{}:{:02d}:{:02d}'.format(seconds // 3600, seconds // 60 % 60, seconds % 60)


def log_line(step, total, values, sec_per_step, fps, eta):
    """``step: 100/2000, loss_d: -1.2345, ..., sec/step: 0.851, fps: 75.2, eta: 0:26:56``:
    ``key: value`` pairs that test/*.sh parse with grep."""
    parts = ['step: {}/{}'.format(step, total)]
    parts += ['{}: {:.4f}'.format(k, float(v)) for k, v in values.items()]
    parts += ['sec/step: {:.3f}'.format(sec_per_step), 'fps: {:.1f}'.format(fps),
              'eta: {}'.format(format_duration(eta))]
    return ', '.join(parts)


class History(object):
    """Logged values per step in ``log.csv``; on resume, rows past the resumed step go."""

    def __init__(self, path, resume_step=None):
        self.path, self.rows = path, []
        if resume_step is not None and os.path.exists(path):
            with open(path) as f:
                self.rows = [row for row in csv.DictReader(f) if int(row['step']) <= resume_step]

    def add(self, step, values):
        self.rows.append(dict(values, step=step))
        columns = ['step'] + sorted({k for row in self.rows for k in row} - {'step'})
        text = io.StringIO()
        writer = csv.DictWriter(text, columns, restval='')
        writer.writeheader()
        writer.writerows(self.rows)
        files.write_atomic(self.path, lambda f: f.write(text.getvalue().encode('utf-8')))

    def plot(self, png_path, keys=('loss_d', 'loss_g', 'wasserstein')):
        """Loss curves against generator steps, written atomically as PNG."""
        import matplotlib
        matplotlib.use('Agg')
        from matplotlib import pyplot
        figure, axes = pyplot.subplots(figsize=(6, 3.5), dpi=100)
        steps = [int(row['step']) for row in self.rows]
        for key in keys:
            values = [float(row[key]) if row.get(key, '') != '' else float('nan')
                      for row in self.rows]
            axes.plot(steps, values, label=key, linewidth=1)
        axes.set_xlabel('generator step')
        axes.grid(alpha=0.3)
        axes.legend(loc='best', fontsize='small')
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format='png')
        pyplot.close(figure)
        files.write_atomic(png_path, lambda f: f.write(buffer.getvalue()))


class Progress(object):
    """A one-line progress bar with ETA on a terminal's stderr; silent elsewhere."""

    def __init__(self, total, start, stream=sys.stderr):
        self.total, self.start_step, self.stream = total, start, stream
        self.start_time = time.time()
        self.enabled = hasattr(stream, 'isatty') and stream.isatty()

    def eta(self, step):
        done = step - self.start_step
        elapsed = time.time() - self.start_time
        return elapsed / done * (self.total - step) if done > 0 else 0.

    def update(self, step):
        if not self.enabled:
            return
        fraction = step / float(max(self.total, 1))
        bar = '#' * int(30 * fraction)
        self.stream.write('\r[{:<30}] {:5.1f}% {}/{} ETA {} '.format(
            bar, 100 * fraction, step, self.total, format_duration(self.eta(step))))
        self.stream.flush()

    def clear(self):
        if self.enabled:
            self.stream.write('\r' + ' ' * 79 + '\r')
            self.stream.flush()
