"""The SDK's own version and what it needs from the sidecar (the version handshake)."""

__version__ = "0.1.0"

#: This SDK's name in the ``x-agentguard-sdk`` request header.
SDK_NAME = "agentguard-python"

#: The oldest sidecar (agentguard) version this SDK works with: the first with the version handshake.
MIN_SIDECAR_VERSION = "0.1.0"
