"""Renderers of the four ones (四个一): a bulletin document as a page, an xlsx workbook and a PDF.

The evaluation builds the document (a plain dict, see `document`); these functions only lay it out.
"""

from .document import Document, DocumentError, parse_document
from .html import render_html, render_page
from .pdf import PdfFontMissing, to_pdf
from .xlsx import to_xlsx

__all__ = [
    "Document",
    "DocumentError",
    "PdfFontMissing",
    "parse_document",
    "render_html",
    "render_page",
    "to_pdf",
    "to_xlsx",
]
