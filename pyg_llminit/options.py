"""Values of command-line options shared by the ``pyg-llminit`` commands, parsed into what
the package takes; a malformed value is a :class:`~pyg_llminit.errors.UserInputError`."""
from typing import List, Optional, Tuple

from .errors import UserInputError

GRAPH_HELP = ("Graph: 'amazon' (embedded Amazon Beauty 2014 5-core), 'toys-and-games', "
              "'tools-and-home-improvement', 'office-products', 'amazon-2014:<Category>', "
              "'ml-100k', 'ml-1m', or a path to RecBole atomic files / a CSV folder.")


def parse_ints(option: str, value: str) -> List[int]:
    try:
        return [int(v) for v in value.split(',')]
    except ValueError:
        raise UserInputError(f"{option} takes comma-separated integers, got '{value}'") from None


def parse_topk(value: str) -> List[int]:
    ks = sorted(set(parse_ints('--topk', value)))
    if not ks or ks[0] < 1:
        raise UserInputError(f'--topk values must be positive, got {value}')
    return ks


def parse_fanout(value: Optional[str]) -> Optional[Tuple[int, ...]]:
    return None if value is None else tuple(parse_ints('--fanout', value))


def parse_user_groups(value: str) -> Optional[Tuple[int, ...]]:
    return None if value == 'none' else tuple(parse_ints('--user-groups', value))
