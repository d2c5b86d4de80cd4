"""Registers the ``e2e`` marker: tests that start a real engine (``make e2e``)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: starts a real engine (E2E_ENGINE) on synthetic history"
    )
