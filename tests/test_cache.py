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
    stored = list(tmp_path.glob("dictmatch-*.marshal"))
    assert len(stored) == 1
    second = DictionaryTagger()
    assert _spans(second) == plain  # loaded from the cache
    assert second._lexicon is None  # matching did not need the lexicon itself
    assert len(plain) >= 5
    DictionaryTagger(min_term_length=4).tag_text(TEXT)  # other settings: another key, never the stale entry
    assert len(list(tmp_path.glob("dictmatch-*.marshal"))) == 2


def test_unreadable_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    DictionaryTagger().tag_text(TEXT)
    (entry,) = tmp_path.glob("dictmatch-*.marshal")
    entry.write_bytes(b"not marshal")
    monkeypatch.setenv("IMNER_CACHE_DIR", "off")
    want = _spans(DictionaryTagger())
    monkeypatch.setenv("IMNER_CACHE_DIR", str(tmp_path))
    assert _spans(DictionaryTagger()) == want
