"""Log lines, the CSV history across a resume, the loss curve and the progress bar."""
import io

from PIL import Image

from tflib import images, logs


def test_log_line_is_parseable():
    line = logs.log_line(100, 2000, {'loss_d': -1.5, 'loss_g': 0.25}, 0.8512, 75.23, 3723)
    assert line == ('step: 100/2000, loss_d: -1.5000, loss_g: 0.2500, sec/step: 0.851, '
                    'fps: 75.2, eta: 1:02:03')


def test_history_resumes_and_plots(tmp_path):
    path = str(tmp_path / 'log.csv')
    history = logs.History(path)
    for step in (10, 20, 30):
        history.add(step, {'loss_d': -step, 'loss_g': step / 10.})
    resumed = logs.History(path, resume_step=20)
    assert [r['step'] for r in resumed.rows] == ['10', '20']
    resumed.add(30, {'loss_d': 1., 'loss_g': 2., 'wasserstein': 3.})
    assert [r['step'] for r in logs.History(path, resume_step=10 ** 9).rows] == \
        ['10', '20', '30']
    resumed.plot(str(tmp_path / 'loss.png'))
    assert Image.open(str(tmp_path / 'loss.png')).size == (600, 350)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = logs.Progress(200, 100, stream=stream)
        progress.update(150)
    assert '150/200' in terminal.getvalue() and 'ETA' in terminal.getvalue()
    assert pipe.getvalue() == ''


def test_grid_layout():
    tiles = images.to_uint8(-1 + 2 * (images.np.arange(6)[:, None, None, None] / 5.) *
                            images.np.ones((6, 2, 3, 1)))
    grid = images.grid(tiles)
    assert grid.shape == (4, 9, 1)          # 2 rows x 3 columns
    assert grid[0, 3, 0] == tiles[1, 0, 0, 0] and grid[2, 0, 0] == tiles[3, 0, 0, 0]
    assert tiles.min() == 0 and tiles.max() == 255
    big = images.grid(tiles, min_size=5)  # 2x3 tiles enlarged 3 times
    assert big.shape == (12, 27, 1)
    assert (big[6:9, 0:9, 0] == tiles[3, 0, 0, 0]).all()
