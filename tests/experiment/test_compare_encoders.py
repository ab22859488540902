"""compare --encoders: each LLMInit arm once per text model, the comparison's own model
keeping the plain arm names, so a finished one-model comparison is extended, not redone."""
import json

import pytest

from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import ExperimentConfig, compare
from pyg_llminit.experiment.plan import Arm, encoder_label, plan_arms
from pyg_llminit.training import TrainConfig


def test_an_arms_text_model_is_part_of_its_name_and_folder(tmp_path):
    arm = Arm('lightgcn', 'random-distinct', 'gemma3-270m')
    assert arm.name == 'lightgcn/random-distinct@gemma3-270m'
    assert arm.folder(7) == 'lightgcn-random-distinct@gemma3-270m-seed7'
    assert Arm.of_folder(arm.folder(7)) == (arm, 7)
    assert Arm.of_folder('lightgcn-variance-seed2020') == (Arm('lightgcn', 'variance'), 2020)
    assert encoder_label('sentence-transformers/all-mpnet-base-v2') == \
        'sentence-transformers--all-mpnet-base-v2'
    (tmp_path / 'my model').mkdir()
    assert encoder_label(str(tmp_path / 'my model')) == 'my--model'


def test_the_plan_trains_each_llminit_arm_once_per_text_model():
    arms, baseline_of = plan_arms(['lightgcn', 'sgl'], ['none', 'variance'], None,
                                  ['minilm', 'smollm2'], 'minilm')
    assert arms == [Arm('lightgcn', 'none'), Arm('lightgcn', 'variance'),
                    Arm('lightgcn', 'variance', 'smollm2'), Arm('sgl', 'none'),
                    Arm('sgl', 'variance'), Arm('sgl', 'variance', 'smollm2')]
    assert baseline_of[Arm('sgl', 'variance', 'smollm2')] == Arm('sgl', 'none')
    arms, baseline_of = plan_arms(['lightgcn'], ['none', 'variance'],
                                  'lightgcn/variance@smollm2', ['minilm', 'smollm2'], 'minilm')
    assert set(baseline_of.values()) == {Arm('lightgcn', 'variance', 'smollm2')}
    with pytest.raises(UserInputError, match='lists a text model twice'):
        plan_arms(['lightgcn'], ['none', 'variance'], None, ['minilm', 'minilm'], 'minilm')
    # without --encoders: the one-model plan, names unchanged
    assert plan_arms(['lightgcn'], ['none', 'variance'])[0] == [
        Arm('lightgcn', 'none'), Arm('lightgcn', 'variance')]


def test_a_comparison_is_extended_with_a_second_text_model(csv_graph, make_tiny_bert,
                                                           tmp_path):
    first, second = make_tiny_bert(tmp_path / 'bert-a'), make_tiny_bert(tmp_path / 'bert-b',
                                                                         seed=1)
    base = ExperimentConfig(graph=str(csv_graph), embedding_dim=8, encoder=str(first),
                            train=TrainConfig(epochs=3, warmup=0, patience=3, batch_size=16,
                                              device='cpu'))
    out, root, lines = tmp_path / 'cmp', str(tmp_path / 'cache'), []
    compare(base, ['lightgcn'], ['none', 'variance'], [1], out, root=root,
            log=lines.append)
    before = {p.name: (p / 'results.json').read_text() for p in (out / 'runs').iterdir()
              if p.is_dir()}
    assert sorted(before) == ['lightgcn-none-seed1', 'lightgcn-variance-seed1']
    lines.clear()
    summary = compare(base, ['lightgcn'], ['none', 'variance'], [1], out, root=root,
                      log=lines.append, encoders=[str(first), str(second)])
    assert any('2 runs finished before, 1 to train' in line for line in lines), lines
    runs = {p.name: p for p in (out / 'runs').iterdir() if p.is_dir()}
    assert sorted(runs) == ['lightgcn-none-seed1', 'lightgcn-variance-seed1',
                            'lightgcn-variance@bert-b-seed1']
    for name, text in before.items():  # reused as they were
        assert (runs[name] / 'results.json').read_text() == text
    new = json.loads((runs['lightgcn-variance@bert-b-seed1'] / 'config.json').read_text())
    assert new['encoder'] == str(second) and new['init'] == 'variance'
    vectors = {json.loads((runs[n] / 'provenance.json').read_text())['text_vectors']['sha256']
               for n in ('lightgcn-variance-seed1', 'lightgcn-variance@bert-b-seed1')}
    assert len(vectors) == 2  # each arm started from its own model's vectors
    arms = summary['arms']
    assert arms[f'lightgcn/variance@{second}']['encoder'] == str(second)
    assert arms['lightgcn/variance']['encoder'] == str(first)
    assert arms['lightgcn/none']['encoder'] is None
    assert arms[f'lightgcn/variance@{second}']['baseline'] == 'lightgcn/none'
    with pytest.raises(UserInputError, match='item vectors are given'):
        compare(base, ['lightgcn'], ['none', 'variance'], [1], tmp_path / 'other',
                root=root, log=lines.append, encoders=[str(first), str(second)],
                embedding=__import__('torch').zeros(25, 32))
