"""kraken-push-contract: the contract of Kraken's registerPushNotificationBinding, clause by clause."""

__version__ = "0.1.0"
