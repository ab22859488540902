"""Early stopping on a validation metric that an early dip cannot fool.

A randomly initialised LightGCN's validation curve can rise for an epoch or two, dip for a
dozen epochs and then climb for hundreds. Patience counted from epoch 1 stops such a run in
the dip: on a 2014 Amazon category (4.9k users) patience 10 stopped every random-init
baseline at epoch 12 with its best epoch at 2 (test Recall@10 0.012), where patience 50
trained it to epoch ~250 (0.035), and the SimGCL baselines on Beauty stopped the same way
(``benchmarks/BACKBONES.md``). Two rules keep such a run going:

* patience only starts counting after a warm-up: a run stops once ``patience`` epochs have
  passed without a better score *and* after ``warmup`` epochs, so never before epoch
  ``warmup + patience``;
* a curve that is climbing back does not stop: when the best score is older than the
  last two patience windows, the run goes on while the best of the last ``patience``
  epochs beats the best of the ``patience`` epochs before them.

Where the best epoch is recent, the rule is plain patience: a run that keeps improving is
unaffected (LightGCN on Beauty: best epoch 101, stopped at 111 with or without them).

Patience is counted in one of three ways (``counting``): ``'strict'``, a new best must beat
the old one and the run stops at the ``patience``-th epoch without one; ``'recbole'``, as
RecBole's ``early_stopping`` (which the LLMInit authors ran): a tie counts as a new best
(the later epoch's weights are kept) and the run stops at the ``patience + 1``-th epoch
without one; ``'smoothed'``, for small validation sets: patience counts from the best of
the curve's moving average over ``patience`` epochs, so that one lucky epoch on a
noisy but rising curve cannot stop the run (on MovieLens-100K, 943 validation users, the
epoch-to-epoch noise of NDCG@10 equals about ten epochs of progress, and ``'strict'``
stopped runs at epochs 49-179 of curves still rising). With every counting the weights
kept are those of the best raw score.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..errors import invalid

from ..catalog import COUNTINGS  # how patience is counted (see the module's docstring)


@dataclass
class EarlyStopping:
    r"""Tracks the best validation score and says when to stop.

    Args:
        patience (int): Epochs without a better score before stopping.
        warmup (int): Epochs before patience starts counting: the earliest stop is at epoch
            ``warmup + patience``. (default: :obj:`30`)
        max_epochs (int, optional): The epoch cap, to tell a run that hit it while still
            improving.
        counting (str): ``'strict'``, ``'recbole'`` or ``'smoothed'`` (see the module's
            docstring).
            (default: :obj:`'strict'`)

    Example:
        >>> stopping = EarlyStopping(patience=10, warmup=30)
        >>> for epoch, score in enumerate(curve, start=1):
        ...     if stopping.update(epoch, score):
        ...         break
    """
    patience: int = 10
    warmup: int = 30
    max_epochs: Optional[int] = None
    counting: str = 'strict'
    best_score: float = float('-inf')
    best_epoch: int = 0
    last_epoch: int = 0
    scores: List[float] = field(default_factory=list, repr=False)
    best_smoothed: float = float('-inf')
    best_smoothed_epoch: int = 0

    def __post_init__(self) -> None:
        if self.counting not in COUNTINGS:
            raise invalid('stopping', f"must be one of {', '.join(COUNTINGS)}, got "
                          f"'{self.counting}'")

    def update(self, epoch: int, score: float) -> bool:
        r"""Records :obj:`score` of :obj:`epoch`; returns whether training should stop."""
        self.last_epoch = epoch
        self.scores.append(score)
        if score > self.best_score or (self.counting == 'recbole' and
                                       score == self.best_score):
            self.best_score, self.best_epoch = score, epoch
        window = self.scores[-max(1, self.patience):]
        smoothed = sum(window) / len(window)
        if smoothed > self.best_smoothed:
            self.best_smoothed, self.best_smoothed_epoch = smoothed, epoch
        return self.should_stop()

    @property
    def improved(self) -> bool:
        r"""Whether the last recorded epoch set a new best."""
        return self.best_epoch == self.last_epoch and self.last_epoch > 0

    def should_stop(self) -> bool:
        best = self.best_smoothed_epoch if self.counting == 'smoothed' else self.best_epoch
        waited = self.last_epoch - max(best, self.warmup)
        if waited < self.patience + (self.counting == 'recbole'):
            return False
        return not self.climbing()

    def climbing(self) -> bool:
        r"""Whether the best of the last ``patience`` scores beats the best of the
        ``patience`` scores before them."""
        p = self.patience
        if len(self.scores) < 2 * p:
            return False
        return max(self.scores[-p:]) > max(self.scores[-2 * p:-p])

    def warnings(self) -> List[str]:
        r"""What makes the best epoch suspect: it lies in the first 10% of the epochs run
        (a curve that peaked at once and never recovered, or that was cut short), or the
        run hit the epoch cap while still improving (within the last ``patience`` epochs).
        """
        out = []
        if self.last_epoch >= 10 and self.best_epoch <= 0.1 * self.last_epoch:
            out.append(f'best epoch {self.best_epoch} lies in the first 10% of the '
                       f'{self.last_epoch} epochs run: the validation curve peaked early '
                       'and never recovered; check it before trusting a comparison')
        if (self.max_epochs is not None and self.last_epoch >= self.max_epochs
                and self.last_epoch - self.best_epoch < self.patience):
            out.append(f'stopped at the epoch cap ({self.max_epochs}) while still improving '
                       f'(best epoch {self.best_epoch}): more epochs may score higher')
        return out

    def state_dict(self) -> Dict[str, object]:
        r"""What :meth:`load_state_dict` needs to go on where this left off."""
        return {'best_epoch': self.best_epoch, 'best_score': self.best_score,
                'last_epoch': self.last_epoch, 'scores': list(self.scores),
                'best_smoothed': self.best_smoothed,
                'best_smoothed_epoch': self.best_smoothed_epoch}

    def load_state_dict(self, state: Dict[str, object]) -> None:
        self.best_epoch, self.best_score = int(state['best_epoch']), float(state['best_score'])
        self.last_epoch, self.scores = int(state['last_epoch']), list(state['scores'])
        # checkpoints written before the smoothed counting existed lack these two
        self.best_smoothed = float(state.get('best_smoothed', float('-inf')))
        self.best_smoothed_epoch = int(state.get('best_smoothed_epoch', 0))


__all__ = ['EarlyStopping', 'COUNTINGS']
