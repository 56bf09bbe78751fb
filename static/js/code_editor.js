/* Turns every <textarea class="code"> into a CodeMirror Python editor (static/vendor/codemirror).
   The textarea stays in the form and is kept in sync, so the post carries the code; without
   JavaScript the plain textarea is used. The editor is always left to right, in Arabic pages too.
   Tab indents; Escape then Tab leaves the editor (no keyboard trap). */
(function () {
  "use strict";

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

  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function focusAfter(element) {
    var all = document.querySelectorAll(FOCUSABLE);
    for (var i = 0; i < all.length; i++) {
      var next = all[i];
      if (!element.contains(next) && next.offsetParent !== null &&
          (element.compareDocumentPosition(next) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        next.focus();
        return;
      }
    }
  }

  function attach(textarea) {
    if (textarea.getAttribute("data-editor") === "on" || typeof window.CodeMirror !== "function") { return; }
    textarea.setAttribute("data-editor", "on");
    var editor = window.CodeMirror.fromTextArea(textarea, {
      mode: "python",
      direction: "ltr",
      lineNumbers: true,
      indentUnit: 4,
      tabSize: 4,
      indentWithTabs: false,
      lineWrapping: false,
      viewportMargin: Infinity,
      readOnly: textarea.readOnly || textarea.disabled,
      extraKeys: {
        Tab: function (cm) {
          if (cm.somethingSelected()) { cm.indentSelection("add"); return; }
          cm.replaceSelection("    ", "end");
        },
        "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
        Esc: function (cm) { focusAfter(cm.getWrapperElement()); }
      }
    });
    var wrapper = editor.getWrapperElement();
    wrapper.setAttribute("dir", "ltr");
    var input = editor.getInputField();
    var name = labelText(textarea);
    if (name) { input.setAttribute("aria-label", name); }
    var described = textarea.getAttribute("aria-describedby");
    if (described) { input.setAttribute("aria-describedby", described); }
    if (textarea.getAttribute("aria-invalid")) { input.setAttribute("aria-invalid", textarea.getAttribute("aria-invalid")); }
    editor.on("change", function () { editor.save(); });
    if (textarea.id) {
      var label = document.querySelector('label[for="' + textarea.id + '"]');
      if (label) { label.addEventListener("click", function () { editor.focus(); }); }
    }
  }

  function attachAll(root) {
    var found = (root || document).querySelectorAll("textarea.code");
    for (var i = 0; i < found.length; i++) { attach(found[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { attachAll(document); });
  } else {
    attachAll(document);
  }
  document.addEventListener("htmx:load", function (event) { attachAll(event.target); });
})();
