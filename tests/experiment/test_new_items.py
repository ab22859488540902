import dataclasses
import json

import numpy as np
import pytest

from pyg_llminit.experiment.new_items import check_new_items, read_new_items
from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import load_run
from pyg_llminit.text import encode_items

NEW = 'item_id,title\nfresh1,Title number 3 deluxe\nfresh2,Something else\nfresh3,Title 9\n'


def test_new_items_are_ranked_from_their_text_alone(finished_run, tmp_path, capsys):
    from pyg_llminit.cli.main import main
    run_dir, _, cache = finished_run
    (tmp_path / 'new.csv').write_text(NEW)
    out = tmp_path / 'recs.json'
    main(['recommend', str(run_dir), '--all-users', '--new-items', str(tmp_path / 'new.csv'),
          '-k', '2', '--out', str(out), '--root', str(cache), '--device', 'cpu'])
    recs = json.loads(out.read_text())
    run = load_run(run_dir, root=str(cache))
    assert list(recs) == list(run.data['user'].ids)
    # an independent computation: ridge (alpha 1, intercept) by numpy's least squares on
    # the warm items' texts -> trained item embeddings, then dot products with users
    text = encode_items(run.train, progress=False).double().numpy()
    new = encode_items(read_new_items(str(tmp_path / 'new.csv')),
                       progress=False).double().numpy()
    users, items = (t.detach().double().numpy() for t in run.model(run.adj))
    warm = np.unique(run.train['user', 'rates', 'item'].edge_index[1].numpy())
    x = np.hstack([text[warm], np.ones((warm.size, 1))])
    penalty = np.eye(x.shape[1])
    penalty[-1, -1] = 0
    coef = np.linalg.solve(x.T @ x + penalty, x.T @ items[warm])
    scores = users @ (np.hstack([new, np.ones((3, 1))]) @ coef).T
    ids = ['fresh1', 'fresh2', 'fresh3']
    for u, user in enumerate(run.data['user'].ids):
        order = np.argsort(-scores[u])[:2]
        assert [r['item'] for r in recs[user]] == [ids[i] for i in order]
        assert [r['score'] for r in recs[user]] == pytest.approx(scores[u][order], abs=1e-5)
    main(['recommend', str(run_dir), '--user', 'user1', '--new-items',
          str(tmp_path / 'new.csv'), '--root', str(cache), '--device', 'cpu'])
    printed = capsys.readouterr().out
    assert 'Something else' in printed and printed.count('fresh') == 3  # k capped at 3


def test_recbole_item_files_are_read(tmp_path):
    path = tmp_path / 'new.item'
    path.write_text('item_id:token\tmovie_title:token_seq\tyear:token\n'
                    'm1\tToy Story\t1995\nm2\tHeat\t1995\n')
    data = read_new_items(str(path))
    assert data['item'].ids == ['m1', 'm2'] and data['item'].num_nodes == 2
    assert data['item'].title == ['Toy Story', 'Heat']


def test_runs_that_cannot_score_new_items_are_refused(finished_run, tmp_path):
    run_dir, _, cache = finished_run
    run = load_run(run_dir, root=str(cache))
    (tmp_path / 'new.csv').write_text(NEW)
    new = read_new_items(str(tmp_path / 'new.csv'))
    check_new_items(run, new, 'new.csv')  # fine
    external = run._replace(config=dataclasses.replace(
        run.config, init='variance', embedding_file='vectors.npz'))
    with pytest.raises(UserInputError, match='item vectors from vectors.npz, not from an '
                       'encoder'):
        check_new_items(external, new, 'new.csv')
    for blank in (None, ' '):  # no title field, or the '' a graph without texts holds
        data = run.data.clone()
        del data['item'].title
        if blank is not None:
            data['item'].title = [blank] * data['item'].num_nodes
        with pytest.raises(UserInputError, match='has no item text'):
            check_new_items(run._replace(data=data), new, 'new.csv')
