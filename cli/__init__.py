"""The ``checkout-saga`` command line: an entry point beside the HTTP API."""
