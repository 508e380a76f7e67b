"""`coach report`: one self-contained HTML page (and a PDF through headless Chromium) of a user's
history, to show a physiotherapist or chiropractor."""

from coach.report.data import ReportData, build_report
from coach.report.html import render_html
from coach.report.pdf import find_chromium, html_to_pdf, screenshot
from coach.report.write import write_private

__all__ = ["ReportData", "build_report", "find_chromium", "html_to_pdf", "render_html", "screenshot",
           "write_private"]
