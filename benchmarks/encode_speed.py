"""Item-text encoding throughput: the package's :class:`~pyg_llminit.text.TextEncoder`
against ``sentence-transformers``' own ``SentenceTransformer.encode`` on the same model,
texts, batch size, maximum length and device, in one process, for each text-model preset
(``--presets``; a decoder's GGUF is converted to safetensors once, and both load that copy).

The texts are the embedded Beauty graph's product titles (the first ``--items``, fewer
for the decoders: ``--decoder-items``). Each encoder loads once; then the two encode the
texts alternately, ``--repeats`` times each, and the best time counts (items/s). Both
must give the same vectors (the largest difference of a cosine similarity to 1 is
recorded). A GPU row is added per preset when a GPU is there. Needs ``pip install
sentence-transformers`` (not a dependency of the package). Writes
``benchmarks/results/encode_speed.json`` (or ``--out``) and prints a markdown table.

Usage::

    python benchmarks/encode_speed.py [--presets minilm,mpnet,smollm2] [--items 2000]
        [--decoder-items 256] [--repeats 3] [--threads 2]
"""
import argparse
import platform
import time
from pathlib import Path

import torch

from pyg_llminit.datasets.beauty import read_beauty_asset
from pyg_llminit.io import write_json
from pyg_llminit.text import resolve_encoder
from pyg_llminit.text.presets import PRESETS, package_folder

RESULTS = Path(__file__).parent / 'results'


def best_rate(encode, texts, repeats: int, device: str) -> float:
    r"""Items per second of the fastest of :obj:`repeats` calls."""
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        encode(texts)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def measure(preset: str, texts, device: str, repeats: int, batch_size: int,
            max_length: int) -> dict:
    from sentence_transformers import SentenceTransformer
    ours = resolve_encoder(preset, device=device, batch_size=batch_size,
                           max_length=max_length)
    folder = PRESETS[preset].locate(PRESETS[preset], package_folder(PRESETS[preset]))
    theirs = SentenceTransformer(str(folder), device=device)  # mean pooling, as ours
    theirs.max_seq_length = max_length
    if theirs.tokenizer.pad_token is None:  # a decoder: pad with its end token, as ours does
        theirs.tokenizer.pad_token = theirs.tokenizer.eos_token
    a = ours.encode(texts, progress=False)  # also loads the weights: not timed
    b = torch.as_tensor(theirs.encode(texts, batch_size=batch_size, convert_to_numpy=True))
    gap = float((1 - torch.nn.functional.cosine_similarity(a, b.float())).abs().max())
    rates = {'ours': [], 'sentence-transformers': []}
    for _ in range(repeats):  # alternated, so a change of machine load hits both
        rates['ours'].append(best_rate(lambda t: ours.encode(t, progress=False), texts, 1,
                                       device))
        rates['sentence-transformers'].append(best_rate(
            lambda t: theirs.encode(t, batch_size=batch_size, show_progress_bar=False),
            texts, 1, device))
    best = {name: max(values) for name, values in rates.items()}
    return {'preset': preset, 'model': PRESETS[preset].description, 'dim': ours.dim,
            'device': device, 'items': len(texts), 'items_per_second': best,
            'all_rates': rates, 'ratio_ours_over_theirs':
                best['ours'] / best['sentence-transformers'],
            'max_cosine_gap': gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--presets', default='minilm,mpnet,smollm2',
                        help='text-model presets, comma-separated')
    parser.add_argument('--items', type=int, default=2000)
    parser.add_argument('--decoder-items', type=int, default=256,
                        help='titles for the decoder presets (SmolLM2, Gemma: about 10x slower)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s own choice)')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--max-length', type=int, default=64)
    parser.add_argument('--out', default=str(RESULTS / 'encode_speed.json'))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    titles = [t for t in read_beauty_asset()['titles'] if str(t).strip()]
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    decoders = {'smollm2', 'gemma3-270m'}
    rows = [measure(preset, titles[:args.decoder_items if preset in decoders else args.items],
                    d, args.repeats, args.batch_size, args.max_length)
            for preset in args.presets.split(',') for d in devices]
    import sentence_transformers
    import transformers
    machine = (f'{platform.machine()}, {torch.get_num_threads()} CPU threads'
               + (f', {torch.cuda.get_device_name()}' if torch.cuda.is_available() else ''))
    write_json(args.out, {'presets': args.presets.split(','), 'machine': machine,
                          'batch_size': args.batch_size, 'max_length': args.max_length,
                          'torch': torch.__version__, 'transformers': transformers.__version__,
                          'sentence_transformers': sentence_transformers.__version__,
                          'rows': rows})
    print('| preset | device | items | ours (items/s) | sentence-transformers (items/s) | '
          'ratio | max cosine gap |\n| --- | --- | --- | --- | --- | --- | --- |')
    for r in rows:
        rate = r['items_per_second']
        print(f"| {r['preset']} | {r['device']} | {r['items']} | {rate['ours']:.0f} | "
              f"{rate['sentence-transformers']:.0f} | {r['ratio_ours_over_theirs']:.2f} | "
              f"{r['max_cosine_gap']:.1e} |")
    print(f'({machine}; written to {args.out})')


if __name__ == '__main__':
    main()
