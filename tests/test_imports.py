"""The package's import graph, read with ast (imports inside functions and under
TYPE_CHECKING count too): no cycles between modules, and no module imports from a package
that comes later in the method's order."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / 'pyg_llminit'
#: The method's order: a module may import from its own package and the ones before it.
LAYERS = [('errors', 'console', 'io', 'catalog', 'devices'), ('datasets', ), ('text', ),
          ('transforms', ), ('models', ), ('evaluation', ), ('coldstart', ), ('training', ),
          ('experiment', ), ('cli', '__main__')]


def modules():
    r"""``{dotted name: path}`` of every module (a package by its ``__init__``)."""
    out = {}
    for path in PACKAGE.rglob('*.py'):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts.pop()
        out['.'.join(parts)] = path
    return out


def import_graph():
    r"""``{module: set of modules it imports}`` within the package."""
    mods = modules()
    graph = {}
    for name, path in mods.items():
        package = name if path.name == '__init__.py' else name.rpartition('.')[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split('.')[:len(package.split('.')) - node.level + 1] \
                    if node.level else []
                module = '.'.join(base + ([node.module] if node.module else []))
                found = [f'{module}.{a.name}' for a in node.names]
            else:
                continue
            for target in found:  # the longest prefix that is a module
                while target and target not in mods:
                    target = target.rpartition('.')[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph):
    r"""The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def layer(module):
    top = module.split('.')[1] if '.' in module else None
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    return None  # the package's own __init__ (its version only)


def test_the_checker_finds_a_cycle_and_resolves_relative_imports():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]
    graph = import_graph()
    assert 'pyg_llminit.models.base' in graph['pyg_llminit.models.lightgcn']
    assert 'pyg_llminit.catalog' in graph['pyg_llminit.models']  # from .. import catalog


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_every_package_is_in_the_order():
    tops = {m.split('.')[1] for m in modules() if '.' in m}
    assert tops == {name for names in LAYERS for name in names}


def test_no_module_imports_from_a_later_package():
    upward = [f'{m} -> {t}' for m, targets in import_graph().items() for t in targets
              if layer(m) is not None and layer(t) is not None and layer(t) > layer(m)]
    assert upward == []
