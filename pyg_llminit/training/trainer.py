"""One training loop for every backbone: BPR mini-batches over the training interactions
(full graph or sampled subgraphs), validation after every epoch, early stopping, test once
at the best validation epoch."""
import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Protocol

import torch
from torch_geometric.data import HeteroData
from tqdm.auto import tqdm

from ..datasets.graph import ITEM, USER
from ..console import Detail, progress_disabled
from ..errors import TrainingDiverged, UserInputError, first_line, invalid
from ..evaluation.protocol import evaluate_held_out, held_out_evaluator
from ..models.propagation import normalized_adjacency
from ..models.base import Recommender
from ..transforms.split import label_index, train_index
from .batches import FullGraphBatches, NeighborBatches, resolve_fanout
from .config import TrainConfig, resolve_device
from .distributed import (broadcast_flag, check_divides, mean_over_ranks, rank_and_world,
                          shard, wrap)
from .sampling import NegativeSampler
from .stopping import EarlyStopping

if TYPE_CHECKING:
    from ..coldstart.protocol import ColdItemProtocol


@dataclass
class EpochLog:
    epoch: int
    seconds: float
    loss: float
    val: Dict[str, float] = field(default_factory=dict)
    eval_seconds: float = 0.0


class RunWriter(Protocol):
    r"""Where a :class:`Trainer` records its progress (e.g. a
    :class:`~pyg_llminit.experiment.RunFolder`)."""
    def save_history(self, history: List[Dict]) -> None: ...

    def save_best(self, state: Dict[str, torch.Tensor]) -> None: ...

    def save_last(self, checkpoint: Dict[str, Any]) -> None: ...


#: The entries of a :meth:`Trainer.checkpoint` (a run's ``last.pt``).
CHECKPOINT_KEYS = ('epoch', 'model', 'optimizer', 'rng', 'cuda_rng', 'generator', 'stopping',
                   'history', 'best_val', 'seconds')


class Trainer:
    r"""Trains a :class:`~pyg_llminit.models.base.Recommender` on split graphs.

    Args:
        model (Recommender): The backbone (already initialised, e.g. by LLMInit).
        train_data, val_data, test_data (HeteroData): The output of a split transform.
        config (TrainConfig): Optimisation and evaluation settings.
        writer (RunWriter, optional): Receives the history after every epoch and the
            state dict of every new best validation epoch (rank 0 only under DDP).
        log (callable): Receives one line per epoch.
        protocol (ColdItemProtocol, optional): Validation and test on held-out items
            instead of the held-out interactions (a cold-item split); its items are
            never drawn as negatives either.

    Under ``torchrun`` (a process group initialised), every rank trains on its shard of
    the interactions with DDP; rank 0 validates, decides when to stop and writes.

    Attributes:
        model (Recommender): The backbone, on :attr:`device`.
        adj (NormalizedAdjacency): The normalised training adjacency.
        train_index (Tensor): Training ``(user, item)`` pairs ``[2, E]``.
        batches (FullGraphBatches or NeighborBatches): One epoch's batches, ``len()`` steps.
        val_evaluator, test_evaluator (RankingEvaluator): The held-out protocol's
            evaluators (see :func:`~pyg_llminit.evaluation.held_out_evaluator`); absent
            with a :obj:`protocol`, which validates and tests instead.
        history (List[EpochLog]): One entry per epoch of :meth:`fit`.
    """
    def __init__(self, model: Recommender, train_data: HeteroData, val_data: HeteroData,
                 test_data: HeteroData, config: TrainConfig,
                 writer: Optional[RunWriter] = None,
                 log: Callable[[str], None] = print,
                 protocol: Optional['ColdItemProtocol'] = None) -> None:
        self.rank, self.world = rank_and_world()
        self.config, self.log = config, log if self.rank == 0 else (lambda s: None)
        self.writer = writer if self.rank == 0 else None  # rank 0 writes, nobody else
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.loss_fn = model.loss if self.world == 1 else wrap(model, self.device)
        num_users, num_items = train_data[USER].num_nodes, train_data[ITEM].num_nodes
        self.train_index = train_index(train_data)
        if self.train_index.size(1) == 0:
            raise UserInputError('the training split has no interactions')
        self.adj = normalized_adjacency(self.train_index, num_users, num_items).to(self.device)
        self.protocol = protocol
        self.batches = self._batches(num_users, num_items)
        if protocol is None:
            val_index, test_index = label_index(val_data), label_index(test_data)
            if val_index.size(1) == 0 or test_index.size(1) == 0:
                raise UserInputError('the validation or test split is empty: too few '
                                     'interactions per user for this split')
            self.val_evaluator, self.test_evaluator = (
                held_out_evaluator(split, self.train_index, val_index, test_index,
                                   num_users, num_items, config.topk,
                                   config.eval_batch_size, config.mask_seen)
                for split in ('valid', 'test'))
        names = (self.val_evaluator if protocol is None else protocol).metric_names()
        if config.monitor not in names:
            raise invalid('monitor', f"'{config.monitor}' is not among the computed metrics "
                          f"({', '.join(names)})")
        self.history: List[EpochLog] = []
        self.optimizer: Optional[torch.optim.Optimizer] = None
        self.generator: Optional[torch.Generator] = None
        self.neg_generator: Optional[torch.Generator] = None

    def _batches(self, num_users: int, num_items: int):
        step_batch = check_divides(self.config.batch_size, self.world)
        sampler = NegativeSampler(self.train_index, num_items, self.config.negatives,
                                  None if self.protocol is None else
                                  self.protocol.negative_pool)
        if self.config.loader == 'full':
            return FullGraphBatches(self.adj, sampler, step_batch, self.model.needs_negatives,
                                    self.rank, self.world)
        layers = getattr(self.model, 'num_layers', None)  # MF has none: seeds only
        fanout = [] if layers is None else resolve_fanout(self.config.fanout, layers)
        seeds = self.train_index[:, shard(torch.arange(self.train_index.size(1)),
                                          self.rank, self.world)]
        return NeighborBatches(seeds, num_users, num_items, fanout, step_batch, sampler,
                               graph_index=self.train_index)

    def make_optimizer(self) -> torch.optim.Optimizer:
        r"""Adam, fused: one kernel for all parameters, several times faster than foreach on
        CPU. Dense on purpose, also for mini-batches: on a 3M-edge synthetic graph
        (batch 8192, fan-out 10,5) fused Adam over the whole table made a faster step than
        torch's SparseAdam over the subgraph's rows (benchmarks/SCALE.md)."""
        return torch.optim.Adam(self.model.parameters(), lr=self.config.lr, fused=True)

    def start(self) -> None:
        r"""A fresh optimizer, and this rank's randomness seeded from ``config.seed``:
        what :meth:`fit` does first (and :meth:`train_epoch`, if called before). The
        shuffling generator is the same on every rank (disjoint shards of one permutation);
        negatives come from it in one process and from a per-rank generator under DDP. The
        global RNG, which drives ``LinkNeighborLoader`` and SimGCL's noise, is seeded per
        rank."""
        if self.config.deterministic:  # opt-in, process-wide: the caller asked for it
            if self.device.type == 'cuda':  # cuBLAS needs a fixed workspace for it
                os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
            torch.use_deterministic_algorithms(True)
        self.optimizer = self.make_optimizer()
        seed = self.config.seed + 7919 * self.rank
        torch.manual_seed(seed)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.neg_generator = None if self.world == 1 else torch.Generator().manual_seed(seed)

    def train_epoch(self, epoch: int = 0, max_steps: Optional[int] = None) -> float:
        r"""One pass over the training interactions (or its first :obj:`max_steps`
        steps); returns the mean loss over all ranks."""
        if self.optimizer is None:
            self.start()
        self.model.train()
        total = torch.zeros((), device=self.device)
        count = 0
        steps = len(self.batches) if max_steps is None else min(max_steps, len(self.batches))
        batches = self.batches.epoch(self.model, self.generator, self.neg_generator)
        for step, (adj, user, pos, neg) in enumerate(tqdm(
                batches, total=steps, desc=f'epoch {epoch}', leave=False,
                disable=progress_disabled(), unit='batch')):
            if step >= steps:
                break
            adj = adj if adj is self.adj else adj.to(self.device)
            user, pos = user.to(self.device), pos.to(self.device)
            neg = neg.to(self.device) if neg is not None else None
            self.optimizer.zero_grad()
            loss, _ = self.loss_fn(adj, user, pos, neg)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * user.numel()
            count += user.numel()
        mean = float(total) / max(count, 1)
        return mean if self.world == 1 else mean_over_ranks(mean, self.device)

    @torch.no_grad()
    def validate(self) -> Dict[str, float]:
        r"""The validation metrics of the model as it is now."""
        self.model.eval()
        if self.protocol is not None:
            return self.protocol.validate(self.model(self.adj))
        return self.val_evaluator.evaluate(self.model.score_fn(self.adj), device=self.device)

    @torch.no_grad()
    def test(self) -> Dict:
        r"""Test metrics of the model as it is now, beside most-popular's, per user group
        and per user (see :func:`~pyg_llminit.evaluation.evaluate_held_out`)."""
        self.model.eval()
        if self.protocol is not None:
            return self.protocol.test(self.model(self.adj))
        return evaluate_held_out(self.test_evaluator, self.model.score_fn(self.adj), 'test',
                                 self.train_index, self.config.user_groups, self.device,
                                 per_user=True, item_groups=self.config.item_groups)

    def checkpoint(self, epoch: int, stopping: EarlyStopping, best_val: Dict[str, float],
                   seconds: float) -> Dict[str, Any]:
        r"""Everything :meth:`fit` needs to go on after :obj:`epoch` exactly as if it had
        never stopped (the keys :data:`CHECKPOINT_KEYS`): weights, optimizer, random-number
        states, early stopping, history."""
        return {'epoch': epoch, 'model': self.model.state_dict(),
                'optimizer': self.optimizer.state_dict(), 'rng': torch.get_rng_state(),
                'cuda_rng': (torch.cuda.get_rng_state_all() if torch.cuda.is_available()
                             else []),
                'generator': self.generator.get_state(), 'stopping': stopping.state_dict(),
                'history': [asdict(h) for h in self.history], 'best_val': best_val,
                'seconds': seconds}

    def _restore(self, checkpoint: Dict[str, Any], stopping: EarlyStopping) -> int:
        if self.world > 1:
            raise UserInputError('resuming a run is supported in one process only')
        try:  # a last.pt of another model or size, or edited, is the user's to fix
            self.model.load_state_dict(checkpoint['model'])
            self.optimizer.load_state_dict(checkpoint['optimizer'])
            torch.set_rng_state(checkpoint['rng'])
            if checkpoint['cuda_rng'] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(checkpoint['cuda_rng'])
            self.generator.set_state(checkpoint['generator'])
            stopping.load_state_dict(checkpoint['stopping'])
            self.history = [EpochLog(**h) for h in checkpoint['history']]
            return int(checkpoint['epoch'])
        except (KeyError, RuntimeError, TypeError, ValueError) as e:
            raise UserInputError('the checkpoint to resume does not fit the run of its '
                                 f'config.json: {first_line(e, lines=2)}') from None

    def fit(self, resume: Optional[Dict[str, Any]] = None) -> Dict:
        r"""Trains until :obj:`epochs` or early stopping; returns the results (best epoch,
        validation metrics at that epoch, :meth:`test` of its weights); ``{}`` on ranks
        other than 0.

        Args:
            resume (dict, optional): A :meth:`checkpoint` (the writer's ``last.pt``) with
                the best weights so far under ``'best_model'``: training goes on after its
                epoch as if it had never stopped.
        """
        cfg = self.config
        self.start()
        stopping = EarlyStopping(cfg.patience, cfg.warmup, cfg.epochs, cfg.stopping)
        best_state, best_val, done, seconds_before = None, {}, 0, 0.0
        if resume is not None:
            done = self._restore(resume, stopping)
            best_state, best_val = resume['best_model'], resume['best_val']
            seconds_before = float(resume['seconds'])
            self.log(Detail(f'resuming after epoch {done} (best so far: epoch '
                            f'{stopping.best_epoch}, val {cfg.monitor} '
                            f'{stopping.best_score:.4f})'))
        wall = time.perf_counter() - seconds_before
        stop = done > 0 and stopping.should_stop()
        for epoch in range(done + 1, 0 if stop else cfg.epochs + 1):
            t0 = time.perf_counter()
            loss = self.train_epoch(epoch)
            train_s = time.perf_counter() - t0
            if not math.isfinite(loss):  # every rank sees the same mean: all stop here
                raise TrainingDiverged(f'training diverged: the loss of epoch {epoch} is {loss} '
                                       '(try a lower lr); the best checkpoint so far is intact')
            if self.rank != 0:  # rank 0 validates and decides; the others follow
                if broadcast_flag(False, self.device):
                    break
                continue
            val = self.validate()
            total_s = time.perf_counter() - t0
            self.history.append(EpochLog(epoch, total_s, loss, val, total_s - train_s))
            score = val[cfg.monitor]
            stop = stopping.update(epoch, score)
            improved = stopping.improved
            if improved:
                best_val = val
                best_state = copy.deepcopy(self.model.state_dict())
            if self.writer is not None:  # before the epoch's line: it is on disk once shown
                if improved:
                    self.writer.save_best(best_state)
                self.writer.save_last(self.checkpoint(epoch, stopping, best_val,
                                                      time.perf_counter() - wall))
                self.writer.save_history([asdict(h) for h in self.history])
            self.log(Detail(f'epoch {epoch:3d} | train {train_s:5.1f}s | total {total_s:5.1f}s'
                            f' | loss {loss:.4f} | val {cfg.monitor} {score:.4f}'
                            f'{"  *" if improved else ""}'))
            if self.world > 1:
                broadcast_flag(stop, self.device)
            if stop:
                self.log(f'early stop: no better {cfg.monitor} for '
                         f'{epoch - max(stopping.best_epoch, cfg.warmup)} epochs (patience '
                         f'{cfg.patience}, {cfg.stopping} counting, after a warm-up of '
                         f'{cfg.warmup})')
                break
        seconds = time.perf_counter() - wall
        if self.rank != 0:
            return {}
        assert best_state is not None
        self.model.load_state_dict(best_state)
        test = self.test()
        warnings = stopping.warnings()
        for warning in warnings:
            self.log(f'warning: {warning}')
        return {
            'best_epoch': stopping.best_epoch,
            'epochs_run': len(self.history),
            'train_seconds': seconds,
            'seconds_per_epoch': seconds / len(self.history),
            'valid': best_val,
            **test,
            'warnings': warnings,
        }


__all__ = ['Trainer', 'EpochLog', 'RunWriter', 'TrainConfig']
