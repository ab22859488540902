"""Recommendations from a finished run folder: masking, CLI and bad input."""
import json

import pytest
import torch

from pyg_llminit.cli.main import main
from pyg_llminit.datasets import load_graph
from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.io import load_torch
from pyg_llminit.models import build_model
from pyg_llminit.evaluation.recommend import recommend
from pyg_llminit.experiment.loading import load_run


def test_recommend_matches_an_independent_ranking_and_hides_known_items(finished_run):
    out, graph, root = finished_run
    run = load_run(out, root=str(root))
    users = torch.tensor([0, 7, 29])
    seen = run.data[EDGE_TYPE].edge_index
    items, scores = recommend(run.model, run.adj, users, seen, k=5, batch_size=2)
    assert items.shape == scores.shape == (3, 5)
    # independent: the model's own forward pass, dense scores, known items dropped by hand
    model = build_model('ngcf', 30, 25, embedding_dim=8, num_layers=2)
    model.load_state_dict(load_torch(out / 'best.pt'))
    model.eval()
    with torch.no_grad():
        user_emb, item_emb = model(run.adj)
    for row, u in enumerate(users.tolist()):
        known = set(seen[1, seen[0] == u].tolist())
        ranked = [i for i in torch.argsort(user_emb[u] @ item_emb.t(), descending=True).tolist()
                  if i not in known]
        assert items[row].tolist() == ranked[:5]
        assert not known & set(items[row].tolist())
        assert scores[row].tolist() == pytest.approx(
            (user_emb[u] @ item_emb[items[row]].t()).tolist(), abs=1e-5)
    # a list longer than the unseen items ends in -1 / -inf
    items, scores = recommend(run.model, run.adj, users, seen, k=25)
    left = 25 - len(set(seen[1, seen[0] == 0].tolist()))
    assert (items[0, left:] == -1).all() and torch.isinf(scores[0, left:]).all()
    assert (items[0, :left] >= 0).all()


def test_recommend_command_prints_and_writes_json(finished_run, tmp_path, capsys):
    out, graph, root = finished_run
    recs = tmp_path / 'recs.json'
    main(['recommend', str(out), '--user', 'user3', '--user', 'user12', '-k', '4',
          '--root', str(root), '--device', 'cpu', '--out', str(recs)])
    text = capsys.readouterr().out
    assert 'user user3' in text and 'user user12' in text and 'Title number' in text
    lists = json.loads(recs.read_text())
    assert list(lists) == ['user3', 'user12'] and all(len(v) == 4 for v in lists.values())
    data = load_graph(str(graph), str(root))
    ids = list(data['item'].ids)
    u3 = list(data['user'].ids).index('user3')
    edges = data[EDGE_TYPE].edge_index
    known = {ids[i] for i in edges[1, edges[0] == u3].tolist()}
    assert not known & {r['item'] for r in lists['user3']}  # --exclude seen by default
    # every user, training items only excluded: what the test evaluation ranks
    main(['recommend', str(out), '--all-users', '--exclude', 'train', '-k', '3',
          '--root', str(root), '--device', 'cpu', '--out', str(recs)])
    lists = json.loads(recs.read_text())
    assert len(lists) == 30 and all(len(v) == 3 for v in lists.values())


@pytest.mark.parametrize('args, message', [
    (['--user', 'nobody'], "error: unknown user id 'nobody'"),
    (['--all-users'], 'error: --all-users needs --out'),
    ([], 'error: name users with --user'),
    (['--user', 'user1', '-k', '0'], 'error: -k must lie in 1..25'),
    (['--user', 'user1', '--out', '/proc/none/recs.json'], 'error: --out /proc/none'),
])
def test_recommend_bad_input_is_one_line_exit_2(finished_run, args, message, cli_error):
    out, graph, root = finished_run
    cli_error(['recommend', str(out), '--root', str(root), '--device', 'cpu', *args], message)


def test_recommend_needs_a_finished_run_folder(finished_run, tmp_path, capsys):
    out, graph, root = finished_run
    (tmp_path / 'half').mkdir()
    (tmp_path / 'half' / 'config.json').write_text((out / 'config.json').read_text())
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'config.json').write_text('{"graph": ')
    (broken / 'best.pt').write_bytes((out / 'best.pt').read_bytes())
    for folder, message, code in [(tmp_path / 'half', 'no best.pt', 2),  # not a run folder
                                  (broken, 'config.json: malformed', 3)]:  # a broken one
        with pytest.raises(SystemExit) as exc:
            main(['recommend', str(folder), '--user', 'user1', '--root', str(root)])
        assert exc.value.code == code
        assert message in capsys.readouterr().err
