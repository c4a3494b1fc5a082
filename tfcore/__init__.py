"""Shared building blocks of tfbert and tfgpt (imports nothing from them)."""

from tfcore.config import ConfigError, JsonConfig

__all__ = ["ConfigError", "JsonConfig"]
