"""``crf.v1``: a linear-chain CRF (python-crfsuite, :mod:`.tagger`) over hand-made features (:mod:`.features`)."""
