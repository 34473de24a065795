"""imner: immune-mediated and infectious disease entity recognition for clinical text.

The public data model lives in :mod:`imner.types`; the twelve labels in :mod:`imner.schema`.
"""

from imner.types import Document, Span

__version__ = "0.1.0"
__all__ = ["Document", "Span", "__version__"]
