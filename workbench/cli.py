"""The `workbench` command line: thin handlers around library calls."""
