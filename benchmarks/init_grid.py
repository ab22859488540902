"""Backbone x initialisation x seed grids on Amazon Beauty: a thin caller of
:func:`pyg_llminit.experiment.compare` (what ``pyg-llminit compare`` runs) with the
benchmarks' settings, and precomputed item embeddings.

Every grid is a comparison folder (``--out``, default ``benchmarks/results/compare/<name>``):
one ordinary run folder per (model, init, seed) under ``runs/``, reused when finished and
resumed from ``last.pt`` when interrupted, so the script can be stopped and started again;
then ``compare.md`` (test metrics mean +- std over seeds, gains, paired t-tests over users,
epochs and seconds to the baseline's best validation score, user groups), ``compare.json``
and the plots. Runs of another machine join a grid by copying their run folders into its
``runs/``. ``--doc FILE`` also rewrites the block of a write-up between
``<!-- compare:NAME -->`` and ``<!-- /compare:NAME -->`` with the comparison's test table.

The defaults are the package's: leave-one-out in time order (split seed 2020), d 128,
2 layers, Adam 1e-3, batch 2048, early stopping on validation NDCG@10 (patience 10 after a
warm-up of 30); ``--protocol paper`` is the LLMInit authors' RecBole setting. The item
texts are encoded once (``--encoder``, cached) or read from ``--embedding`` (written by
``--save-embedding``), so workers never load a language model. ``--jobs N`` trains N runs
at once in processes sharing the CPU threads.

Usage::

    python benchmarks/init_grid.py --inits none,random,uniform,variance --out \
        benchmarks/results/compare/beauty-lightgcn
    python benchmarks/init_grid.py --models sgl,sgcl --inits none,variance --jobs 2
    python benchmarks/init_grid.py --protocol paper --models lightgcn,sgcl
    python benchmarks/init_grid.py --device cuda --jobs 8 --embedding beauty_minilm.safetensors
"""
import argparse
import re
from pathlib import Path

from pyg_llminit.experiment import ExperimentConfig, apply_protocol, compare, prepare

RESULTS = Path(__file__).parent / 'results' / 'compare'


def grid_config(args: argparse.Namespace) -> ExperimentConfig:
    r"""The grid's shared settings: Beauty, the package's defaults, the flags' changes."""
    config = ExperimentConfig(graph=args.graph, encoder=args.encoder, init_scale=args.scale,
                              split_seed=2020)
    config = apply_protocol(config, args.protocol)
    changes = {k: v for k, v in (('epochs', args.epochs), ('batch_size', args.batch_size),
                                 ('patience', args.patience), ('warmup', args.warmup))
               if v is not None}
    import dataclasses
    return dataclasses.replace(config, train=dataclasses.replace(
        config.train, device=args.device, **changes))


def doc_block(name: str, out: Path) -> str:
    r"""The comparison's test-metrics and paired-test sections of ``compare.md``."""
    text = (out / 'compare.md').read_text()
    keep = re.split(r'\n(?=## )', text)
    sections = [s for s in keep if s.startswith(('## Test metrics', '## Paired test'))]
    return (f'<!-- compare:{name} -->\nFrom `{out.as_posix()}/compare.md`:\n\n'
            + '\n'.join(s.strip() + '\n' for s in sections) + f'<!-- /compare:{name} -->')


def write_doc(doc: Path, name: str, out: Path) -> None:
    from pyg_llminit.io import atomic_path
    text = doc.read_text()
    pattern = re.compile(rf'<!-- compare:{re.escape(name)} -->.*?<!-- /compare:'
                         rf'{re.escape(name)} -->', re.S)
    if not pattern.search(text):
        raise SystemExit(f'error: {doc} has no <!-- compare:{name} --> block')
    with atomic_path(doc) as tmp:
        tmp.write_text(pattern.sub(lambda m: doc_block(name, out), text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--graph', default='amazon')
    parser.add_argument('--models', default='lightgcn')
    parser.add_argument('--inits', default='none,random,uniform,variance')
    parser.add_argument('--seeds', default='2020,2021,2022')
    parser.add_argument('--protocol', default='default', choices=['default', 'paper'])
    parser.add_argument('--epochs', type=int)
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--patience', type=int)
    parser.add_argument('--warmup', type=int)
    parser.add_argument('--encoder', default='minilm',
                        help='text encoder preset; with --embedding, the one that made it')
    parser.add_argument('--embedding', help='item embeddings [I, d] (safetensors or .pt) '
                        'instead of encoding with --encoder')
    parser.add_argument('--save-embedding', help='write the encoded embeddings here and exit')
    parser.add_argument('--scale', default='none', help="--init-scale: none, xavier or a std")
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument('--out', help='comparison folder (default: results/compare/'
                        '<graph>-<models>[-paper])')
    parser.add_argument('--doc', help='also rewrite this write-up\'s block of the comparison')
    args = parser.parse_args()
    models, inits = args.models.split(','), args.inits.split(',')
    name = f'{args.graph}-{"-".join(models)}' + ('-paper' if args.protocol == 'paper' else '')
    out = Path(args.out) if args.out else RESULTS / name
    config = grid_config(args)
    embedding = None
    if args.embedding or args.save_embedding:
        from pyg_llminit.text import encode_items, load_embedding, save_embedding
        train = prepare(config, features=False).train
        if args.embedding:
            embedding = load_embedding(args.embedding, num_items=train['item'].num_nodes)
        else:
            save_embedding(args.save_embedding, encode_items(train, args.encoder))
            return
    compare(config, models, inits, [int(s) for s in args.seeds.split(',')], out,
            jobs=args.jobs, embedding=embedding)
    if args.doc:
        write_doc(Path(args.doc), out.name, out)


if __name__ == '__main__':
    main()
