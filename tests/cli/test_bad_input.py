"""The bad-input matrix: every user mistake through the real command line ends in one
``error:`` line naming the problem, exit code 2, no traceback, and no file changed or
half-written (a few cases run as a real subprocess)."""
import collections
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pyg_llminit.cli.main import main


def write_graph(folder: Path, rows: str, items: bool = True) -> Path:
    folder.mkdir()
    (folder / 'interactions.csv').write_text(rows)
    if items:
        (folder / 'items.csv').write_text('item,title\ni1,One\ni2,Two\ni3,Three\n')
    return folder


GOOD_ROWS = ''.join(f'u{u},i{i},{u * 10 + i}\n' for u in range(4) for i in range(1, 4))


@pytest.fixture
def ws(tmp_path, finished_run):
    r"""A workspace: a copy of a finished run, a good CSV graph, bad graphs and configs."""
    run, graph, _ = finished_run
    work = tmp_path / 'ws'
    work.mkdir()
    shutil.copytree(run, work / 'run')
    shutil.copytree(graph, work / 'graph')
    write_graph(work / 'nan_rating', 'user,item,rating\n' + 'u1,i1,nan\n')
    write_graph(work / 'inf_time', 'user,item,timestamp\n' + 'u1,i1,inf\n')
    write_graph(work / 'huge_time', 'user,item,timestamp\n' + 'u1,i1,1e30\n')
    write_graph(work / 'empty', 'user,item,timestamp\n')
    write_graph(work / 'no_item_column', 'user,product\nu1,i1\n')
    write_graph(work / 'bad_time', 'user,item,timestamp\nu1,i1,yesterday\n')
    (work / 'float_epochs.toml').write_text('epochs = 1.7\n')
    (work / 'string_epochs.toml').write_text('epochs = "ten"\n')
    (work / 'unknown.toml').write_text('epochz = 3\n')
    future = json.loads((run / 'config.json').read_text())  # a run of a later version
    future['train']['warp_factor'] = 9
    (work / 'future_config.json').write_text(json.dumps(future))
    (work / 'broken.toml').write_text('epochs = \n')
    (work / 'flag.toml').write_text('deterministic = "yes"\n')
    shutil.copytree(run, work / 'truncated')
    best = work / 'truncated' / 'best.pt'
    best.write_bytes(best.read_bytes()[:1000])
    shutil.copytree(run, work / 'emptied')
    (work / 'emptied' / 'best.pt').write_bytes(b'')
    (work / 'file').write_text('not a folder\n')
    (work / 'new_known.csv').write_text('item_id,title\nitem1,Again\nfresh,New\n')
    (work / 'new_empty.csv').write_text('item_id,title\nn1,\nn2, \n')
    (work / 'new_no_id.csv').write_text('id,title\nn1,One\n')
    (work / 'new_no_title.item').write_text('item_id:token\tprice:float\nn1\t3\n')
    (work / 'new_repeated.csv').write_text('item_id,title\nn1,One\nn2,Two\nn1,Again\n')
    shutil.copytree(run, work / 'junk')
    (work / 'junk' / 'best.pt').write_bytes(b'junk\n')  # the legacy unpickler's KeyError
    (work / 'garbage.pt').write_bytes(b'not a pickle')
    (work / 'constant.csv').write_text(''.join(f'item{i},0.5,0.5,0.5\n' for i in range(25)))
    (work / 'nan.csv').write_text(''.join(f'item{i},{"nan" if i == 3 else i},1\n'
                                          for i in range(25)))
    shutil.copytree(run, work / 'blank_config')
    (work / 'blank_config' / 'config.json').write_text('{}')
    shutil.copytree(run, work / 'foreign')
    (work / 'foreign' / 'results.json').write_text('{"a": 1}')
    for name, edit in (('dim_edited', {'embedding_dim': 16}), ('graph_int', {'graph': 123}),
                       ('seed_text', {'train': {'seed': 'abc'}})):
        shutil.copytree(run, work / name)
        config = json.loads((work / name / 'config.json').read_text())
        for key, value in edit.items():
            config[key] = {**config[key], **value} if isinstance(value, dict) else value
        (work / name / 'config.json').write_text(json.dumps(config))
    for name, last in (('planted', {'x': collections.OrderedDict(a=1), 'p': Path('/x')}),
                       ('foreign_last', {'weights': torch.zeros(2)})):
        shutil.copytree(run, work / name)  # an interrupted run with a last.pt not train's
        (work / name / 'results.json').unlink()
        torch.save(last, work / name / 'last.pt')
    write_graph(work / 'comma_inter', '', items=False)
    (work / 'comma_inter' / 'interactions.csv').unlink()
    (work / 'comma_inter' / 'comma_inter.inter').write_text('user_id:token,item_id:token\n'
                                                            'u1,i1\n')
    write_graph(work / 'huge_rating', 'user,item,rating\nu1,i1,5\nu1,i2,1e308\n')
    write_graph(work / 'newline_id', 'user,item\nu1,i1\n"u\n2",i1\n')
    write_graph(work / 'tab_id', 'user,item\nu1,i1\n"u\t2",i2\n')
    os.mkfifo(work / 'pipe.csv')
    os.mkfifo(work / 'pipe.toml')
    (work / 'badcache' / 'processed' / 'data.pt').mkdir(parents=True)
    (work / 'badcache' / 'processed' / 'data.pt' / 'mine').write_text('not a graph\n')
    shutil.copytree(run, work / 'top1')  # as if trained with --topk 1,2
    for name in ('results.json', 'history.json'):
        path = work / 'top1' / name
        path.write_text(path.read_text().replace('@10', '@1').replace('@20', '@2'))
    return work


# (id, argv with {ws} for the workspace and {out} for a fresh run folder, message start)
CASES = [
    # unknown names and malformed values
    ('unknown-graph', ['train', '--graph', 'nope'], "error: unknown graph 'nope'"),
    ('unknown-split', ['train', '--split', 'half'], "error: unknown split 'half'"),
    ('cold-ratio', ['train', '--split', 'cold-items:0.7'],
     'error: the cold-item ratio must lie in (0, 0.5], got 0.7'),
    ('cold-map', ['train', '--cold-map', 'knn'], "error: Invalid value for '--cold-map'"),
    ('choice', ['train', '--order', 'sideways'],
     "error: Invalid value for '--order': 'sideways' is not one of"),
    ('unknown-model', ['train', '--model', 'gpt'], "error: Invalid value for '--model'"),
    ('not-an-int', ['train', '--dim', 'wide'], "error: Invalid value for '--dim'"),
    ('unknown-flag', ['train', '--epoch', '3'], "error: No such option '--epoch'. Did you mean"),
    ('topk-text', ['train', '--topk', 'ten'], 'error: --topk takes comma-separated integers'),
    ('epochs-0', ['train', '--epochs', '0'], 'error: --epochs must be at least 1'),
    ('warmup-negative', ['train', '--warmup', '-1'], 'error: --warmup must be an integer'),
    ('lr-negative', ['train', '--lr', '-1'], 'error: --lr must be a positive finite number'),
    ('lr-inf', ['train', '--lr', 'inf'], 'error: --lr must be a positive finite number'),
    ('lr-nan', ['train', '--lr', 'nan'], 'error: --lr must be a positive finite number'),
    ('reg-inf', ['train', '--reg', 'inf'], 'error: --reg must be a finite number >= 0'),
    ('reg-nan', ['train', '--reg', 'nan'], 'error: --reg must be a finite number >= 0'),
    ('dim-0', ['train', '--dim', '0'], 'error: --dim must be an integer of at least 1'),
    ('layers-negative', ['train', '--layers', '-1'],
     'error: --layers must be an integer of at least 0'),
    ('init-scale', ['train', '--init-scale', 'huge', '--init', 'variance'],
     'error: --init-scale takes'),
    ('normalize', ['train', '--normalize', 'zscore', '--init', 'variance'],
     "error: Invalid value for '--normalize': 'zscore' is not one of 'none', 'minmax'"),
    ('normalize-constant', ['train', '--graph', '{ws}/graph', '--init', 'variance', '--dim',
                            '2', '--normalize', 'minmax', '--embedding', '{ws}/constant.csv',
                            '--out', '{out}'],
     'error: cannot min-max normalise the item embedding: all its values are equal (0.5)'),
    ('groups-order', ['train', '--user-groups', '10,5'],
     'error: --user-groups must be increasing positive'),
    ('groups-text', ['train', '--user-groups', 'few'],
     'error: --user-groups takes comma-separated integers'),
    ('device', ['train', '--device', 'cuda:7'] if not torch.cuda.is_available()
     else ['train', '--device', 'tpu'], 'error: --device '),
    ('encoder-device-absent', ['train', '--init', 'variance', '--encoder-device', 'cuda:7'],
     'error: --encoder-device cuda:7: ' + ('no CUDA GPU is available on this machine'
                                           if not torch.cuda.is_available() else
                                           'this machine has')),
    ('encoder-device-unknown', ['compare', '--encoder-device', 'tpu', '--out', '{out}'],
     "error: --encoder-device 'tpu' is not a device"),
    ('embed-encoder-device', ['embed', '--graph', '{ws}/graph', '--encoder-device', 'gpu'],
     "error: --encoder-device 'gpu' is not a device"),
    ('model-option', ['train', '--model', 'sgl', '--model-option', 'ssl_tau=-1'],
     'error: ssl_tau must be positive'),
    ('model-option-unknown', ['train', '--model', 'mf', '--model-option', 'ssl_tau=0.2'],
     "error: model 'mf' has no option 'ssl_tau'"),
    # checked before data is loaded or texts encoded
    ('dim-wider-than-encoder', ['train', '--init', 'variance', '--dim', '999'],
     'error: --dim must be in [1, 384]'),
    ('topk-beyond-items', ['train', '--graph', '{ws}/graph', '--topk', '1000', '--monitor',
                           'ndcg@1000'],
     'error: --topk cut-offs must lie in 1..25'),
    ('monitor', ['train', '--graph', '{ws}/graph', '--monitor', 'bogus@10', '--dim', '8'],
     "error: --monitor 'bogus@10' is not among the computed metrics"),
    # data files
    ('nan-rating', ['train', '--graph', '{ws}/nan_rating'],
     "error: {ws}/nan_rating/interactions.csv: line 2: column 'rating': 'nan' is not a finite"),
    ('inf-timestamp', ['train', '--graph', '{ws}/inf_time'],
     "error: {ws}/inf_time/interactions.csv: line 2: column 'timestamp': 'inf' is not a"),
    ('timestamp-overflow', ['train', '--graph', '{ws}/huge_time'],
     "error: {ws}/huge_time/interactions.csv: line 2: column 'timestamp': '1e30' is out of"),
    ('timestamp-text', ['train', '--graph', '{ws}/bad_time'],
     "error: {ws}/bad_time/interactions.csv: line 2: column 'timestamp': cannot parse"),
    ('empty-graph', ['train', '--graph', '{ws}/empty'],
     'error: {ws}/empty/interactions.csv: no interactions'),
    ('missing-column', ['train', '--graph', '{ws}/no_item_column'],
     "error: {ws}/no_item_column/interactions.csv: missing column 'item_id'"),
    ('k-core-on-embedded', ['train', '--graph', 'amazon', '--k-core', '10'],
     'error: --k-core 10 does not apply to the embedded Beauty graph'),
    ('min-rating-on-embedded', ['train', '--graph', 'amazon', '--min-rating', '4'],
     'error: --min-rating does not apply to the embedded Beauty graph'),
    # config files
    ('config-float-for-int', ['train', '--config', '{ws}/float_epochs.toml'],
     'error: config file {ws}/float_epochs.toml: epochs must be an integer, got 1.7'),
    ('config-string-for-int', ['train', '--config', '{ws}/string_epochs.toml'],
     "error: config file {ws}/string_epochs.toml: epochs must be an integer, got 'ten'"),
    ('config-string-for-flag', ['train', '--config', '{ws}/flag.toml'],
     'error: config file {ws}/flag.toml: deterministic must be true or false'),
    ('config-unknown', ['train', '--config', '{ws}/unknown.toml'],
     "error: config file {ws}/unknown.toml: unknown option 'epochz'"),
    ('config-broken', ['train', '--config', '{ws}/broken.toml'], 'error: config file'),
    ('config-of-another-version', ['train', '--config', '{ws}/future_config.json'],
     "error: config file {ws}/future_config.json: unknown setting 'warp_factor' (a run of "
     'another pyg-llminit version?'),
    ('config-missing', ['train', '--config', '{ws}/none.toml'],
     'error: cannot read config file {ws}/none.toml'),
    # run folders and outputs
    ('out-holds-files', ['train', '--graph', '{ws}/graph', '--out', '{ws}/run'],
     'error: --out {ws}/run already holds'),
    ('out-under-a-file', ['train', '--out', '{ws}/file/run'], 'error: --out'),
    ('resume-finished', ['train', '--resume', '{ws}/run'],
     'error: {ws}/run: the run is finished'),
    ('resume-with-options', ['train', '--resume', '{ws}/run', '--epochs', '3'],
     'error: --resume continues a run with its own config.json: drop --epochs'),
    ('evaluate-not-a-run', ['evaluate', '{ws}/graph'], 'error: {ws}/graph: no config.json'),
    ('evaluate-truncated-best', ['evaluate', '{ws}/truncated'],
     'error: {ws}/truncated/best.pt: cannot read it, truncated or not a checkpoint'),
    ('evaluate-empty-best', ['evaluate', '{ws}/emptied'],
     'error: {ws}/emptied/best.pt: cannot read it, truncated or not a checkpoint'),
    ('evaluate-blank-config', ['evaluate', '{ws}/blank_config'],
     "error: {ws}/blank_config/config.json: malformed (no 'graph')"),
    ('evaluate-junk-best', ['evaluate', '{ws}/junk'],
     'error: {ws}/junk/best.pt: cannot read it, truncated or not a checkpoint'),
    ('embedding-not-a-pickle', ['train', '--graph', '{ws}/graph', '--init', 'variance',
                                '--dim', '8', '--embedding', '{ws}/garbage.pt'],
     'error: cannot read embedding file {ws}/garbage.pt'),
    ('report-foreign-results', ['report', '{ws}/foreign', '--out', '{out}'],
     'error: {ws}/foreign: its results or history file is not one that train writes'),
    ('report-other-metrics', ['report', '{ws}/run', '{ws}/top1', '--out', '{out}'],
     'error: run top1 has no validation ndcg@10 in every epoch'),
    ('report-out-in-run', ['report', '{ws}/run', '--out', '{ws}/run/report'],
     'error: --out {ws}/run/report lies in the run folder {ws}/run'),
    ('evaluate-out-run-file', ['evaluate', '{ws}/run', '--out', '{ws}/run/results.json'],
     'error: --out {ws}/run/results.json lies in the run folder'),
    ('evaluate-out-folder', ['evaluate', '{ws}/run', '--out', '{ws}/run'],
     'error: --out {ws}/run is a folder'),
    ('recommend-out-run-file', ['recommend', '{ws}/run', '--user', 'user1', '--out',
                                '{ws}/run/history.json'],
     'error: --out {ws}/run/history.json lies in the run folder'),
    ('new-items-known-ids', ['recommend', '{ws}/run', '--user', 'user1', '--new-items',
                             '{ws}/new_known.csv'],
     'error: {ws}/new_known.csv: 1 item id(s) already in the graph (item1)'),
    ('new-items-empty-texts', ['recommend', '{ws}/run', '--user', 'user1', '--new-items',
                               '{ws}/new_empty.csv'],
     'error: {ws}/new_empty.csv: every item text is empty'),
    ('new-items-no-id', ['recommend', '{ws}/run', '--user', 'user1', '--new-items',
                         '{ws}/new_no_id.csv'],
     "error: {ws}/new_no_id.csv: missing column 'item_id'"),
    ('new-items-no-text', ['recommend', '{ws}/run', '--user', 'user1', '--new-items',
                           '{ws}/new_no_title.item'],
     "error: {ws}/new_no_title.item: missing column 'title'"),
    ('new-items-repeated-id', ['recommend', '{ws}/run', '--user', 'user1', '--new-items',
                               '{ws}/new_repeated.csv'],
     "error: {ws}/new_repeated.csv: line 4: item id 'n1' repeats line 2"),
    ('recommend-unknown-user', ['recommend', '{ws}/run', '--user', 'nobody'],
     "error: unknown user id 'nobody'"),
    ('evaluate-bad-topk', ['evaluate', '{ws}/run', '--topk', '0'],
     'error: --topk values must be positive'),
    # comparisons
    ('compare-one-arm', ['compare', '--inits', 'variance', '--out', '{out}'],
     'error: --inits a comparison needs at least two arms'),
    ('compare-seeds', ['compare', '--seeds', '1,1', '--out', '{out}'],
     'error: --seeds lists a seed twice'),
    # found before spec.json commits the folder, not in the arm that needs it
    ('compare-monitor', ['compare', '--graph', '{ws}/graph', '--topk', '10', '--monitor',
                         'ndcg@5', '--out', '{out}'],
     "error: --monitor 'ndcg@5' is not among the computed metrics"),
    ('compare-nan-embedding', ['compare', '--graph', '{ws}/graph', '--embedding',
                               '{ws}/nan.csv', '--dim', '2', '--out', '{out}'],
     'error: --embedding file {ws}/nan.csv'),
    ('compare-pca-dim', ['compare', '--graph', '{ws}/graph', '--inits', 'none,pca', '--dim',
                         '30', '--out', '{out}'],
     "error: strategy 'pca' needs dim <= number of items (25), got 30"),
    ('stats-unknown-graph', ['stats', '--graph', 'nope'], "error: unknown graph 'nope'"),
    # checked before any data is loaded
    ('seed-huge', ['train', '--seed', str(2 ** 70)], 'error: --seed must lie in 0..4294967295'),
    ('seed-negative', ['train', '--seed', '-1'], 'error: --seed must lie in 0..4294967295'),
    ('split-seed-huge', ['train', '--split-seed', str(2 ** 64)],
     'error: --split-seed must lie in 0..4294967295'),
    ('device-meta', ['train', '--device', 'meta'],
     "error: --device 'meta': training and encoding run on 'cpu' or 'cuda' devices"),
    ('device-mps', ['train', '--device', 'mps'],
     "error: --device 'mps': training and encoding run on 'cpu' or 'cuda' devices"),
    ('split-nan', ['train', '--split', 'nan,0.1,0.1'],
     'error: ratio split needs three fractions train,val,test with train > 0 and none'),
    ('split-inf', ['train', '--split', '0.8,inf,0.1'],
     'error: ratio split needs three fractions'),
    ('popular-ratio-2', ['train', '--init', 'variance', '--popular-ratio', '2'],
     'error: --popular-ratio must be in (0, 1], got 2'),
    ('popular-ratio-0', ['train', '--init', 'variance', '--popular-ratio', '0'],
     'error: --popular-ratio must be in (0, 1], got 0'),
    ('config-pipe', ['train', '--config', '{ws}/pipe.toml'],
     'error: cannot read config file {ws}/pipe.toml: not a regular file'),
    ('config-folder', ['train', '--config', '{ws}/graph'],
     "error: Invalid value for '--config': File '{ws}/graph' is a directory"),
    ('root-is-a-file', ['train', '--root', '{ws}/file'], 'error: --root {ws}/file: not a folder'),
    # checked once the graph is loaded, before a table is allocated or a text encoded
    ('dim-beyond-memory', ['train', '--graph', '{ws}/graph', '--init', 'none', '--dim',
                           str(10 ** 12)],
     'error: --dim 1000000000000 is too wide: training 55 users and items'),
    ('processed-graph-a-folder', ['train', '--graph', 'amazon', '--root', '{ws}/badcache'],
     'error: {ws}/badcache/processed/data.pt: a folder where the processed graph file'),
    # data files
    ('rating-beyond-float32', ['train', '--graph', '{ws}/huge_rating'],
     "error: {ws}/huge_rating/interactions.csv: line 3: column 'rating': '1e308' is out of "
     'the 32-bit float range'),
    ('id-with-newline', ['train', '--graph', '{ws}/newline_id'],
     "error: {ws}/newline_id/interactions.csv: line 4: user id 'u\\n2' holds a control"),
    ('id-with-tab', ['train', '--graph', '{ws}/tab_id'],
     "error: {ws}/tab_id/interactions.csv: line 3: user id 'u\\t2' holds a control"),
    ('inter-with-commas', ['train', '--graph', '{ws}/comma_inter'],
     'error: {ws}/comma_inter/comma_inter.inter: RecBole atomic files are tab-separated'),
    ('graph-a-pipe', ['train', '--graph', '{ws}/pipe.csv'],
     'error: {ws}/pipe.csv: not a regular file or folder (a pipe or a device?)'),
    # run folders written by hand or by something else
    ('resume-planted-last', ['train', '--resume', '{ws}/planted'],
     'error: {ws}/planted/last.pt: cannot read it (UnpicklingError); the run cannot be'),
    ('resume-foreign-last', ['train', '--resume', '{ws}/foreign_last'],
     "error: {ws}/foreign_last/last.pt: not a checkpoint of train (no 'epoch')"),
    ('evaluate-config-other-dim', ['evaluate', '{ws}/dim_edited'],
     'error: {ws}/dim_edited/best.pt does not fit the model of its config.json'),
    ('evaluate-config-graph-int', ['evaluate', '{ws}/graph_int'],
     'error: {ws}/graph_int/config.json: malformed (graph must be a string, got 123)'),
    ('evaluate-config-seed-text', ['evaluate', '{ws}/seed_text'],
     "error: {ws}/seed_text/config.json: malformed (seed must be an integer, got 'abc')"),
    ('resume-config-graph-int', ['train', '--resume', '{ws}/graph_int'],
     'error: {ws}/graph_int/config.json: malformed (graph must be a string'),
    # outputs
    ('evaluate-out-unwritable', ['evaluate', '{ws}/run', '--out', '/proc/x.json'],
     'error: --out /proc/x.json: cannot write there'),
    ('export-out-a-file', ['export', '{ws}/run', '--out', '{ws}/file'],
     'error: --out {ws}/file is a file: export writes a folder'),
]
#: The cases whose data cannot be used (exit 3) and whose folder cannot be written (exit 5);
#: every other case is a usage error (exit 2).
DATA_ERRORS = {
    'compare-nan-embedding', 'embedding-not-a-pickle', 'empty-graph', 'evaluate-blank-config',
    'evaluate-config-graph-int', 'evaluate-config-other-dim', 'evaluate-config-seed-text',
    'evaluate-empty-best', 'evaluate-junk-best', 'evaluate-truncated-best', 'id-with-newline',
    'id-with-tab', 'inf-timestamp', 'inter-with-commas', 'missing-column', 'nan-rating',
    'new-items-empty-texts', 'new-items-known-ids', 'new-items-no-id', 'new-items-no-text',
    'new-items-repeated-id', 'processed-graph-a-folder', 'rating-beyond-float32',
    'resume-config-graph-int', 'resume-foreign-last', 'resume-planted-last',
    'timestamp-overflow', 'timestamp-text'}
IO_ERRORS = {'evaluate-out-unwritable', 'out-under-a-file'}
#: Cases also run as a real process, to see exactly what a user sees.
IN_SUBPROCESS = {'config-float-for-int', 'device', 'evaluate-truncated-best', 'choice'}


def fill(values, ws):
    return [v.replace('{ws}', str(ws)).replace('{out}', str(ws.parent / 'new'))
            for v in values]


@pytest.mark.parametrize('case, argv, message', CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_error_line_its_exit_code_and_changes_nothing(case, argv, message, ws,
                                                                       capsys, snapshot):
    args, message = fill(argv, ws), fill([message], ws)[0]
    if args[0] == 'train' and '--out' not in args and '--resume' not in args:
        args += ['--out', str(ws.parent / 'new')]
    if args[0] in ('train', 'compare', 'stats', 'evaluate', 'recommend') and \
            '--root' not in args:
        args += ['--root', str(ws.parent / 'cache')]
    before = snapshot(ws)
    if case in IN_SUBPROCESS:
        result = subprocess.run([sys.executable, '-m', 'pyg_llminit', *args],
                                capture_output=True, text=True, timeout=300)
        code, err = result.returncode, result.stderr.strip()
    else:
        with pytest.raises(SystemExit) as exc:
            main(args)
        code, err = exc.value.code, capsys.readouterr().err.strip()
    assert code == (3 if case in DATA_ERRORS else 5 if case in IO_ERRORS else 2), err
    assert err.startswith(message), err
    assert '\n' not in err and 'Traceback' not in err, err
    assert snapshot(ws) == before  # nothing changed in the workspace
    assert not (ws.parent / 'new').exists()  # no run folder left behind
    half = [p for p in ws.parent.rglob('*') if p.name.endswith(('.tmp', '.part'))]
    assert half == []  # nothing half-written, not even in the cache


@pytest.mark.parametrize('graph', ['nope', '{ws}/empty', '{ws}/no_item_column'])
def test_an_overwrite_that_fails_before_training_keeps_the_earlier_run(ws, capsys, graph,
                                                                       snapshot):
    r"""``--overwrite`` replaces an earlier run only once the new one is ready to train: a
    misspelt or empty graph leaves every file of the earlier run byte-identical."""
    before = snapshot(ws / 'run')
    with pytest.raises(SystemExit) as exc:
        main(['train', '--graph', graph.format(ws=ws), '--out', str(ws / 'run'),
              '--overwrite', '--root', str(ws.parent / 'cache')])
    assert exc.value.code == (2 if graph == 'nope' else 3)  # a usage / a data error
    assert capsys.readouterr().err.startswith('error: ')
    assert snapshot(ws / 'run') == before


def test_there_are_at_least_a_hundred_cases():
    assert len(CASES) >= 100 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize('code,reason', [(errno.ENOSPC, 'No space left on device'),
                                         (errno.EROFS, 'Read-only file system')])
def test_a_full_disk_while_writing_is_one_line_and_leaves_complete_files(ws, tmp_path,
                                                                         monkeypatch, capsys,
                                                                         code, reason):
    r"""A full disk, or a folder turned read-only, simulated at the third checkpoint
    write (a real read-only folder cannot be made for root, who runs CI): one line, exit 5,
    and the run folder holds only complete files (the failed write's temporary file is
    gone)."""
    import pyg_llminit.io as io
    calls = []
    original = io.torch.save

    def save(obj, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            with open(path, 'wb') as f:
                f.write(b'half')
            raise OSError(code, reason, str(path))
        return original(obj, path, *args, **kwargs)

    monkeypatch.setattr(io.torch, 'save', save)
    out = tmp_path / 'full'
    with pytest.raises(SystemExit) as exc:
        main(['train', '--graph', str(ws / 'graph'), '--dim', '8', '--epochs', '3',
              '--batch-size', '16', '--device', 'cpu', '--root', str(tmp_path / 'cache'),
              '--out', str(out)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 5 and '\n' not in err
    assert err.startswith('error: cannot write ') and reason in err
    assert not [p for p in out.iterdir() if p.name.startswith('.')]
    torch.load(out / 'best.pt', weights_only=True)  # what was written is complete


def test_a_diverged_training_is_one_line_naming_the_epoch(ws, tmp_path, capsys):
    out = tmp_path / 'diverged'
    with pytest.raises(SystemExit) as exc:
        main(['train', '--graph', str(ws / 'graph'), '--dim', '8', '--epochs', '3',
              '--batch-size', '16', '--lr', '1e38', '--device', 'cpu',
              '--root', str(tmp_path / 'cache'), '--out', str(out)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 4 and '\n' not in err
    assert err.startswith('error: training diverged: the loss of epoch 1 is ')
    # what was written before is complete; no checkpoint of a diverged epoch exists
    assert sorted(p.name for p in out.iterdir()) == [
        'config.json', 'console.log', 'provenance.json']


def test_a_cache_home_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / 'home').write_text('not a folder\n')
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path / 'home'))
    with pytest.raises(SystemExit) as exc:
        main(['train', '--graph', 'amazon', '--init', 'none', '--out', str(tmp_path / 'r')])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and '\n' not in err
    assert err == f'error: PYG_LLMINIT_HOME {tmp_path / "home"}: not a folder'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['home']


def test_a_folder_named_like_a_built_in_graph_is_pointed_out(tmp_path, monkeypatch):
    r"""``--graph amazon`` means the built-in graph even where ./amazon exists; the run says
    how to read the folder instead."""
    from pyg_llminit.experiment import ExperimentConfig, prepare
    monkeypatch.chdir(tmp_path)
    lines = []
    prepare(ExperimentConfig(graph='amazon'), str(tmp_path / 'cache'), lines.append)
    assert not any(line.startswith('note:') for line in lines)
    (tmp_path / 'amazon').mkdir()
    lines.clear()
    prepare(ExperimentConfig(graph='amazon'), str(tmp_path / 'cache'), lines.append)
    assert 'note: amazon is also a file or folder here; --graph ./amazon reads it (the name ' \
        'alone means the built-in graph)' in lines
