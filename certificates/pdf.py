"""The certificate as a one-page PDF (reportlab): learner, achievement, date, and a QR code (qrcode)
to the public verification URL.

Text is set in DejaVu Sans (vendored in certificates/fonts/, with its licence), which has Latin and
Arabic glyphs. reportlab draws glyphs left to right without shaping, so Arabic text is first given
its joined letter forms (arabic-reshaper) and its visual order (python-bidi)."""

import io
import re
from functools import cache
from pathlib import Path

import arabic_reshaper
import qrcode
from bidi import get_display
from django.utils import formats
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .models import Certificate


def _draw_qr(pdf: canvas.Canvas, url: str, *, x: float, y: float, size: float) -> None:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    cell = size / len(matrix)
    pdf.setFillColor(HexColor("#000000"))
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                pdf.rect(x + col * cell, y + size - (row + 1) * cell, cell, cell, stroke=0, fill=1)


FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "KafaatSans", "KafaatSans-Bold"
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


@cache
def register_fonts() -> tuple[str, str]:
    pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    return REGULAR, BOLD


def shaped(text: str) -> str:
    """Text as reportlab must draw it: Arabic letters joined and laid out right to left."""
    if not _ARABIC.search(text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def certificate_pdf(*, certificate: Certificate, verify_url: str) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    # Uncompressed: a few KB more, and the text stays searchable by simple tools.
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=0)
    pdf.setTitle(f"{certificate.achievement_name} — {certificate.learner_name}")
    pdf.setAuthor("Kafaat")
    pdf.setStrokeColor(HexColor("#0d2c4a"))
    pdf.setLineWidth(6)
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setFillColor(HexColor("#0d2c4a"))
    pdf.setFont(BOLD, 34)
    pdf.drawCentredString(width / 2, height - 120, shaped(_("Certificate of completion")))
    pdf.setFont(REGULAR, 16)
    pdf.drawCentredString(width / 2, height - 170, shaped(_("This certifies that")))
    pdf.setFont(BOLD, 28)
    pdf.drawCentredString(width / 2, height - 215, shaped(certificate.learner_name))
    pdf.setFont(REGULAR, 16)
    kind = _("has completed the learning path") if certificate.path_id else _("has completed the course")
    pdf.drawCentredString(width / 2, height - 255, shaped(kind))
    pdf.setFont(BOLD, 22)
    pdf.drawCentredString(width / 2, height - 295, shaped(certificate.achievement_name))
    pdf.setFont(REGULAR, 14)
    date = formats.date_format(certificate.issued_at, "DATE_FORMAT")
    pdf.drawCentredString(width / 2, height - 335, shaped(_("Issued on %(date)s") % {"date": date}))
    _draw_qr(pdf, verify_url, x=60, y=60, size=120)
    pdf.setFont(REGULAR, 10)
    pdf.drawString(190, 110, shaped(_("Verify this certificate:")))
    pdf.drawString(190, 95, shaped(verify_url))
    pdf.drawString(190, 80, shaped(_("Certificate id: %(id)s") % {"id": certificate.id}))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
