"""The code editor widget: a textarea that static/js/code_editor.js turns into a CodeMirror 6
Python editor (static/vendor/codemirror6, built by scripts/vendor_codemirror.sh). The page loads
the editor only where a form uses this widget; render its media with
`{% csp_nonce_attr form.media %}`, as CodeMirror's layout style is let in by that nonce. Without
JavaScript the plain textarea is used."""

from django import forms
from django.forms import Script


class CodeEditor(forms.Textarea):
    def __init__(self, attrs=None):
        # data-editor marks it for the editor: other monospace textareas (CSV, JSON, SQL, YAML)
        # share the class "code" and stay plain text.
        base = {"rows": 12, "cols": 80, "class": "code", "dir": "ltr", "spellcheck": "false", "data-editor": "python"}
        super().__init__({**base, **(attrs or {})})

    class Media:
        css = {"all": ["css/code_editor.css"]}
        js = [Script("vendor/codemirror6/editor.min.js", defer=True), Script("js/code_editor.js", defer=True)]
