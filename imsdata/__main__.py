"""`python -m imsdata` runs the command line."""

from imsdata.cli import main

main()
