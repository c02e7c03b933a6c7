"""Twitter/X: embed markup, canonical identity, and resolution without login."""
NAME = "twitter"
from archiver.platforms.twitter.resolve import classify, lookups
from archiver.platforms.twitter.markup import detect
from archiver.platforms.twitter.ids import identify
