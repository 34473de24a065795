"""Building the imd-cases corpus: projection of MACCROBAT2020 onto the twelve classes, disease-class
pre-assignment, pathogen pre-annotation, review files, split, and the silver corpora."""
