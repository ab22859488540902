import subprocess
import sys

import pytest

from pyg_llminit.training.allocator import retain_freed_memory

# Ten two-layer propagations over a 40,000-node graph at d = 128: every product returns a
# fresh 20 MB buffer, the pattern of a training step. Prints the page faults they cause.
STEPS = '''
import resource, sys, torch
if sys.argv[1] == 'retain':
    from pyg_llminit.training.allocator import retain_freed_memory
    assert retain_freed_memory()
from pyg_llminit.models.propagation import symmetric_csr
from pyg_llminit.models.propagation import _csr_mm
torch.manual_seed(0)
n, nnz = 40000, 300000
row, col = torch.randint(n, (nnz,)), torch.randint(n, (nnz,))
adj = symmetric_csr(torch.cat([row, col]), torch.cat([col, row]), torch.rand(2 * nnz), n)
x = torch.randn(n, 128)
for _ in range(3):
    _csr_mm(adj, _csr_mm(adj, x))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    h = _csr_mm(adj, _csr_mm(adj, x)) + x
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def _page_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, '-c', STEPS, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc mallopt')
@pytest.mark.slow
def test_retained_memory_spares_the_page_faults_of_fresh_buffers():
    assert retain_freed_memory() and retain_freed_memory()  # idempotent
    default, retained = _page_faults('default'), _page_faults('retain')
    assert default > 30000  # 30 buffers of 5,000 pages each, mostly mapped afresh
    assert retained < default / 3
