"""The code editor widget: a textarea that static/js/code_editor.js turns into a CodeMirror
Python editor. The page loads the editor only where a form uses this widget ({{ form.media }});
without JavaScript the plain textarea is used."""

from django import forms
from django.forms import Script


class CodeEditor(forms.Textarea):
    def __init__(self, attrs=None):
        base = {"rows": 12, "cols": 80, "class": "code", "dir": "ltr", "spellcheck": "false"}
        super().__init__({**base, **(attrs or {})})

    class Media:
        css = {"all": ["vendor/codemirror/codemirror.min.css", "css/code_editor.css"]}
        js = [Script("vendor/codemirror/codemirror.min.js", defer=True), Script("js/code_editor.js", defer=True)]
