"""The twelve entity classes of docs/guidelines.md: name, description and display colour."""

from __future__ import annotations

from dataclasses import dataclass

from imner.errors import LabelError


@dataclass(frozen=True, slots=True)
class Label:
    name: str
    description: str
    color: str
    maccrobat: tuple[str, ...]


LABELS: tuple[Label, ...] = (
    Label("IMMUNE_DISEASE", "immune-mediated disease: autoimmune, autoinflammatory, allergic, immunodeficiency, "
          "vasculitis, transplant rejection/GVHD, immune-related adverse events", "#d62728", ("Disease_disorder",)),
    Label("INFECTIOUS_DISEASE", "infections and infectious syndromes, whatever the agent", "#ff7f0e",
          ("Disease_disorder",)),
    Label("OTHER_DISEASE", "any other disease or disorder (comorbidities, neoplasms, cardiovascular, metabolic)",
          "#8c564b", ("Disease_disorder",)),
    Label("PATHOGEN", "a microorganism, virus, parasite or fungus named as an agent, incl. strains and resistance "
          "phenotypes", "#9467bd", ()),
    Label("SIGN_SYMPTOM", "signs, symptoms and clinical findings reported for the patient", "#1f77b4",
          ("Sign_symptom",)),
    Label("ANATOMY", "body structures, organs, tissues, cells, body fluids as locations", "#2ca02c",
          ("Biological_structure",)),
    Label("DIAGNOSTIC_PROCEDURE", "tests, measurements, imaging, biopsies, examinations, cultures, serologies",
          "#17becf", ("Diagnostic_procedure",)),
    Label("LAB_VALUE", "the result of a test: numbers with units, titers, qualitative results", "#bcbd22",
          ("Lab_value",)),
    Label("MEDICATION", "drugs, biologics, vaccines, drug classes given or considered", "#e377c2", ("Medication",)),
    Label("THERAPEUTIC_PROCEDURE", "non-drug treatments and interventions", "#7f7f7f", ("Therapeutic_procedure",)),
    Label("SEVERITY", "severity, grade, acuity or course of a condition", "#aec7e8", ("Severity",)),
    Label("TEMPORAL", "dates, durations, times and frequencies of clinical events", "#98df8a",
          ("Date", "Duration", "Time", "Frequency")),
)

LABEL_NAMES: tuple[str, ...] = tuple(label.name for label in LABELS)
BY_NAME: dict[str, Label] = {label.name: label for label in LABELS}
DISEASE_LABELS: frozenset[str] = frozenset({"IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE"})


def get(name: str) -> Label:
    """The :class:`Label` called ``name``; a clear error listing the allowed names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise LabelError(f"unknown label {name!r}; allowed: {', '.join(LABEL_NAMES)}") from None


def color(name: str) -> str:
    """Display colour of a label; grey for labels outside the schema (e.g. a corpus's own types)."""
    label = BY_NAME.get(name)
    return label.color if label else "#c7c7c7"
