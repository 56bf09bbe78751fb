/* The CodeMirror 6 pieces that static/js/code_editor.js puts together into the Python editor.
   scripts/vendor_codemirror.sh bundles this file with esbuild into
   static/vendor/codemirror6/editor.min.js, where they are the global `KafaatCodeMirror`. Export
   only what code_editor.js uses: esbuild leaves out everything else. */
export { EditorState } from "@codemirror/state";
export { EditorView, drawSelection, highlightSpecialChars, keymap, lineNumbers } from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
export { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
export { pythonLanguage } from "@codemirror/lang-python";
export { classHighlighter } from "@lezer/highlight";
