"""imsdata: the GST Invoice Management System month in Python, locally and fast."""

import warnings

__version__ = "0.1.0"

# With the spark extra installed, `import pandera` imports pyspark.pandas, which warns about
# pandas 3 on every start; imsdata never uses pyspark.pandas (issue 16).
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
