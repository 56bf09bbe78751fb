#!/bin/sh
# Reproduces static/vendor/codemirror6/: the CodeMirror 6 pieces that static/src/code_editor_entry.js
# exports, bundled and minified by esbuild into one file (the global `KafaatCodeMirror`), the
# licenses of every package in it, and the versions. Every version is pinned, transitive ones
# too, by scripts/codemirror6/package-lock.json; `npm ci` installs exactly those into a
# temporary directory, so the project's own package.json (test tools) is left alone. Run from
# the repository root:
#   sh scripts/vendor_codemirror.sh
# To move to newer versions: edit scripts/codemirror6/package.json, run
# `npm install --package-lock-only` in scripts/codemirror6/, then this script.
set -eu
ROOT="$(pwd)"
OUT="$ROOT/static/vendor/codemirror6"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$ROOT/scripts/codemirror6/package.json" "$ROOT/scripts/codemirror6/package-lock.json" "$WORK/"
cp "$ROOT/static/src/code_editor_entry.js" "$WORK/entry.js"
cd "$WORK"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p "$OUT"
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=KafaatCodeMirror \
  --target=es2020 --legal-comments=none --metafile=meta.json --log-level=warning \
  --banner:js="/* CodeMirror 6 for Kafaat (static/src/code_editor_entry.js), MIT license: see LICENSE and VERSION */" \
  --outfile="$OUT/editor.min.js"
# VERSION and LICENSE name each package whose code is in the bundle (esbuild's metafile).
node -e '
const fs = require("fs");
const output = Object.values(JSON.parse(fs.readFileSync("meta.json")).outputs)[0];
const inputs = Object.entries(output.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p);
const names = [...new Set(inputs.filter(p => p.startsWith("node_modules/"))
  .map(p => p.split("/").slice(1, p.split("/")[1].startsWith("@") ? 3 : 2).join("/")))].sort();
let versions = "", licenses = "";
for (const name of names) {
  const dir = "node_modules/" + name;
  const pkg = JSON.parse(fs.readFileSync(dir + "/package.json"));
  versions += name + " " + pkg.version + "\n";
  const file = fs.readdirSync(dir).find(f => /^licen[cs]e/i.test(f));
  licenses += "== " + name + " " + pkg.version + " (" + pkg.license + ") ==\n\n" +
    (file ? fs.readFileSync(dir + "/" + file, "utf8").trim() : "License: " + pkg.license) + "\n\n";
}
fs.writeFileSync(process.argv[1] + "/VERSION", versions);
fs.writeFileSync(process.argv[1] + "/LICENSE", licenses);
' "$OUT"
# The pre-compressed copy WhiteNoise sends to browsers that accept gzip.
"${PYTHON:-python3}" "$ROOT/scripts/compress_vendor.py"
