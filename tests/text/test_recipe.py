import pytest

from pyg_llminit.datasets import build_interaction_graph
from pyg_llminit.errors import UserInputError
from pyg_llminit.text import item_texts, recipe_identity


def graph(text):
    r"""Three items i0..i2 rated by two users, with the given ``{field: {item: text}}``."""
    users = ['u0', 'u0', 'u0', 'u1', 'u1']
    items = ['i0', 'i1', 'i2', 'i0', 'i2']
    return build_interaction_graph(users, items, item_text=text)


@pytest.fixture
def data():
    return graph({
        'title': {'i0': 'Essie Nail Polish', 'i1': 'DHS Clear\n  Shampoo', 'i2': 'Eyeliner'},
        'brand': {'i0': 'Essie', 'i1': '', 'i2': 'Fran Wilson'},
        'categories': {'i0': 'Beauty > Nails', 'i2': 'Beauty > Eyes'},
    })


def test_default_is_the_title(data):
    assert item_texts(data) == ['Essie Nail Polish', 'DHS Clear Shampoo', 'Eyeliner']
    assert item_texts(data, 'title') == item_texts(data, ['title'])


def test_fields_are_labelled_and_empty_ones_skipped(data):
    assert item_texts(data, ('title', 'brand')) == [
        'Title: Essie Nail Polish; Brand: Essie', 'Title: DHS Clear Shampoo',
        'Title: Eyeliner; Brand: Fran Wilson']
    assert item_texts(data, 'brand, title')[0] == 'Brand: Essie; Title: Essie Nail Polish'
    everything = item_texts(data, None)
    assert everything[0] == 'Title: Essie Nail Polish; Brand: Essie; Categories: Beauty > Nails'
    assert everything[1] == 'Title: DHS Clear Shampoo'


def test_template(data):
    assert item_texts(data, template='{title} by {brand}') == [
        'Essie Nail Polish by Essie', 'DHS Clear Shampoo by', 'Eyeliner by Fran Wilson']
    assert item_texts(data, template='{title:.4}')[1] == 'DHS'


def test_missing_field_names_it_and_lists_the_others(data):
    with pytest.raises(UserInputError) as err:
        item_texts(data, ('title', 'description'))
    msg = str(err.value)
    assert "'description'" in msg and 'title, brand, categories' in msg
    with pytest.raises(UserInputError, match="'price'"):
        item_texts(data, template='{title} costs {price}')


@pytest.mark.parametrize('template', ['{}', '{0}', 'no field', '{title', '{title!z}'])
def test_bad_templates(data, template):
    with pytest.raises(UserInputError, match='template'):
        item_texts(data, template=template)


def test_no_item_text_at_all():
    with pytest.raises(UserInputError, match='empty'):
        item_texts(graph(None))  # the loaders give every graph a title, maybe all ''
    with pytest.raises(UserInputError, match='empty'):
        item_texts(graph({'title': {'i0': ' ', 'i1': ''}}))
    with pytest.raises(UserInputError, match='no item text field'):
        item_texts(graph({'title': {'i0': 'x'}}), ())


def test_recipe_identity():
    base = recipe_identity()
    assert base == recipe_identity('title') == recipe_identity(['title'])
    others = {recipe_identity(('title', 'brand')), recipe_identity(('brand', 'title')),
              recipe_identity(None), recipe_identity(template='{title}'),
              recipe_identity(template='{title} by {brand}')}
    assert base not in others and len(others) == 5
    assert isinstance(base, str)
