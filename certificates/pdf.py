"""The certificate as a one-page PDF (reportlab): learner, achievement, date, and a QR code (qrcode)
to the public verification URL."""

import io

import qrcode
from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
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


def certificate_pdf(*, certificate: Certificate, verify_url: str) -> bytes:
    # Helvetica has no Arabic glyphs and reportlab does not shape Arabic without extra fonts: a
    # right-to-left interface gets the French labels on the PDF (the HTML pages stay in Arabic).
    if translation.get_language_bidi():
        with translation.override("fr"):
            return _render(certificate=certificate, verify_url=verify_url)
    return _render(certificate=certificate, verify_url=verify_url)


def _render(*, certificate: Certificate, verify_url: str) -> bytes:
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
    pdf.setFont("Helvetica-Bold", 34)
    pdf.drawCentredString(width / 2, height - 120, _("Certificate of completion"))
    pdf.setFont("Helvetica", 16)
    pdf.drawCentredString(width / 2, height - 170, _("This certifies that"))
    pdf.setFont("Helvetica-Bold", 28)
    pdf.drawCentredString(width / 2, height - 215, certificate.learner_name)
    pdf.setFont("Helvetica", 16)
    kind = _("has completed the learning path") if certificate.path_id else _("has completed the course")
    pdf.drawCentredString(width / 2, height - 255, kind)
    pdf.setFont("Helvetica-Bold", 22)
    pdf.drawCentredString(width / 2, height - 295, certificate.achievement_name)
    pdf.setFont("Helvetica", 14)
    date = formats.date_format(certificate.issued_at, "DATE_FORMAT")
    pdf.drawCentredString(width / 2, height - 335, _("Issued on %(date)s") % {"date": date})
    _draw_qr(pdf, verify_url, x=60, y=60, size=120)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(190, 110, _("Verify this certificate:"))
    pdf.drawString(190, 95, verify_url)
    pdf.drawString(190, 80, _("Certificate id: %(id)s") % {"id": certificate.id})
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
