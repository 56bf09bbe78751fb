"""The SQL kind's limits, in one place (documented in the package docstring). The harness that
runs in the sandbox gets them through its input file, so this module stays the only source."""

# The dataset (validated when the spec is; built outside the sandbox only with the script
# authorizer and these caps, inside it for every run).
MAX_DATASET_CHARS = 2 * 1024 * 1024  # CSV text or script, per dataset
MAX_TABLES = 20
MAX_COLUMNS = 50  # per CSV table, and per query result
MAX_DATASET_PAGES = 16384  # PRAGMA max_page_count at 4 KiB pages: a built database is at most 64 MiB
BUILD_STEPS = 50_000_000  # SQLite VM steps a dataset script may take
IDENTIFIER_CHARS = 64

# A query (the learner's or the reference), run in the sandbox.
MAX_QUERY_CHARS = 20_000
QUERY_STEPS = 200_000_000  # SQLite VM steps: a never-ending recursive CTE or a huge cross join stops here
QUERY_SECONDS = 2.0  # or here, whichever first (a big sort can overrun it: the sandbox's CPU limit is 5 s)
HEAP_BYTES = 256 * 1024 * 1024  # PRAGMA hard_heap_limit
MAX_VALUE_BYTES = 1_000_000  # SQLITE_LIMIT_LENGTH: a larger string or blob is an error
MAX_ROWS = 5000  # rows a result may have
MAX_CELL_CHARS = 10_000  # characters a result cell may have
MAX_OUTPUT_CHARS = 512 * 1024  # the whole result as JSON

# Grading.
DEFAULT_TOLERANCE = 1e-6  # absolute, on floats
PREVIEW_ROWS = 5  # rows of each table the learner's page shows
CHECK_ROWS = 10  # rows of the reference's result the builder's check shows
GREEDY_MATCH_ROWS = 300  # unordered results this small are also matched row by row (see compare)
