"""Registers the ``e2e`` marker: tests that start a real Prometheus (``make e2e``)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: starts a real Prometheus server on synthetic history")
