"""The on-disk cache of the lexicon matcher's tables (imner.cache): same matches with and without it."""

from imner import cache
from imner.taggers.dictionary import DictionaryTagger

TEXT = ("A 34-year-old woman with SLE and systemic lupus erythematosus had seizures, viral myocarditis and "
        "Staphylococcus aureus bacteremia; ra and dress are not entities. She took prednisone.")


def _spans(tagger):
    return [(s.start, s.end, s.label, dict(s.attrs)) for s in tagger.tag_text(TEXT)]


def test_cached_tables_give_the_same_matches(tmp_path, monkeypatch):
    monkeypatch.setenv("IMNER_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    plain = _spans(DictionaryTagger())
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    first = DictionaryTagger()
    assert _spans(first) == plain  # compiled, then stored
    stored = list(tmp_path.glob("dictfirst-*.marshal"))
    assert len(stored) == 1
    second = DictionaryTagger()
    assert _spans(second) == plain  # loaded from the cache
    table, _ = second._compile()
    assert len(table._memo) < 100  # entries read from the lexicon only for the keys the text tried
    assert len(plain) >= 5
    DictionaryTagger(min_term_length=4).tag_text(TEXT)  # other settings: another key, never the stale entry
    assert len(list(tmp_path.glob("dictfirst-*.marshal"))) == 2


def test_unreadable_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    DictionaryTagger().tag_text(TEXT)
    (entry,) = tmp_path.glob("dictfirst-*.marshal")
    entry.write_bytes(b"not marshal")
    monkeypatch.setenv("IMNER_CACHE_DIR", "off")
    want = _spans(DictionaryTagger())
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    assert _spans(DictionaryTagger()) == want


def test_lexicon_and_icd10cm_tables_from_the_cache_equal_the_parsed_files(tmp_path, monkeypatch):
    import gzip

    import pytest

    from imner import lexicon as lexmod
    from imner.errors import FormatError
    from imner.normalize import icd10cm

    def state(lex):
        return lex._lines, lex._terms, lex.abbreviations, lex.curated, lex._xref_text, lex.info

    monkeypatch.setenv("IMNER_CACHE_DIR", "off")
    path = lexmod.default_index_path()
    raw = path.read_bytes()
    plain = lexmod.Lexicon(lexmod.read_index(path, raw))  # the tables parsed from their strings, no cache
    terms = icd10cm._read_terms(icd10cm.TERMS_FILE)
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    for _ in range(2):  # stored, then loaded
        cached = lexmod.Lexicon(lexmod._parsed_index(path, raw, "sha"))
        assert state(cached) == state(plain)
        assert icd10cm._read_terms(icd10cm.TERMS_FILE) == terms
    assert len(list(tmp_path.glob("lexicon-*.marshal"))) == 1 and len(list(tmp_path.glob("icd10cm-*.marshal"))) == 1
    assert cached.id_label_at(0) == (plain._lines[0].split("\t")[0], plain._lines[0].split("\t")[2])
    # the one-split parse of both tables: lines that do not pair up are read line by line (or named)
    assert lexmod._parse_terms("a\t1,2\nb\t3") == {"a": "1,2", "b": "3"}
    assert lexmod._parse_terms("a\nb\t2\tx") == {"a": "", "b": "2\tx"}
    bad = tmp_path / "bad.tsv.gz"
    bad.write_bytes(gzip.compress("a\tB1\tx\nb\tC2\ty\tz\nc\tD\n".encode()))  # 3 tabs, then 1: counts add up
    with pytest.raises(FormatError, match="line 2"):
        icd10cm._read_terms(bad)


def test_secondary_and_fuzzy_indexes_from_the_cache_equal_the_built_ones(tmp_path, monkeypatch):
    import numpy as np

    from imner.lexicon import load_lexicon
    from imner.normalize import fuzzy, matcher

    lex = load_lexicon()
    monkeypatch.setenv("IMNER_CACHE_DIR", "off")
    built_sec = matcher._SecondaryIndex(lex.keys())
    extra = {"lupus flare": "DOID:9074"}
    built = fuzzy.FuzzyIndex(fuzzy.disease_keys(lex, extra))
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    for _ in range(2):  # stored, then loaded
        matcher._SECONDARY.pop(lex, None)
        sec = matcher._secondary(lex)
        assert (sec._compact, sec._sorted) == (built_sec._compact, built_sec._sorted)
        idx = fuzzy.build_once({}, lex, extra)
        assert (idx._keys, idx._ids, idx._max_idf, len(idx)) == (built._keys, built._ids, built._max_idf, len(built))
        for name in fuzzy.FuzzyIndex._ARRAYS:
            a, b = getattr(idx, name), getattr(built, name)
            assert a.dtype == b.dtype and np.array_equal(a, b)
        for q in ("systemic lupus erythematosis", "rheumatoid arthritis", "pneumonia bacterial"):
            assert idx.nearest(q) == built.nearest(q)
    assert len(list(tmp_path.glob("secondary-*.marshal"))) == 1 and len(list(tmp_path.glob("fuzzy-*.marshal"))) == 1
    fuzzy.build_once({}, lex, {"another table": "DOID:9074"})  # another extra table: another entry
    assert len(list(tmp_path.glob("fuzzy-*.marshal"))) == 2


def test_model_vocabulary_from_the_cache_equals_the_json(tmp_path, monkeypatch):
    import json

    from imner.pipeline import DEFAULT_MODEL_DIR
    from imner.taggers.bilstm.onnx import _read_vocab

    path = DEFAULT_MODEL_DIR / "vocab.json"
    vocab = json.loads(path.read_text(encoding="utf-8"))
    want = tuple({x: i for i, x in enumerate(vocab[k])} for k in ("words", "chars", "lexicon_tags"))
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    assert _read_vocab(path) == want and _read_vocab(path) == want  # stored, then loaded
    assert len(list(tmp_path.glob("vocab-*.marshal"))) == 1
