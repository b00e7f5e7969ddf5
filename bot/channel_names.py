"""The channels' names, as the streams, the counts and the console record them."""

WEB = "web"
TELEGRAM = "telegram"
LINE = "line"
