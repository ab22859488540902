import pytest
import torch

from pyg_llminit.errors import UserInputError
from pyg_llminit.evaluation import RankingEvaluator
from pyg_llminit.models import embedding_scores

faiss = pytest.importorskip('faiss')

from pyg_llminit.evaluation.retrieval import (approximate_top_items, exact_top_items,  # noqa: E402
                                   top_k_overlap)


def exact_top(user_emb, item_emb, k, exclude):
    scores = user_emb @ item_emb.t()
    scores[exclude[0], exclude[1]] = float('-inf')
    return scores.topk(k, dim=1).indices


def test_approximate_top_items_recover_exact_lists_and_respect_exclusions():
    gen = torch.Generator().manual_seed(0)
    user_emb, item_emb = torch.randn(200, 16, generator=gen), torch.randn(500, 16, generator=gen)
    exclude = torch.stack([torch.arange(200), torch.randint(500, (200,), generator=gen)])
    exact = exact_top(user_emb, item_emb, 10, exclude)
    # visiting every cell with fine quantisation is nearly exact
    close = approximate_top_items(user_emb, item_emb, 10, exclude, num_cells=8,
                                  num_cells_to_visit=8, sub_vectors=16)
    assert close.shape == (200, 10)
    assert top_k_overlap(close, exact) > 0.8
    assert not (close == exclude[1].view(-1, 1)).any()  # the excluded item never comes back
    coarse = approximate_top_items(user_emb, item_emb, 10, exclude, num_cells=64,
                                   num_cells_to_visit=1, sub_vectors=4)
    assert top_k_overlap(coarse, exact) < top_k_overlap(close, exact)


def test_top_k_overlap_by_hand():
    exact = torch.tensor([[1, 2, 3], [4, 5, 6]])
    approx = torch.tensor([[3, 9, 1], [-1, -1, -1]])
    assert top_k_overlap(approx, exact) == pytest.approx(2 / 6)


def test_evaluate_top_equals_evaluate_for_exact_lists():
    gen = torch.Generator().manual_seed(1)
    user_emb, item_emb = torch.randn(30, 8, generator=gen), torch.randn(40, 8, generator=gen)
    labels = torch.stack([torch.arange(30), torch.randint(40, (30,), generator=gen)])
    exclude = torch.stack([torch.arange(30), (labels[1] + 1) % 40])
    evaluator = RankingEvaluator(30, 40, labels, [exclude], k=(5, 10))
    want = evaluator.evaluate(embedding_scores(user_emb, item_emb))
    top = exact_top(user_emb, item_emb, 10, exclude)
    assert evaluator.evaluate_top(lambda users: top[users]) == pytest.approx(want)


def test_bad_sub_vectors():
    with pytest.raises(UserInputError, match='must divide the embedding size 10'):
        approximate_top_items(torch.randn(3, 10), torch.randn(300, 10), 2, sub_vectors=4)


def test_small_catalogues_are_ranked_exactly():
    gen = torch.Generator().manual_seed(2)
    user_emb, item_emb = torch.randn(50, 8, generator=gen), torch.randn(30, 8, generator=gen)
    exclude = torch.stack([torch.arange(50), torch.randint(30, (50,), generator=gen)])
    got = approximate_top_items(user_emb, item_emb, 5, exclude)  # 30 items < 256: exact
    assert torch.equal(got, exact_top(user_emb, item_emb, 5, exclude))
    # a user whose every item is excluded gets -1, never an excluded item
    everything = torch.stack([torch.zeros(30, dtype=torch.long), torch.arange(30)])
    assert (approximate_top_items(user_emb, item_emb, 5, everything)[0] == -1).all()
    # exact chunking over users gives the same lists
    assert torch.equal(exact_top_items(user_emb, item_emb, 5, exclude, batch_size=7), got)


def test_more_cells_than_items_and_bad_k():
    gen = torch.Generator().manual_seed(3)
    user_emb, item_emb = torch.randn(20, 8, generator=gen), torch.randn(300, 8, generator=gen)
    top = approximate_top_items(user_emb, item_emb, 5, num_cells=1000, num_cells_to_visit=1000,
                                sub_vectors=8)
    assert top.shape == (20, 5) and top.min() >= 0
    for k in (0, 301):
        with pytest.raises(UserInputError, match=f'k={k} must lie in'):
            approximate_top_items(user_emb, item_emb, k)
