/* Turns every <textarea data-editor="python"> (the CodeEditor widget) into a CodeMirror 6 Python editor (the global
   KafaatCodeMirror, static/vendor/codemirror6/editor.min.js): highlighting, indentation, bracket
   matching and closing, line numbers. The textarea stays in the form, hidden, and is kept in
   sync, so the post carries the code; without JavaScript the plain textarea is used. The editor
   is always left to right, in Arabic pages too. Tab indents; Escape then Tab leaves the editor
   (CodeMirror's own escape hatch: no keyboard trap).

   CodeMirror writes its layout rules into a <style> element; the page's CSP lets it in by the
   nonce this script's own <script> tag carries (templates render the widget's media with
   {% csp_nonce_attr form.media %}). Colours are ours: tokens get tok-* classes
   (classHighlighter), styled in static/css/code_editor.css.

   Tests and other scripts reach an editor through its textarea: textarea.kafaatEditor.setValue(code). */
(function () {
  "use strict";

  var NONCE = document.currentScript ? document.currentScript.nonce : "";

  /* The field's accessible name, for the editor's own input: its <label>, its aria-label, or the
     legend of the fieldset it is the only field of. */
  function labelText(textarea) {
    var label = textarea.id ? document.querySelector('label[for="' + textarea.id + '"]') : null;
    if (label) { return label.textContent.trim(); }
    if (textarea.getAttribute("aria-label")) { return textarea.getAttribute("aria-label"); }
    var fieldset = textarea.closest("fieldset");
    var legend = fieldset ? fieldset.querySelector("legend") : null;
    return legend ? legend.textContent.trim() : "";
  }

  /* ARIA attributes the editor's input takes over from the textarea it stands in for. */
  function contentAttributes(textarea) {
    var attrs = {};
    var name = labelText(textarea);
    if (name) { attrs["aria-label"] = name; }
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (key) {
      if (textarea.getAttribute(key)) { attrs[key] = textarea.getAttribute(key); }
    });
    return attrs;
  }

  function attach(textarea) {
    var CM = window.KafaatCodeMirror;
    if (textarea.getAttribute("data-editor") === "on" || !CM) { return; }
    textarea.setAttribute("data-editor", "on");
    var readOnly = textarea.readOnly || textarea.disabled;
    var view = new CM.EditorView({
      state: CM.EditorState.create({
        doc: textarea.value,
        extensions: [
          CM.lineNumbers(),
          CM.highlightSpecialChars(),
          CM.history(),
          CM.drawSelection(),
          CM.indentUnit.of("    "),
          CM.EditorState.tabSize.of(4),
          CM.pythonLanguage,
          CM.indentOnInput(),
          CM.syntaxHighlighting(CM.classHighlighter),
          CM.bracketMatching(),
          CM.closeBrackets(),
          CM.keymap.of([].concat(CM.closeBracketsKeymap, CM.defaultKeymap, CM.historyKeymap, [CM.indentWithTab])),
          CM.EditorState.readOnly.of(readOnly),
          CM.EditorView.editable.of(!readOnly),
          CM.EditorView.cspNonce.of(NONCE || ""),
          CM.EditorView.editorAttributes.of({ "class": "code-editor", dir: "ltr" }),
          CM.EditorView.contentAttributes.of(contentAttributes(textarea)),
          CM.EditorView.updateListener.of(function (update) {
            if (update.docChanged) { textarea.value = update.state.doc.toString(); }
          })
        ]
      })
    });
    textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
    textarea.hidden = true;
    textarea.kafaatEditor = {
      view: view,
      getValue: function () { return view.state.doc.toString(); },
      setValue: function (code) {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
      }
    };
    if (textarea.id) {
      var label = document.querySelector('label[for="' + textarea.id + '"]');
      if (label) { label.addEventListener("click", function () { view.focus(); }); }
    }
  }

  function attachAll(root) {
    var found = (root || document).querySelectorAll("textarea[data-editor=python]");
    for (var i = 0; i < found.length; i++) { attach(found[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { attachAll(document); });
  } else {
    attachAll(document);
  }
  document.addEventListener("htmx:load", function (event) { attachAll(event.target); });
})();
