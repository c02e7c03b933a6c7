"""archiver: keeps the social-media posts that news articles embed."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("archiver")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
