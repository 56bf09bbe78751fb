#!/bin/sh
# Reproduces static/vendor/codemirror/: CodeMirror 5 (core + the Python mode) minified into one
# file, its CSS, and its license. The version is pinned; run from the repository root:
#   sh scripts/vendor_codemirror.sh
set -eu
VERSION=5.65.21
TERSER=5.51.4
OUT="$(pwd)/static/vendor/codemirror"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "codemirror@$VERSION" >/dev/null
tar xzf "codemirror-$VERSION.tgz"
mkdir -p "$OUT"
cat package/lib/codemirror.js package/mode/python/python.js > bundle.js
npx --yes "terser@$TERSER" bundle.js --compress --mangle \
  --preamble "/* CodeMirror $VERSION (core + mode/python), MIT license: see LICENSE */" \
  --output "$OUT/codemirror.min.js"
# The CSS: comments and indentation dropped, nothing else changed.
perl -0pe 's#/\*.*?\*/##gs' package/lib/codemirror.css | sed -e 's/^[[:space:]]*//' -e '/^$/d' > "$OUT/codemirror.min.css"
cp package/LICENSE "$OUT/LICENSE"
echo "$VERSION" > "$OUT/VERSION"
