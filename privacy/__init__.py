"""Privacy (top layer): export, erasure and retention, collected from each app's hooks. Empty
until those move out of accounts (issue 13); here so the import contracts name it."""
