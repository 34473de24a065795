"""Building the packaged lexicon index from the stored vocabularies (``imner build lexicon``)."""
