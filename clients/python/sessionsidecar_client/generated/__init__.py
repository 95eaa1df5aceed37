"""Import shim: makes the protoc output in this folder importable as a package (not generated)."""
