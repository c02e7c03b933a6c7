"""Twitter/X: embed markup, canonical identity, and resolution without login."""
NAME = "twitter"
