"""sms-gateway: SMS chats between contact-center agents and the public over USB GSM modems."""

__version__ = "0.1.0"
