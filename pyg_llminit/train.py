"""One training loop for every backbone: BPR mini-batches over the training interactions,
full-graph propagation per step, validation after every epoch, early stopping, test once."""
import copy
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch_geometric.data import HeteroData
from tqdm.auto import tqdm

from .allocator import retain_freed_memory
from .datasets.graph import ITEM, USER
from .errors import UserInputError
from .evaluate import RankingEvaluator, check_group_edges, degree_groups, popularity_scores
from .io import save_torch, write_json
from .models.base import Recommender
from .models.propagation import normalized_adjacency
from .distributed import (broadcast_flag, check_divides, mean_over_ranks, rank_and_world,
                          shard, wrap)
from .sampling import NegativeSampler
from .split import label_index, train_index


@dataclass
class TrainConfig:
    r"""Optimisation and evaluation settings (defaults: LightGCN on Beauty as in LLMInit,
    arXiv 2503.01814, with batch 2048)."""
    epochs: int = 300
    batch_size: int = 2048
    lr: float = 1e-3
    patience: int = 10
    monitor: str = 'ndcg@10'
    topk: Tuple[int, ...] = (10, 20)
    seed: int = 2020
    eval_batch_size: int = 1024
    device: str = 'cpu'
    loader: str = 'full'
    fanout: Optional[Tuple[int, ...]] = None
    user_groups: Optional[Tuple[int, ...]] = (5, 10, 20)

    def __post_init__(self) -> None:
        for name in ('epochs', 'batch_size', 'eval_batch_size'):
            if getattr(self, name) < 1:
                raise UserInputError(f'--{name.replace("_", "-")} must be at least 1')
        if not self.lr > 0:
            raise UserInputError(f'--lr must be positive, got {self.lr}')
        if self.patience < 1:
            raise UserInputError('--patience must be at least 1')
        if self.user_groups is not None:
            check_group_edges(self.user_groups)
        if self.loader not in ('full', 'neighbor'):
            raise UserInputError(f"--loader must be 'full' or 'neighbor', got '{self.loader}'")


def resolve_device(name: str) -> torch.device:
    r"""``'auto'`` picks CUDA when present; asking for an absent CUDA is a user error."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserInputError(f"unknown device '{name}'") from None
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise UserInputError(f"--device {name}: no CUDA GPU is available on this machine")
    return device


@dataclass
class EpochLog:
    epoch: int
    seconds: float
    loss: float
    val: Dict[str, float] = field(default_factory=dict)
    eval_seconds: float = 0.0


class Trainer:
    r"""Trains a :class:`~pyg_llminit.models.base.Recommender` on split graphs.

    Args:
        model (Recommender): The backbone (already initialised, e.g. by LLMInit).
        train_data, val_data, test_data (HeteroData): The output of a split transform.
        config (TrainConfig): Optimisation and evaluation settings.
        out_dir (Path, optional): Run folder: ``history.json`` (rewritten after every
            epoch), ``best.pt`` (state dict of the best validation epoch) and
            ``results.json``, each written atomically.
        log (callable): Receives one line per epoch.
    """
    def __init__(self, model: Recommender, train_data: HeteroData, val_data: HeteroData,
                 test_data: HeteroData, config: TrainConfig, out_dir: Optional[Path] = None,
                 log: Callable[[str], None] = print) -> None:
        retain_freed_memory()  # no page faults for every step's fresh [N, d] buffers
        self.rank, self.world = rank_and_world()
        self.config, self.log = config, log if self.rank == 0 else (lambda s: None)
        self.out_dir = out_dir if self.rank == 0 else None  # rank 0 writes, nobody else
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.step_batch = check_divides(config.batch_size, self.world)
        self.loss_fn = model.loss if self.world == 1 else wrap(model, self.device)
        num_users, num_items = train_data[USER].num_nodes, train_data[ITEM].num_nodes
        self.train_index = train_index(train_data)
        if self.train_index.size(1) == 0:
            raise UserInputError('the training split has no interactions')
        self.adj = normalized_adjacency(self.train_index, num_users, num_items).to(self.device)
        self.sampler = NegativeSampler(self.train_index, num_items)
        self.batches = None
        if config.loader == 'neighbor':
            from .minibatch import NeighborBatches, parse_fanout
            layers = getattr(model, 'num_layers', None)  # MF has none: seeds only
            fanout = [] if layers is None else parse_fanout(config.fanout, layers)
            seeds = self.train_index[:, shard(torch.arange(self.train_index.size(1)),
                                              self.rank, self.world)]
            self.batches = NeighborBatches(seeds, num_users, num_items, fanout,
                                           self.step_batch, self.sampler,
                                           graph_index=self.train_index)
        val_index, test_index = label_index(val_data), label_index(test_data)
        if val_index.size(1) == 0 or test_index.size(1) == 0:
            raise UserInputError('the validation or test split is empty: too few '
                                 'interactions per user for this split')
        evaluator = lambda labels, exclude: RankingEvaluator(  # noqa: E731
            num_users, num_items, labels, exclude, k=config.topk,
            batch_size=config.eval_batch_size)
        self.val_eval = evaluator(val_index, [self.train_index])
        self.test_eval = evaluator(test_index, [self.train_index, val_index])
        if config.monitor not in self.val_eval.metric_names():
            raise UserInputError(f"--monitor {config.monitor} is not among the computed "
                                 f"metrics ({', '.join(self.val_eval.metric_names())})")
        # test metrics also per group of users by training interactions (sparse users are
        # where LLMInit is said to help most)
        self.user_groups = (degree_groups(self.train_index, num_users, config.user_groups)
                            if config.user_groups else None)
        self.history: List[EpochLog] = []

    def make_optimizer(self) -> torch.optim.Optimizer:
        r"""Adam, fused: one kernel for all parameters, several times faster than foreach on
        CPU. Dense on purpose, also for mini-batches: on a 3M-edge synthetic graph
        (batch 8192, fan-out 10,5) a step took 1.05 s with fused Adam over the whole table
        and 1.6 s with torch's SparseAdam over the subgraph's rows (0.56 s in its step)."""
        return torch.optim.Adam(self.model.parameters(), lr=self.config.lr, fused=True)

    def full_graph_batches(self, generator: torch.Generator,
                           neg_generator: torch.Generator):
        r"""``(adj, user, pos, neg)`` over a random permutation of the training pairs (this
        rank's shard of it), all propagating over the full adjacency."""
        perm = torch.randperm(self.train_index.size(1), generator=generator)
        perm = shard(perm, self.rank, self.world) if self.world > 1 else perm
        for start in range(0, perm.numel(), self.step_batch):
            user, pos = self.train_index[:, perm[start:start + self.step_batch]]
            neg = (self.sampler.sample(user, neg_generator) if self.model.needs_negatives
                   else None)
            yield self.adj, user, pos, neg

    def train_epoch(self, optimizer: torch.optim.Optimizer, generator: torch.Generator,
                    epoch: int, neg_generator: Optional[torch.Generator] = None,
                    max_steps: Optional[int] = None) -> float:
        r"""One pass over the training interactions; returns the mean loss (over all ranks).
        :obj:`generator` shuffles (the same on every rank); :obj:`neg_generator` draws
        negatives (by default the same generator, as in a single process);
        :obj:`max_steps` cuts the epoch short (benchmarks)."""
        self.model.train()
        total = torch.zeros((), device=self.device)
        count = 0
        if self.batches is None:  # sampled subgraphs draw their own per-batch views
            self.model.prepare_epoch(self.adj, generator)
        batches = (self.batches if self.batches is not None else
                   self.full_graph_batches(generator, neg_generator or generator))
        num = len(self.batches) if self.batches is not None else \
            -(-(self.train_index.size(1) // self.world) // self.step_batch)
        self.steps = 0
        for adj, user, pos, neg in tqdm(batches, total=num, desc=f'epoch {epoch}',
                                        leave=False, disable=None, unit='batch'):
            if max_steps is not None and self.steps >= max_steps:
                break
            self.steps += 1
            if adj is not self.adj:
                adj = adj.to(self.device)
            user, pos = user.to(self.device), pos.to(self.device)
            neg = neg.to(self.device) if neg is not None else None
            optimizer.zero_grad()
            loss, _ = self.loss_fn(adj, user, pos, neg)
            loss.backward()
            optimizer.step()
            total += loss.detach() * user.numel()
            count += user.numel()
        mean = float(total) / max(count, 1)
        return mean if self.world == 1 else mean_over_ranks(mean, self.device)

    @torch.no_grad()
    def evaluate(self, evaluator: RankingEvaluator) -> Dict[str, float]:
        self.model.eval()
        return evaluator.evaluate(self.model.score_fn(self.adj), device=self.device)

    def seed_generators(self) -> Tuple[torch.Generator, Optional[torch.Generator]]:
        r"""Seeds this rank's randomness from ``config.seed``; returns the shuffling generator
        (the same on every rank: disjoint shards of one permutation) and the negatives'
        generator (``None`` in one process: the shuffling one serves). The global RNG, which
        drives ``LinkNeighborLoader``'s sampling and negatives and SimGCL's noise, is seeded
        per rank, so ranks do not draw the same negatives for their different seeds."""
        seed = self.config.seed + 7919 * self.rank
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(self.config.seed)
        return generator, None if self.world == 1 else torch.Generator().manual_seed(seed)

    def fit(self) -> Dict:
        r"""Trains until :obj:`epochs` or early stopping; returns the results dict (best
        epoch, validation and test metrics at that epoch, most-popular test metrics)."""
        cfg = self.config
        generator, neg_generator = self.seed_generators()
        optimizer = self.make_optimizer()
        best_score, best_epoch, best_state, best_val = -1.0, 0, None, {}
        wall = time.perf_counter()
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            loss = self.train_epoch(optimizer, generator, epoch, neg_generator)
            train_s = time.perf_counter() - t0
            if self.rank != 0:  # rank 0 validates and decides; the others follow
                if broadcast_flag(False, self.device):
                    break
                continue
            val = self.evaluate(self.val_eval)
            total_s = time.perf_counter() - t0
            log = EpochLog(epoch, total_s, loss, val, eval_seconds=total_s - train_s)
            self.history.append(log)
            score = val[cfg.monitor]
            improved = score > best_score
            if improved:
                best_score, best_epoch, best_val = score, epoch, val
                best_state = copy.deepcopy(self.model.state_dict())
                if self.out_dir is not None:
                    save_torch(self.out_dir / 'best.pt', best_state)
            self.log(f'epoch {epoch:3d} | train {train_s:5.1f}s | total {log.seconds:5.1f}s | '
                     f'loss {loss:.4f} | val {cfg.monitor} {score:.4f}'
                     f'{"  *" if improved else ""}')
            if self.out_dir is not None:
                write_json(self.out_dir / 'history.json', [asdict(h) for h in self.history])
            stop = epoch - best_epoch >= cfg.patience
            if self.world > 1:
                broadcast_flag(stop, self.device)
            if stop:
                self.log(f'early stop: no better {cfg.monitor} for {cfg.patience} epochs')
                break
        seconds = time.perf_counter() - wall
        if self.rank != 0:
            return {}
        assert best_state is not None
        self.model.load_state_dict(best_state)
        self.model.eval()
        test, by_degree = self.test_eval.evaluate_groups(
            self.model.score_fn(self.adj), *(self.user_groups or (None, ())),
            device=self.device)
        popular = self.test_eval.evaluate(
            popularity_scores(self.train_index, self.test_eval.num_items))
        return {
            'best_epoch': best_epoch,
            'epochs_run': len(self.history),
            'train_seconds': seconds,
            'seconds_per_epoch': seconds / len(self.history),
            'valid': best_val,
            'test': test,
            'test_most_popular': popular,
            **({'test_by_user_degree': by_degree} if self.user_groups else {}),
        }
