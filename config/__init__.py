"""Settings classes for crowd, read from the environment.

Pick one with ``CROWD_CONFIG`` (``development``, ``production`` or ``test``);
every value can be overridden with a ``CROWD_*`` environment variable.
"""
from config.settings import (
    BaseConfig,
    DevelopmentConfig,
    ProductionConfig,
    TestConfig,
    config_from_env,
)

__all__ = ["BaseConfig", "DevelopmentConfig", "ProductionConfig", "TestConfig", "config_from_env"]
