"""The areas of session.py, one module each, each with run(recorder, connection, options)."""
