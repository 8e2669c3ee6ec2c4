from matching.retrieval.texts import need_text, split_sentences, technology_text, text_hash
from tests.matching.conftest import BEARING_NEED, TECHNOLOGIES


def test_technology_text_has_title_description_and_labels():
    text = technology_text(TECHNOLOGIES[0])
    assert text.startswith("Vibration monitoring for predictive maintenance\n")
    assert "Categories: predictive maintenance, IoT sensors." in text
    assert "Sectors: metal, food." in text


def test_need_text_is_title_and_description():
    assert need_text(BEARING_NEED) == f"{BEARING_NEED.title}\n{BEARING_NEED.description}"


def test_split_sentences_keeps_numbers_and_merges_fragments():
    text = "Budget is 50.000 EUR. Ok. We weld 40 frame types! Is it 2.5 mm?\nNew line here"
    assert split_sentences(text) == [
        "Budget is 50.000 EUR.",
        "Ok. We weld 40 frame types!",
        "Is it 2.5 mm?",
        "New line here",
    ]


def test_text_hash_is_stable():
    assert text_hash("abc") == text_hash("abc") != text_hash("abd")
