"""``python -m spatial.cli`` runs the ``ecozone`` command line."""

from spatial.cli import main

main()
